"""Catalog rows of retention: holds, schedule assignments, retention events, disposition batches and
tombstones, plus the streaming reads the retention engine evaluates (SQL only; no decisions here)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from archiver.db import schema as t
from archiver.db.index_feed import IN_CHUNK
from archiver.model import DisappearanceReason, RecordKind, VersionState


@dataclass(frozen=True)
class HoldRow:
    id: str
    matter: str
    reason: str
    issuer: str
    scope: dict[str, Any]
    created_by: str
    created_at: datetime
    released_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None
    revision: int = 1

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class RecordFactRow:
    """What the retention engine needs to know about one record that has not been disposed of."""

    record_id: str
    platform: str
    platform_id: str
    account_id: str
    account_tags: tuple[str, ...]
    kind: str
    parent_platform_id: str | None
    posted_at: datetime | None
    first_seen_at: datetime
    url: str | None = None


@dataclass(frozen=True)
class BatchRow:
    id: str
    action: str
    status: str
    as_of: datetime
    schedule_fingerprint: str
    created_by: str
    created_at: datetime
    approvals: list[dict[str, Any]]
    executed_by: str | None = None
    executed_at: datetime | None = None
    certificate_key: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class BatchItemRow:
    record_id: str
    item_id: str
    eligible_on: date
    outcome: str


@dataclass(frozen=True)
class StoredVersionRef:
    """Where one version's document and evidence are (what disposition deletes or moves)."""

    log_index: int
    record_id: str
    number: int
    content_sha256: str
    leaf_sha256: str
    warc_key: str
    warc_offset: int
    warc_length: int
    evidence: list[dict[str, Any]]


# -- holds -------------------------------------------------------------------------------------------


def save_hold(conn: Connection, row: HoldRow) -> None:
    values = {k: getattr(row, k) for k in ("matter", "reason", "issuer", "scope", "created_by", "created_at",
                                             "released_at", "released_by", "release_reason", "revision")}
    if conn.execute(select(t.Hold.id).where(t.Hold.id == row.id)).first() is None:
        conn.execute(insert(t.Hold).values(id=row.id, **values))
    else:
        conn.execute(update(t.Hold).where(t.Hold.id == row.id).values(**values))


def find_hold(conn: Connection, hold_id: str) -> HoldRow | None:
    row = conn.execute(select(t.Hold).where(t.Hold.id == hold_id)).first()
    return None if row is None else _hold(row)


def list_holds(conn: Connection, *, active_only: bool = False) -> list[HoldRow]:
    query = select(t.Hold).order_by(t.Hold.created_at, t.Hold.id)
    if active_only:
        query = query.where(t.Hold.released_at.is_(None))
    return [_hold(row) for row in conn.execute(query)]


def _hold(row: Any) -> HoldRow:
    return HoldRow(id=row.id, matter=row.matter, reason=row.reason, issuer=row.issuer, scope=dict(row.scope),
                   created_by=row.created_by, created_at=row.created_at, released_at=row.released_at,
                   released_by=row.released_by, release_reason=row.release_reason, revision=row.revision)


# -- assignments and events --------------------------------------------------------------------------


def assignments(conn: Connection) -> dict[str, str]:
    """record id -> explicitly assigned schedule item (few records have one)."""
    query = select(t.ScheduleAssignment.record_id, t.ScheduleAssignment.item_id)
    return {record_id: item_id for record_id, item_id in conn.execute(query)}


def events(conn: Connection) -> tuple[dict[str, dict[str, datetime]], dict[str, dict[str, datetime]]]:
    """(account id -> {event: at}, record id -> {event: at}); the earliest date of a repeated event wins."""
    by_account: dict[str, dict[str, datetime]] = {}
    by_record: dict[str, dict[str, datetime]] = {}
    query = select(t.RetentionEvent.account_id, t.RetentionEvent.record_id, t.RetentionEvent.name,
                   t.RetentionEvent.at).order_by(t.RetentionEvent.at.desc())
    for account_id, record_id, name, at in conn.execute(query):
        target = by_record.setdefault(record_id, {}) if record_id else by_account.setdefault(str(account_id), {})
        target[name] = at
    return by_account, by_record


