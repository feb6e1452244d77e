"""The catalog's write side: accounts, capture runs, the log head and committed batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError as DuplicateRow

from archiver.db import schema as t
from archiver.db.engine import WRITE_OPTION
from archiver.errors import CatalogError
from archiver.model import (
    AccountInfo,
    KnownRecord,
    Platform,
    PriorVersion,
    Problem,
    RecordKind,
    RunInfo,
    RunStatus,
    SourceKind,
    VersionState,
)


@dataclass(frozen=True)
class VersionRow:
    """Everything the catalog keeps for one committed version (all of it derivable from the store)."""

    log_index: int
    leaf_sha256: str
    record_id: str
    platform: str
    platform_id: str
    account_id: str
    kind: str
    parent_platform_id: str | None
    url: str | None
    posted_at: datetime | None
    number: int
    state: str
    reason: str | None
    detection: str | None
    run_id: str
    captured_at: datetime
    revision_at: datetime | None
    author: str | None
    lang: str | None
    text: str
    fingerprint: str
    content_sha256: str
    previous_sha256: str | None
    key_id: str
    signature: str
    warc_key: str
    warc_offset: int
    warc_length: int
    evidence: list[dict[str, Any]]
    media_count: int = 0


@dataclass(frozen=True)
class WarcObjectRow:
    key: str
    partition: str
    run_id: str
    size: int
    sha256: str
    records: int


@dataclass(frozen=True)
class BatchRow:
    """A committed batch object and what it brought into the catalog."""

    key: str
    sha256: str
    run_id: str
    first_index: int
    versions: Sequence[VersionRow]
    warc_objects: Sequence[WarcObjectRow]
    seen: Mapping[str, datetime]  # record id -> when an unchanged observation saw it


@dataclass(frozen=True)
class LogHeadRow:
    origin: str
    size: int
    frontier: dict[str, Any]


__all__ = ["Catalog", "Connection", "DuplicateRow"]  # the types callers outside archiver.db may name


class Catalog:
    """Typed access to the catalog database. Holds an engine; connects only when used."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A read-write transaction, committed on success (on SQLite it holds the write lock)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (rolled back, so it never costs a commit)."""
        with self.engine.connect() as connection:
            yield connection

    # -- accounts ---------------------------------------------------------------------------------

    def save_account(self, conn: Connection, account: AccountInfo) -> None:
        values = _account_values(account)
        existing = conn.execute(select(t.Account.id).where(t.Account.id == account.id)).first()
        try:
            if existing:
                conn.execute(update(t.Account).where(t.Account.id == account.id).values(**values))
            else:
                conn.execute(insert(t.Account).values(**values))
        except DuplicateRow:
            raise CatalogError(f"an account {account.platform} {account.handle} already exists",
                               code="account_exists") from None

    def accounts(self, conn: Connection) -> list[AccountInfo]:
        rows = conn.execute(select(t.Account).order_by(t.Account.platform, t.Account.handle)).all()
        return [_account_info(row) for row in rows]

    def find_account(self, conn: Connection, ref: str) -> AccountInfo:
        """Find an account by id, handle or URL; an unknown reference is an error that says how to list."""
        query = select(t.Account).where((t.Account.id == ref) | (t.Account.handle == ref) | (t.Account.url == ref))
        rows = conn.execute(query).all()
        if len(rows) != 1:
            raise CatalogError(f"no single account matches {ref!r}; see `arsip accounts list`",
                               code="account_unknown")
        return _account_info(rows[0])

    # -- capture runs -----------------------------------------------------------------------------

    def has_account(self, conn: Connection, account_id: str) -> bool:
        return conn.execute(select(t.Account.id).where(t.Account.id == account_id)).first() is not None

    def start_run(self, conn: Connection, run: RunInfo) -> None:
        conn.execute(insert(t.CaptureRun).values(
            id=run.id, account_id=run.account_id, source=str(run.source), collector=run.collector,
            collector_version=run.collector_version, settings_hash=run.settings_hash,
            origin=dict(run.origin), started_at=run.started_at, finished_at=None,
            status=str(RunStatus.RUNNING), counts={}, state={}))

    def finish_run(self, conn: Connection, run_id: str, *, status: RunStatus, finished_at: datetime | None,
                   counts: Mapping[str, int], state: Mapping[str, Any], problems: Iterable[Problem]) -> None:
        conn.execute(update(t.CaptureRun).where(t.CaptureRun.id == run_id).values(
            status=str(status), finished_at=finished_at, counts=dict(counts), state=dict(state)))
        rows = [{"run_id": run_id, "code": str(p.code), "message": p.message, "item": p.item} for p in problems]
        if rows:
            conn.execute(insert(t.RunProblem), rows)

    def run_exists(self, conn: Connection, run_id: str) -> bool:
        return conn.execute(select(t.CaptureRun.id).where(t.CaptureRun.id == run_id)).first() is not None

    def running_runs(self, conn: Connection) -> list[RunInfo]:
        query = (select(t.CaptureRun).where(t.CaptureRun.status == str(RunStatus.RUNNING))
                 .order_by(t.CaptureRun.started_at))
        return [RunInfo(id=r.id, account_id=r.account_id, source=SourceKind(r.source), collector=r.collector,
                        collector_version=r.collector_version, settings_hash=r.settings_hash,
                        started_at=r.started_at, origin=dict(r.origin))
                for r in conn.execute(query).all()]

    def last_run_state(self, conn: Connection, account_id: str, collector: str) -> dict[str, Any]:
        """The collector state left by the account's latest finished run (cursors for resuming)."""
        query = (select(t.CaptureRun.state)
                 .where(t.CaptureRun.account_id == account_id, t.CaptureRun.collector == collector,
                        t.CaptureRun.finished_at.is_not(None))
                 .order_by(t.CaptureRun.started_at.desc()).limit(1))
        state = conn.execute(query).scalar()
        return dict(state or {})

    # -- the log ----------------------------------------------------------------------------------

    def create_log_head(self, conn: Connection, origin: str, frontier: dict[str, Any]) -> None:
        if conn.execute(select(t.LogHead.id)).first() is None:
            conn.execute(insert(t.LogHead).values(id=1, origin=origin, size=0, frontier=frontier))

    def lock_log_head(self, conn: Connection) -> LogHeadRow:
        """Read the log head holding the database's write lock, so one appender at a time extends it."""
        # SQLite: write transactions already hold the database's write lock (BEGIN IMMEDIATE).
        row = conn.execute(select(t.LogHead).where(t.LogHead.id == 1).with_for_update()).first()
        if row is None:
            raise CatalogError("the catalog has no log head; run `arsip init`", code="catalog_missing")
        return LogHeadRow(origin=row.origin, size=row.size, frontier=dict(row.frontier))

    def log_head(self, conn: Connection) -> LogHeadRow | None:
        row = conn.execute(select(t.LogHead).where(t.LogHead.id == 1)).first()
        return None if row is None else LogHeadRow(origin=row.origin, size=row.size, frontier=dict(row.frontier))

    def has_batch(self, conn: Connection, key: str) -> bool:
        return conn.execute(select(t.LogBatch.key).where(t.LogBatch.key == key)).first() is not None

    def apply_batch(self, conn: Connection, batch: BatchRow, *, new_size: int, frontier: dict[str, Any]) -> None:
        """Insert one committed batch; the caller holds the log-head lock and commits."""
        conn.execute(insert(t.LogBatch).values(
            key=batch.key, first_index=batch.first_index, count=len(batch.versions), sha256=batch.sha256,
            run_id=batch.run_id))
        if batch.warc_objects:
            conn.execute(insert(t.WarcObject), [
                {"key": w.key, "partition": w.partition, "run_id": w.run_id, "size": w.size,
                 "sha256": w.sha256, "records": w.records, "batch_key": batch.key} for w in batch.warc_objects])
        if batch.versions:
            conn.execute(insert(t.LogLeaf), [
                {"index": v.log_index, "sha256": v.leaf_sha256, "batch_key": batch.key} for v in batch.versions])
            self._upsert_records(conn, batch.versions)
            conn.execute(insert(t.Version), [_version_values(v) for v in batch.versions])
        self._mark_seen(conn, batch.seen)
        conn.execute(update(t.LogHead).where(t.LogHead.id == 1).values(size=new_size, frontier=frontier))

    def _upsert_records(self, conn: Connection, versions: Sequence[VersionRow]) -> None:
        latest: dict[str, VersionRow] = {}
        first: dict[str, VersionRow] = {}
        for version in versions:
            latest[version.record_id] = version
            first.setdefault(version.record_id, version)
        ids = list(latest)
        existing: set[str] = set()
        for chunk in _chunks(ids, 500):
            existing.update(conn.execute(select(t.Record.id).where(t.Record.id.in_(chunk))).scalars())
        new_rows = [_record_values(first[rid], latest[rid]) for rid in ids if rid not in existing]
        if new_rows:
            conn.execute(insert(t.Record), new_rows)
        updates = [{"rid": rid, "n": latest[rid].number, "s": latest[rid].state, "at": latest[rid].captured_at}
                   for rid in ids if rid in existing]
        if updates:
            conn.execute(update(t.Record).where(t.Record.id == bindparam("rid")).values(
                latest_version=bindparam("n"), latest_state=bindparam("s"), last_seen_at=bindparam("at")),
                updates)

    def _mark_seen(self, conn: Connection, seen: Mapping[str, datetime]) -> None:
        if not seen:
            return
        conn.execute(update(t.Record).where(t.Record.id == bindparam("rid"), t.Record.last_seen_at < bindparam("at"))
                     .values(last_seen_at=bindparam("at")),
                     [{"rid": rid, "at": at} for rid, at in seen.items()])

    # -- what collectors and change detection need -----------------------------------------------

    def prior_versions(self, conn: Connection, record_ids: Sequence[str]) -> dict[str, PriorVersion]:
        """Latest version summary per record, with every revision time seen for it."""
        result: dict[str, PriorVersion] = {}
        for chunk in _chunks(list(record_ids), 500):
            query = (select(t.Version.record_id, t.Version.number, t.Version.state, t.Version.fingerprint,
                            t.Version.revision_at)
                     .where(t.Version.record_id.in_(chunk)).order_by(t.Version.record_id, t.Version.number))
            revisions: dict[str, set[datetime]] = {}
            for rid, number, state, fingerprint, revision_at in conn.execute(query):
                revisions.setdefault(rid, set())
                if revision_at is not None:
                    revisions[rid].add(revision_at)
                result[rid] = PriorVersion(number=number, state=VersionState(state), fingerprint=fingerprint,
                                           revisions=frozenset(revisions[rid]))
        return result

    def latest_leaves(self, conn: Connection, record_ids: Sequence[str]) -> dict[str, str]:
        """Each record's latest envelope hash (the ``previous`` a new version's envelope links to)."""
        found: dict[str, str] = {}
        for chunk in _chunks(list(record_ids), 500):
            query = (select(t.Record.id, t.LogLeaf.sha256)
                     .join(t.Version, (t.Version.record_id == t.Record.id)
                           & (t.Version.number == t.Record.latest_version))
                     .join(t.LogLeaf, t.LogLeaf.index == t.Version.log_index)
                     .where(t.Record.id.in_(chunk)))
            found.update({rid: sha for rid, sha in conn.execute(query)})
        return found

    def records_to_recheck(self, conn: Connection, account_id: str, posted_since: datetime,
                           ) -> list[KnownRecord]:
        """Records of an account posted since a date whose latest state is not deleted."""
        query = (select(t.Record.id, t.Record.platform_id, t.Record.kind, t.Record.posted_at, t.Version.author)
                 .join(t.Version, (t.Version.record_id == t.Record.id)
                       & (t.Version.number == t.Record.latest_version))
                 .where(t.Record.account_id == account_id, t.Record.posted_at >= posted_since,
                        t.Record.latest_state != str(VersionState.DELETED))
                 .order_by(t.Record.posted_at.desc()))
        return [KnownRecord(record_id=rid, platform_id=pid, kind=RecordKind(kind), posted_at=posted, author=author)
                for rid, pid, kind, posted, author in conn.execute(query)]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _account_values(account: AccountInfo) -> dict[str, Any]:
    data = account.to_json()
    data["created_at"] = account.created_at
    data["updated_at"] = account.updated_at
    return data


