"""The catalog tables. Everything here is derived from the object store and can be rebuilt from it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from archiver.clock import utc

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which drops zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite returns naive values; they were written as UTC
            return value.replace(tzinfo=UTC)
        return utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Account(Base):
    """One official presence on one platform."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(2048))
    platform_account_id: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    owner_agency: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    credentials_ref: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("platform", "handle"),)


class CaptureRun(Base):
    """One collection pass (or one import) over one account: the provenance of its versions."""

    __tablename__ = "capture_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    collector: Mapped[str] = mapped_column(String(64))
    collector_version: Mapped[str] = mapped_column(String(32))
    settings_hash: Mapped[str] = mapped_column(String(64))
    origin: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RunProblem(Base):
    """A coded per-item or per-run failure, kept as data."""

    __tablename__ = "run_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("capture_runs.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    item: Mapped[str | None] = mapped_column(String(2048))


class Record(Base):
    """One thing on a platform, identified by (platform, platform_id)."""

    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(512))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))  # indexed with posted_at, below
    kind: Mapped[str] = mapped_column(String(16))
    parent_platform_id: Mapped[str | None] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(String(2048))
    posted_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    latest_version: Mapped[int] = mapped_column(Integer)
    latest_state: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("platform", "platform_id"),)


class Version(Base):
    """One observed state of a record. Its primary key is its Merkle-log leaf index."""

    __tablename__ = "versions"

    log_index: Mapped[int] = mapped_column(BigInteger, ForeignKey("log_leaves.index"), primary_key=True,
                                           autoincrement=False)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    detection: Mapped[str | None] = mapped_column(String(32))
    run_id: Mapped[str] = mapped_column(ForeignKey("capture_runs.id"))
    captured_at: Mapped[datetime]
    revision_at: Mapped[datetime | None]
    author: Mapped[str | None] = mapped_column(String(512))
    lang: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))
    warc_key: Mapped[str] = mapped_column(String(1024), index=True)  # disposition and locks look up by object
    warc_offset: Mapped[int] = mapped_column(BigInteger)
    warc_length: Mapped[int] = mapped_column(BigInteger)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    media_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (UniqueConstraint("record_id", "number"),)


class WarcObject(Base):
    """A WARC file in the object store: one capture-run batch of one retention partition."""

    __tablename__ = "warc_objects"

    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    partition: Mapped[str] = mapped_column(String(512), index=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("capture_runs.id"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    records: Mapped[int] = mapped_column(Integer)
    batch_key: Mapped[str] = mapped_column(String(1024))


class LogBatch(Base):
    """A committed batch object of signed envelopes (log/batches/<first index>.jsonl)."""

    __tablename__ = "log_batches"

    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    first_index: Mapped[int] = mapped_column(BigInteger, index=True)  # shared by batches with no versions
    count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(ForeignKey("capture_runs.id"), index=True)


class LogLeaf(Base):
    """One Merkle-log leaf: the SHA-256 of a signed envelope, in log order."""

    __tablename__ = "log_leaves"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64))
    batch_key: Mapped[str] = mapped_column(ForeignKey("log_batches.key"))


class LogHead(Base):
    """The single row holding the log's size and compact Merkle frontier (so appends are O(log n))."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[dict[str, Any]] = mapped_column()


class Checkpoint(Base):
    """A signed checkpoint (C2SP note) written after a capture run, with its optional RFC 3161 token."""

    __tablename__ = "checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(1024))
    timestamp_key: Mapped[str | None] = mapped_column(String(1024))


class SigningKey(Base):
    """A public signing key, published to the object store so verifiers never need the server."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class AuditEvent(Base):
    """One hash-chained audit entry: who did what to which object, and with what outcome."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(1024))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_in: Mapped[str | None] = mapped_column(String(1024))


class SavedSearch(Base):
    """A named query someone keeps re-running; its definition is also kept in the object store
    (``searches/<id>/<revision>.json``) so a rebuilt catalog has it. ``last_run_upto`` is the log
    size at the last run: versions at or past it are the "new hits since last run"."""

    __tablename__ = "saved_searches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    query: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_run_upto: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("owner", "name"),)


class Hold(Base):
    """A legal hold: while it is active, no record in its scope may be destroyed, transferred or
    modified. The scope (accounts, records, posted-date range, search query) is re-evaluated
    whenever holds are checked, so records captured after the hold was placed are covered too.
    Every revision is also in the object store (``holds/<id>/<revision>.json``)."""

    __tablename__ = "holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    matter: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(String(255))
    scope: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(255))
    release_reason: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)


class ScheduleAssignment(Base):
    """A records officer's explicit choice of schedule item for one record (wins over matching)."""

    __tablename__ = "schedule_assignments"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    assigned_by: Mapped[str] = mapped_column(String(255))
    assigned_at: Mapped[datetime]


class RetentionEvent(Base):
    """A dated event that starts an event-based retention period (e.g. ``account_closed``)."""

    __tablename__ = "retention_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[datetime]


class DispositionBatch(Base):
    """A set of records proposed for one disposition action, its approvals and its outcome."""

    __tablename__ = "disposition_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[datetime]
    schedule_fingerprint: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    approvals: Mapped[list[Any]] = mapped_column(default=list)
    executed_by: Mapped[str | None] = mapped_column(String(255))
    executed_at: Mapped[datetime | None]
    certificate_key: Mapped[str | None] = mapped_column(String(1024))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DispositionItem(Base):
    """One record in a disposition batch, with the schedule item that made it due."""

    __tablename__ = "disposition_items"

    batch_id: Mapped[str] = mapped_column(ForeignKey("disposition_batches.id"), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(255))
    eligible_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))


class Tombstone(Base):
    """What remains of a destroyed or transferred record: identity, schedule, authority, approver,
    time and the certificate that proves it; the digests stay in the versions' rows and the log."""

    __tablename__ = "tombstones"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("disposition_batches.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(255))
    authority: Mapped[str] = mapped_column(String(255))
    approved_by: Mapped[list[Any]] = mapped_column(default=list)
    executed_at: Mapped[datetime]
    certificate_key: Mapped[str] = mapped_column(String(1024))


Index("ix_records_account_posted", Record.account_id, Record.posted_at)