@dataclass(frozen=True)
class RetentionEventRow:
    id: str
    account_id: str | None
    record_id: str | None
    name: str
    at: datetime
    recorded_by: str
    recorded_at: datetime


def save_assignments(conn: Connection, record_ids: Sequence[str], *, item_id: str | None, reason: str, by: str,
                     at: datetime) -> None:
    """File records under ``item_id``, replacing earlier assignments; None removes them."""
    for start in range(0, len(record_ids), IN_CHUNK):
        chunk = list(record_ids[start:start + IN_CHUNK])
        conn.execute(delete(t.ScheduleAssignment).where(t.ScheduleAssignment.record_id.in_(chunk)))
        if item_id is not None:
            conn.execute(insert(t.ScheduleAssignment), [{"record_id": r, "item_id": item_id, "reason": reason,
                                                         "assigned_by": by, "assigned_at": at} for r in chunk])


def save_event(conn: Connection, row: RetentionEventRow) -> None:
    conn.execute(insert(t.RetentionEvent).values(id=row.id, account_id=row.account_id, record_id=row.record_id,
                                                 name=row.name, at=row.at, recorded_by=row.recorded_by,
                                                 recorded_at=row.recorded_at))


def list_events(conn: Connection) -> list[RetentionEventRow]:
    query = select(t.RetentionEvent).order_by(t.RetentionEvent.recorded_at, t.RetentionEvent.id)
    return [RetentionEventRow(id=r.id, account_id=r.account_id, record_id=r.record_id, name=r.name, at=r.at,
                              recorded_by=r.recorded_by, recorded_at=r.recorded_at) for r in conn.execute(query)]


def list_assignments(conn: Connection) -> list[dict[str, Any]]:
    query = select(t.ScheduleAssignment).order_by(t.ScheduleAssignment.assigned_at, t.ScheduleAssignment.record_id)
    return [dict(row._mapping) for row in conn.execute(query)]


def known_accounts(conn: Connection, account_ids: Sequence[str]) -> set[str]:
    return set(conn.scalars(select(t.Account.id).where(t.Account.id.in_(list(account_ids)))))


# -- what the engine evaluates -------------------------------------------------------------------------


def record_facts(conn: Connection, *, batch: int = 10_000) -> Iterator[RecordFactRow]:
    """Every record not yet disposed of, with its account's tags, streamed in record-id order."""
    stream = conn.execution_options(stream_results=True, yield_per=batch)
    yield from (_fact(row) for row in stream.execute(_facts_query().order_by(t.Record.id)))


def facts_for(conn: Connection, record_ids: Iterable[str]) -> Iterator[RecordFactRow]:
    """The facts of the given records (those already disposed of are left out), a chunk at a time."""
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), IN_CHUNK):
        query = _facts_query().where(t.Record.id.in_(ids[start:start + IN_CHUNK]))
        yield from (_fact(row) for row in conn.execute(query))


def _facts_query() -> Any:  # a Select of the RecordFactRow columns
    return (select(t.Record.id, t.Record.platform, t.Record.platform_id, t.Record.account_id, t.Account.tags,
                   t.Record.kind, t.Record.parent_platform_id, t.Record.posted_at, t.Record.first_seen_at,
                   t.Record.url)
            .join(t.Account, t.Account.id == t.Record.account_id)
            .outerjoin(t.Tombstone, t.Tombstone.record_id == t.Record.id)
            .where(t.Tombstone.record_id.is_(None)))


def _fact(row: Any) -> RecordFactRow:
    return RecordFactRow(record_id=row[0], platform=row[1], platform_id=row[2], account_id=row[3],
                         account_tags=tuple(row[4] or ()), kind=row[5], parent_platform_id=row[6],
                         posted_at=row[7], first_seen_at=row[8], url=row[9])


