"""Audit-log rows in the catalog: append, read back unsealed entries, mark them sealed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from archiver.db import schema as t


def last_link(conn: Connection) -> tuple[int, str] | None:
    """(sequence, hash) of the newest entry, which the next entry chains to."""
    row = conn.execute(select(t.AuditEvent.seq, t.AuditEvent.hash).order_by(t.AuditEvent.seq.desc()).limit(1)).first()
    return None if row is None else (int(row.seq), str(row.hash))


def insert_entry(conn: Connection, *, seq: int, at: datetime, actor: str, action: str, target: str | None,
                 outcome: str, details: Mapping[str, Any], previous_hash: str, hash_: str,
                 sealed_in: str | None = None) -> None:
    conn.execute(insert(t.AuditEvent).values(
        seq=seq, at=at, actor=actor, action=action, target=target, outcome=outcome, details=dict(details),
        previous_hash=previous_hash, hash=hash_, sealed_in=sealed_in))


def unsealed_entries(conn: Connection) -> list[dict[str, Any]]:
    query = select(t.AuditEvent).where(t.AuditEvent.sealed_in.is_(None)).order_by(t.AuditEvent.seq)
    return [dict(row._mapping) for row in conn.execute(query)]


def mark_sealed(conn: Connection, seqs: Sequence[int], key: str) -> None:
    conn.execute(update(t.AuditEvent).where(t.AuditEvent.seq.in_(list(seqs))).values(sealed_in=key))
