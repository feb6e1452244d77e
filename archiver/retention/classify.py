"""A records officer's inputs to the schedules: explicit item assignments and dated events.

An *assignment* files a record under a named schedule item, overriding what its facts match (a
comment the agency acted on outside the platform, a record no item covers, two items that both
do). An *event* starts an event-based retention period: ``final_action`` on a request, an account
``account_closed``, ``no_longer_needed`` for transitory records. Both are kept in the store as the
source of truth (``retention/assignments/`` and ``retention/events/``, one object per change, replayed
in order by `arsip rebuild`), mirrored in the catalog, and audited; eligibility is recomputed from
them at every evaluation.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.audit import audit
from archiver.clock import isoformat_z, parse_timestamp
from archiver.db.catalog import Connection
from archiver.db.retention_rows import (
    RetentionEventRow,
    known_accounts,
    save_assignments,
    save_event,
)
from archiver.errors import InputError
from archiver.retention.holds import require_officer, unknown_records
from archiver.retention.schedules import schedules_in_force
from archiver.store.base import BlobStore
from archiver.wiring import Archive
from retention_policies.errors import PolicyError

ASSIGNMENTS_PREFIX = "retention/assignments/"
EVENTS_PREFIX = "retention/events/"
MAX_REASON = 2000


@dataclass(frozen=True)
class Assignment:
    """One change: ``records`` filed under ``item_id``, or returned to matching when it is None."""

    records: tuple[str, ...]
    item_id: str | None
    reason: str
    by: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"records": list(self.records), "item": self.item_id, "reason": self.reason, "by": self.by,
                "at": isoformat_z(self.at)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Assignment:
        return cls(records=tuple(data["records"]), item_id=data["item"], reason=data["reason"], by=data["by"],
                   at=parse_timestamp(data["at"]))


def assign(archive: Archive, record_ids: Sequence[str], *, item_id: str | None, reason: str,
           actor: str) -> Assignment:
    """File records under ``item_id`` (None: back to matching by their facts)."""
    require_officer(archive, actor, "assign schedule items")
    _require_reason(reason)
    if not record_ids:
        raise InputError("name at least one record to assign", code="no_records")
    if item_id is not None:
        try:
            schedules_in_force(archive, actor=actor).item(item_id)
        except PolicyError as exc:
            raise InputError(str(exc), code="item_unknown") from None
    with archive.catalog.begin() as conn:
        _require_records(conn, record_ids)
        change = Assignment(records=tuple(sorted(set(record_ids))), item_id=item_id, reason=reason.strip(),
                            by=actor, at=archive.clock.now())
        save_assignments(conn, change.records, item_id=item_id, reason=change.reason, by=actor, at=change.at)
        _publish(archive.store, ASSIGNMENTS_PREFIX, change.at, change.to_json())
    audit(archive, actor=actor, action="retention.assign", target=None,
          details={"item": item_id, "records": len(change.records), "reason": change.reason})
    return change


def record_event(archive: Archive, name: str, *, at: datetime, account_id: str | None,
                 record_ids: Sequence[str], actor: str) -> list[RetentionEventRow]:
    """Record that ``name`` happened ``at`` for an account (all its records) or for named records."""
    require_officer(archive, actor, "record retention events")
    used = _events_in_force(archive, actor)
    if name not in used:
        raise InputError(f"no schedule item in force starts its period at event {name!r}; events in use: "
                         f"{', '.join(sorted(used)) or 'none'}", code="event_unknown")
    if (account_id is None) == (not record_ids):
        raise InputError("name either one account (--account) or records (--record)", code="event_target")
    if at > archive.clock.now():
        raise InputError(f"event date {at.date().isoformat()} is in the future; record events once they have "
                         "happened", code="event_future")
    recorded = archive.clock.now()
    with archive.catalog.begin() as conn:
        if account_id is not None and account_id not in known_accounts(conn, [account_id]):
            raise InputError(f"no account {account_id!r}; see `arsip accounts list`", code="account_unknown")
        _require_records(conn, record_ids)
        targets: list[tuple[str | None, str | None]] = (
            [(account_id, None)] if account_id is not None else [(None, r) for r in sorted(set(record_ids))])
        rows = [RetentionEventRow(id=f"e-{secrets.token_hex(8)}", account_id=acc, record_id=rec, name=name, at=at,
                                  recorded_by=actor, recorded_at=recorded) for acc, rec in targets]
        for row in rows:
            save_event(conn, row)
        _publish(archive.store, EVENTS_PREFIX, recorded, {"events": [_event_json(r) for r in rows]})
    audit(archive, actor=actor, action="retention.event", target=f"account:{account_id}" if account_id else None,
          details={"event": name, "at": isoformat_z(at), "records": len(record_ids)})
    return rows


def restore_classification(store: BlobStore, conn: Connection) -> dict[str, int]:
    """Replay every stored assignment and event into an empty catalog (`arsip rebuild`)."""
    counts = {"schedule_assignments": 0, "retention_events": 0}
    for data in _stored(store, ASSIGNMENTS_PREFIX):
        change = Assignment.from_json(data)
        save_assignments(conn, change.records, item_id=change.item_id, reason=change.reason, by=change.by,
                         at=change.at)
        counts["schedule_assignments"] += 1
    for data in _stored(store, EVENTS_PREFIX):
        for event in data["events"]:
            save_event(conn, RetentionEventRow(
                id=event["id"], account_id=event["account_id"], record_id=event["record_id"], name=event["name"],
                at=parse_timestamp(event["at"]), recorded_by=event["recorded_by"],
                recorded_at=parse_timestamp(event["recorded_at"])))
            counts["retention_events"] += 1
    return counts


def _events_in_force(archive: Archive, actor: str) -> set[str]:
    return {item.cutoff.event for item in schedules_in_force(archive, actor=actor).items if item.cutoff.event}


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip() or len(reason) > MAX_REASON:
        raise InputError(f"give a reason of 1-{MAX_REASON} characters (--reason)", code="bad_reason")


def _require_records(conn: Connection, record_ids: Sequence[str]) -> None:
    missing = unknown_records(conn, list(record_ids))
    if missing:
        raise InputError(f"{len(missing)} records are not in the archive or were already disposed of "
                         f"(first: {missing[0]!r}); nothing was recorded", code="record_unknown")


def _event_json(row: RetentionEventRow) -> dict[str, Any]:
    return {"id": row.id, "account_id": row.account_id, "record_id": row.record_id, "name": row.name,
            "at": isoformat_z(row.at), "recorded_by": row.recorded_by, "recorded_at": isoformat_z(row.recorded_at)}


def _publish(store: BlobStore, prefix: str, at: datetime, body: dict[str, Any]) -> None:
    """Numbered objects sort in the order of the changes, so a rebuild replays them in that order (two
    writers racing for one number: the second fails rather than overwrite)."""
    number = sum(1 for _ in store.list(prefix)) + 1
    key = f"{prefix}{number:08d}-{at:%Y%m%dT%H%M%SZ}.json"
    store.put_bytes(key, json.dumps(body, indent=1, ensure_ascii=False).encode(), content_type="application/json",
                    if_absent=True)


def _stored(store: BlobStore, prefix: str) -> list[dict[str, Any]]:
    return [json.loads(store.get_bytes(key))
            for key in sorted(item.key for item in store.list(prefix) if item.key.endswith(".json"))]