def acted_on_records(conn: Connection) -> tuple[set[str], set[tuple[str, str]]]:
    """Evidence that the agency acted on a comment: (records it hid or removed, (platform, platform id)
    of records the account itself replied to). A comment in neither set needed no action."""
    moderated = set(conn.scalars(
        select(t.Version.record_id).where(or_(t.Version.state == str(VersionState.HIDDEN),
                                              t.Version.reason == str(DisappearanceReason.AGENCY_REMOVED)))
        .distinct()))
    replied = (select(t.Record.platform, t.Record.parent_platform_id)
               .join(t.Version, t.Version.record_id == t.Record.id)
               .join(t.Account, t.Account.id == t.Record.account_id)
               .where(t.Record.kind.in_([str(RecordKind.COMMENT), str(RecordKind.REPLY)]),
                      t.Record.parent_platform_id.is_not(None), t.Version.author == t.Account.handle)
               .distinct())
    return moderated, {(platform, str(parent)) for platform, parent in conn.execute(replied)}


def version_refs(conn: Connection, record_ids: Iterable[str]) -> Iterator[StoredVersionRef]:
    """Every version of the given records."""
    yield from _refs(conn, t.Version.record_id, sorted(set(record_ids)))


def version_objects(conn: Connection, record_ids: Iterable[str]) -> set[str]:
    """The WARC objects holding the given records' version documents."""
    ids = sorted(set(record_ids))
    found: set[str] = set()
    for start in range(0, len(ids), IN_CHUNK):
        found.update(conn.scalars(select(t.Version.warc_key).where(t.Version.record_id.in_(ids[start:start + IN_CHUNK]))
                                  .distinct()))
    return found


def records_with_versions(conn: Connection,
                          record_ids: Iterable[str]) -> Iterator[tuple[RecordFactRow, list[StoredVersionRef]]]:
    """Each record not yet disposed of, with its versions in log order, a chunk of records at a time
    (a certificate's record list of 100,000 records is written without holding it)."""
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start:start + IN_CHUNK]
        versions: dict[str, list[StoredVersionRef]] = {}
        for ref in version_refs(conn, chunk):
            versions.setdefault(ref.record_id, []).append(ref)
        for row in sorted(facts_for(conn, chunk), key=lambda r: r.record_id):
            yield row, versions.get(row.record_id, [])


def versions_in_objects(conn: Connection, keys: Iterable[str]) -> Iterator[StoredVersionRef]:
    """Every version whose document is in one of the given WARC objects."""
    yield from _refs(conn, t.Version.warc_key, sorted(set(keys)))


def _refs(conn: Connection, column: Any, values: list[str]) -> Iterator[StoredVersionRef]:
    for start in range(0, len(values), IN_CHUNK):
        query = (select(t.Version.log_index, t.Version.record_id, t.Version.number, t.Version.content_sha256,
                        t.LogLeaf.sha256, t.Version.warc_key, t.Version.warc_offset, t.Version.warc_length,
                        t.Version.evidence)
                 .join(t.LogLeaf, t.LogLeaf.index == t.Version.log_index)
                 .where(column.in_(values[start:start + IN_CHUNK])).order_by(t.Version.log_index))
        for row in conn.execute(query):
            yield StoredVersionRef(log_index=row[0], record_id=row[1], number=row[2], content_sha256=row[3],
                                   leaf_sha256=row[4], warc_key=row[5], warc_offset=row[6], warc_length=row[7],
                                   evidence=list(row[8] or []))


def objects_in_partitions(conn: Connection, partitions: Iterable[str]) -> list[dict[str, Any]]:
    names = sorted(set(partitions))
    found: list[dict[str, Any]] = []
    for start in range(0, len(names), IN_CHUNK):
        query = select(t.WarcObject).where(t.WarcObject.partition.in_(names[start:start + IN_CHUNK]))
        found += [dict(row._mapping) for row in conn.execute(query)]
    return sorted(found, key=lambda row: row["key"])


def replace_object(conn: Connection, old_key: str, new: Mapping[str, Any] | None) -> None:
    """Swap a compacted WARC object's catalog row for its replacement (or drop it when deleted)."""
    conn.execute(delete(t.WarcObject).where(t.WarcObject.key == old_key))
    if new is not None:
        conn.execute(insert(t.WarcObject).values(**new))


def relocate_version(conn: Connection, log_index: int, *, warc_key: str, warc_offset: int,
                     evidence: list[dict[str, Any]]) -> None:
    conn.execute(update(t.Version).where(t.Version.log_index == log_index)
                 .values(warc_key=warc_key, warc_offset=warc_offset, evidence=evidence))


