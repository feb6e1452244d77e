"""The hash-chained audit log: who did what, to what, with what outcome; no role can edit it.

Entries live in the catalog for querying and are sealed into ``audit/`` segments in the object
store (the source of truth), so a rebuilt catalog has the same chain and an auditor can verify it
without the server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.clock import isoformat_z, parse_timestamp
from archiver.db.audit_rows import insert_entry, last_link, mark_sealed, unsealed_entries
from archiver.db.catalog import Connection, DuplicateRow
from archiver.errors import IntegrityError
from archiver.integrity.envelope import canonical_json
from archiver.wiring import Archive

AUDIT_PREFIX = "audit/"
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    details: Mapping[str, Any]
    previous_hash: str

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": isoformat_z(self.at), "actor": self.actor, "action": self.action,
                "target": self.target, "outcome": self.outcome, "details": dict(self.details),
                "previous": self.previous_hash}

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.body())).hexdigest()


def audit(archive: Archive, *, actor: str, action: str, target: str | None, outcome: str = "ok",
          details: Mapping[str, Any] | None = None) -> AuditEntry:
    """Append one entry to the chain (retrying if another process appended at the same moment)."""
    for _attempt in range(5):
        try:
            with archive.catalog.begin() as conn:
                return append_entry(conn, at=archive.clock.now(), actor=actor, action=action, target=target,
                                    outcome=outcome, details=details or {})
        except DuplicateRow:
            continue
    raise IntegrityError("could not append to the audit log after 5 attempts; is another process "
                         "writing continuously?", code="audit_contention")


def append_entry(conn: Connection, *, at: datetime, actor: str, action: str, target: str | None,
                 outcome: str, details: Mapping[str, Any]) -> AuditEntry:
    last = last_link(conn)
    seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target, outcome=outcome,
                       details=json.loads(json.dumps(dict(details), default=str)), previous_hash=previous)
    insert_entry(conn, seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action, target=entry.target,
                 outcome=entry.outcome, details=entry.details, previous_hash=entry.previous_hash, hash_=entry.hash)
    return entry


def seal(archive: Archive) -> str | None:
    """Write not-yet-sealed entries as one segment object; returns its key (None if nothing new)."""
    with archive.catalog.begin() as conn:
        rows = unsealed_entries(conn)
        if not rows:
            return None
        key = f"{AUDIT_PREFIX}{rows[0]['seq']:012d}-{rows[-1]['seq']:012d}.jsonl"
        lines = [json.dumps({**_entry(row).body(), "hash": row["hash"]}, separators=(",", ":")) for row in rows]
        archive.store.put_bytes(key, ("\n".join(lines) + "\n").encode(), content_type="application/x-ndjson")
        mark_sealed(conn, [row["seq"] for row in rows], key)
    return key


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Check a sequence of entry bodies (with their ``hash``); returns one line per broken link."""
    problems = []
    previous, expected_seq = GENESIS, 1
    for data in entries:
        entry = parse_entry(data)
        if entry.seq != expected_seq:
            problems.append(f"audit entry {entry.seq}: expected sequence {expected_seq} (entries missing)")
        if entry.previous_hash != previous:
            problems.append(f"audit entry {entry.seq}: does not chain to the entry before it")
        if entry.hash != data.get("hash"):
            problems.append(f"audit entry {entry.seq}: content does not match its hash (altered)")
        previous, expected_seq = str(data.get("hash")), entry.seq + 1
    return problems


def parse_entry(data: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(seq=int(data["seq"]), at=parse_timestamp(data["at"]), actor=data["actor"],
                      action=data["action"], target=data["target"], outcome=data["outcome"],
                      details=data["details"], previous_hash=data["previous"])


def _entry(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(seq=row["seq"], at=row["at"], actor=row["actor"], action=row["action"], target=row["target"],
                      outcome=row["outcome"], details=row["details"], previous_hash=row["previous_hash"])