def _account_info(row: Row[Any]) -> AccountInfo:
    return AccountInfo(id=row.id, platform=Platform(row.platform), handle=row.handle, url=row.url,
                       platform_account_id=row.platform_account_id, display_name=row.display_name,
                       owner_agency=row.owner_agency, tags=tuple(row.tags or ()),
                       interval_seconds=row.interval_seconds, credentials_ref=row.credentials_ref,
                       active=row.active, revision=row.revision, created_at=row.created_at,
                       updated_at=row.updated_at)


def _record_values(first: VersionRow, latest: VersionRow) -> dict[str, Any]:
    return {"id": first.record_id, "platform": first.platform, "platform_id": first.platform_id,
            "account_id": first.account_id, "kind": first.kind, "parent_platform_id": first.parent_platform_id,
            "url": first.url, "posted_at": first.posted_at, "first_seen_at": first.captured_at,
            "last_seen_at": latest.captured_at, "latest_version": latest.number, "latest_state": latest.state}


def _version_values(v: VersionRow) -> dict[str, Any]:
    return {"log_index": v.log_index, "record_id": v.record_id, "number": v.number, "state": v.state,
            "reason": v.reason, "detection": v.detection, "run_id": v.run_id, "captured_at": v.captured_at,
            "revision_at": v.revision_at, "author": v.author, "lang": v.lang, "text": v.text,
            "fingerprint": v.fingerprint, "content_sha256": v.content_sha256,
            "previous_sha256": v.previous_sha256, "key_id": v.key_id, "signature": v.signature,
            "warc_key": v.warc_key, "warc_offset": v.warc_offset, "warc_length": v.warc_length,
            "evidence": v.evidence, "media_count": v.media_count}


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    root_hash: str
    key: str
    timestamp_key: str | None