# -- disposition batches and tombstones ------------------------------------------------------------------


def insert_batch(conn: Connection, row: BatchRow, items: Sequence[BatchItemRow]) -> None:
    conn.execute(insert(t.DispositionBatch).values(
        id=row.id, action=row.action, status=row.status, as_of=row.as_of,
        schedule_fingerprint=row.schedule_fingerprint, created_by=row.created_by, created_at=row.created_at,
        approvals=row.approvals, executed_by=row.executed_by, executed_at=row.executed_at,
        certificate_key=row.certificate_key, details=row.details or {}))
    for start in range(0, len(items), IN_CHUNK):
        conn.execute(insert(t.DispositionItem), [
            {"batch_id": row.id, "record_id": i.record_id, "item_id": i.item_id, "eligible_on": i.eligible_on,
             "outcome": i.outcome} for i in items[start:start + IN_CHUNK]])


def update_batch(conn: Connection, batch_id: str, **values: Any) -> None:
    conn.execute(update(t.DispositionBatch).where(t.DispositionBatch.id == batch_id).values(**values))


def set_item_outcomes(conn: Connection, batch_id: str, outcomes: Mapping[str, str]) -> None:
    by_outcome: dict[str, list[str]] = {}
    for record_id, outcome in outcomes.items():
        by_outcome.setdefault(outcome, []).append(record_id)
    for outcome, ids in by_outcome.items():
        for start in range(0, len(ids), IN_CHUNK):
            conn.execute(update(t.DispositionItem)
                         .where(t.DispositionItem.batch_id == batch_id,
                                t.DispositionItem.record_id.in_(ids[start:start + IN_CHUNK]))
                         .values(outcome=outcome))


def find_batch(conn: Connection, batch_id: str) -> BatchRow | None:
    row = conn.execute(select(t.DispositionBatch).where(t.DispositionBatch.id == batch_id)).first()
    return None if row is None else _batch(row)


def list_batches(conn: Connection) -> list[BatchRow]:
    query = select(t.DispositionBatch).order_by(t.DispositionBatch.created_at, t.DispositionBatch.id)
    return [_batch(row) for row in conn.execute(query)]


def batch_items(conn: Connection, batch_id: str) -> list[BatchItemRow]:
    query = (select(t.DispositionItem.record_id, t.DispositionItem.item_id, t.DispositionItem.eligible_on,
                    t.DispositionItem.outcome)
             .where(t.DispositionItem.batch_id == batch_id).order_by(t.DispositionItem.record_id))
    return [BatchItemRow(*row) for row in conn.execute(query)]


def _batch(row: Any) -> BatchRow:
    return BatchRow(id=row.id, action=row.action, status=row.status, as_of=row.as_of,
                    schedule_fingerprint=row.schedule_fingerprint, created_by=row.created_by,
                    created_at=row.created_at, approvals=list(row.approvals), executed_by=row.executed_by,
                    executed_at=row.executed_at, certificate_key=row.certificate_key, details=dict(row.details))


# What a destroyed version's row keeps is what its signed envelope says; the rest came from its content.
DESTROYED_VERSION = {"text": "", "author": None, "lang": None, "fingerprint": "", "revision_at": None,
                     "media_count": 0}


def restore_identity(conn: Connection, record_id: str, *, url: str | None, parent_platform_id: str | None,
                     posted_at: datetime | None) -> None:
    """Put back the identity a certificate lists for a destroyed record (a rebuild has no document)."""
    conn.execute(update(t.Record).where(t.Record.id == record_id)
                 .values(url=url, parent_platform_id=parent_platform_id, posted_at=posted_at))


def insert_tombstones(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Tombstone records and blank their versions' text: the content leaves the catalog with them."""
    stream = iter(rows)
    while chunk := [dict(r) for r in islice(stream, IN_CHUNK)]:
        conn.execute(insert(t.Tombstone), chunk)
        conn.execute(update(t.Version).where(t.Version.record_id.in_([r["record_id"] for r in chunk]))
                     .values(**DESTROYED_VERSION))


def tombstone(conn: Connection, record_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.Tombstone).where(t.Tombstone.record_id == record_id)).first()
    return None if row is None else dict(row._mapping)
