"""Read-only catalog queries for listing and showing records (the catalog supplies rows)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from archiver.db import schema as t
from archiver.errors import CatalogError
from archiver.model import VersionState


@dataclass(frozen=True)
class RecordSummary:
    id: str
    platform: str
    platform_id: str
    account_id: str
    kind: str
    posted_at: datetime | None
    latest_version: int
    latest_state: str
    author: str | None
    text: str


@dataclass(frozen=True)
class VersionDetail:
    number: int
    state: str
    reason: str | None
    detection: str | None
    captured_at: datetime
    revision_at: datetime | None
    text: str
    run_id: str
    log_index: int
    key_id: str
    warc_key: str
    warc_offset: int
    warc_length: int
    content_sha256: str
    envelope_sha256: str
    author: str | None


@dataclass(frozen=True)
class RecordDetail:
    record: RecordSummary
    url: str | None
    parent_platform_id: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    versions: list[VersionDetail]


def list_records(conn: Connection, *, account_id: str | None = None, state: str | None = None,
                 kind: str | None = None, limit: int = 50, offset: int = 0) -> list[RecordSummary]:
    query = (select(t.Record, t.Version.author, t.Version.text)
             .join(t.Version, (t.Version.record_id == t.Record.id) & (t.Version.number == t.Record.latest_version))
             .order_by(t.Record.posted_at.desc().nulls_last(), t.Record.id).limit(limit).offset(offset))
    if account_id:
        query = query.where(t.Record.account_id == account_id)
    if state:
        query = query.where(t.Record.latest_state == state)
    if kind:
        query = query.where(t.Record.kind == kind)
    rows = conn.execute(query).all()
    last_known = _last_content(conn, [row.id for row in rows if row.latest_state == VersionState.DELETED])
    return [_summary(row, *last_known.get(row.id, (row.author, row.text))) for row in rows]


def _last_content(conn: Connection, record_ids: list[str]) -> dict[str, tuple[str | None, str]]:
    """For tombstoned records: the author and text of their last version that had content."""
    if not record_ids:
        return {}
    query = (select(t.Version.record_id, t.Version.author, t.Version.text)
             .where(t.Version.record_id.in_(record_ids), t.Version.state != VersionState.DELETED)
             .order_by(t.Version.record_id, t.Version.number))
    return {rid: (author, text) for rid, author, text in conn.execute(query)}


def record_detail(conn: Connection, record_id: str) -> RecordDetail:
    record = conn.execute(select(t.Record).where(t.Record.id == record_id)).first()
    if record is None:
        raise CatalogError(f"no record {record_id!r}; find ids with `arsip records list`", code="record_unknown")
    rows = conn.execute(select(t.Version, t.LogLeaf.sha256.label("leaf"))
                        .join(t.LogLeaf, t.LogLeaf.index == t.Version.log_index)
                        .where(t.Version.record_id == record_id).order_by(t.Version.number)).all()
    versions = [VersionDetail(number=v.number, state=v.state, reason=v.reason, detection=v.detection,
                              captured_at=v.captured_at, revision_at=v.revision_at, text=v.text, run_id=v.run_id,
                              log_index=v.log_index, key_id=v.key_id, warc_key=v.warc_key, warc_offset=v.warc_offset,
                              warc_length=v.warc_length, content_sha256=v.content_sha256, envelope_sha256=v.leaf,
                              author=v.author) for v in rows]
    latest = versions[-1] if versions else None
    author = next((v.author for v in reversed(versions) if v.author), None)
    return RecordDetail(record=_summary(record, author, latest.text if latest else ""), url=record.url,
                        parent_platform_id=record.parent_platform_id, first_seen_at=record.first_seen_at,
                        last_seen_at=record.last_seen_at, versions=versions)


def _summary(record: Any, author: str | None, text: str) -> RecordSummary:
    return RecordSummary(id=record.id, platform=record.platform, platform_id=record.platform_id,
                         account_id=record.account_id, kind=record.kind, posted_at=record.posted_at,
                         latest_version=record.latest_version, latest_state=record.latest_state, author=author,
                         text=text)


def find_record_id(conn: Connection, ref: str) -> str:
    """Accept a record id or ``platform:platform_id`` (e.g. ``mastodon:social.example.gov/1130…``)."""
    condition = t.Record.id == ref
    if ":" in ref:
        platform, _, platform_id = ref.partition(":")
        condition = condition | ((t.Record.platform == platform) & (t.Record.platform_id == platform_id))
    found = conn.execute(select(t.Record.id).where(condition)).scalars().first()
    if found is None:
        raise CatalogError(f"no record {ref!r}; find ids with `arsip records list`", code="record_unknown")
    return str(found)


@dataclass(frozen=True)
class VersionLocation:
    """Where one version's envelope is: its log leaf and the batch object holding the envelope."""

    log_index: int
    number: int
    content_sha256: str
    leaf_sha256: str
    batch_key: str
    batch_first_index: int


def version_locations(conn: Connection, record_id: str) -> list[VersionLocation]:
    query = (select(t.Version.log_index, t.Version.number, t.Version.content_sha256, t.LogLeaf.sha256,
                    t.LogLeaf.batch_key, t.LogBatch.first_index)
             .join(t.LogLeaf, t.LogLeaf.index == t.Version.log_index)
             .join(t.LogBatch, t.LogBatch.key == t.LogLeaf.batch_key)
             .where(t.Version.record_id == record_id).order_by(t.Version.number))
    return [VersionLocation(*row) for row in conn.execute(query)]


def version_rows_between(conn: Connection, first: int, last: int) -> dict[int, Any]:
    """Catalog version rows for log entries ``first..last`` (for cross-checking against the store)."""
    query = (select(t.Version.log_index, t.Version.record_id, t.Version.number, t.Version.state,
                    t.Version.content_sha256, t.Version.text).where(t.Version.log_index.between(first, last)))
    return {row.log_index: row for row in conn.execute(query)}


def iter_leaves(conn: Connection, chunk: int = 5000) -> Iterator[tuple[int, str]]:
    query = select(t.LogLeaf.index, t.LogLeaf.sha256).order_by(t.LogLeaf.index).execution_options(yield_per=chunk)
    for index, sha256 in conn.execute(query):
        yield int(index), str(sha256)


def warc_object_keys(conn: Connection) -> set[str]:
    return set(conn.execute(select(t.WarcObject.key)).scalars())


def run_object_keys(conn: Connection, run_id: str) -> list[str]:
    """The WARC objects a capture run wrote (by the indexed run id, not by scanning keys)."""
    return list(conn.execute(select(t.WarcObject.key).where(t.WarcObject.run_id == run_id)
                             .order_by(t.WarcObject.key)).scalars())