def save_checkpoint(conn: Connection, row: CheckpointRow) -> None:
    if conn.execute(select(t.Checkpoint.size).where(t.Checkpoint.size == row.size)).first() is None:
        conn.execute(insert(t.Checkpoint).values(
            size=row.size, root_hash=row.root_hash, key=row.key, timestamp_key=row.timestamp_key))


def latest_checkpoint(conn: Connection) -> CheckpointRow | None:
    row = conn.execute(select(t.Checkpoint).order_by(t.Checkpoint.size.desc()).limit(1)).first()
    if row is None:
        return None
    return CheckpointRow(size=row.size, root_hash=row.root_hash, key=row.key, timestamp_key=row.timestamp_key)


def save_signing_key(conn: Connection, key_id: str, public_key: str, status: str, created_at: datetime,
                     retired_at: datetime | None) -> None:
    conn.execute(delete(t.SigningKey).where(t.SigningKey.key_id == key_id))
    conn.execute(insert(t.SigningKey).values(key_id=key_id, public_key=public_key, status=status,
                                       created_at=created_at, retired_at=retired_at))


def last_finished_at(conn: Connection, account_id: str) -> datetime | None:
    """When the account's latest live or imported run finished (for `collect --loop` scheduling)."""
    query = select(t.CaptureRun.finished_at).where(t.CaptureRun.account_id == account_id,
                                                   t.CaptureRun.finished_at.is_not(None))
    return conn.execute(query.order_by(t.CaptureRun.finished_at.desc()).limit(1)).scalar()
