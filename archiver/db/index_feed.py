"""Catalog reads that feed the search index: whole records with every version, in record order.

The search package builds its documents from these rows; it never touches SQL itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from archiver.db import schema as t

IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class IndexRow:
    """One version with its record's identity, as the index needs it."""

    record_id: str
    platform: str
    account_id: str
    account_handle: str
    kind: str
    posted_at: datetime | None
    log_index: int
    number: int
    state: str
    reason: str | None
    lang: str | None
    author: str | None
    captured_at: datetime
    text: str
    media_count: int


def log_size(conn: Connection) -> int:
    """How many versions the log holds (the index's target high-water mark)."""
    return int(conn.execute(select(t.LogHead.size)).scalar_one_or_none() or 0)


def touched_records(conn: Connection, first: int, last: int) -> list[str]:
    """Records with a version at log index ``first`` ≤ i < ``last``."""
    query = select(t.Version.record_id).where(t.Version.log_index >= first, t.Version.log_index < last).distinct()
    return list(conn.scalars(query))


def record_rows(conn: Connection, record_ids: Sequence[str]) -> Iterator[IndexRow]:
    """Every version of the given records, ordered by record then version number."""
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start:start + IN_CHUNK]
        yield from _rows(conn, _index_query().where(t.Version.record_id.in_(chunk)))


def all_record_rows(conn: Connection, batch: int = 5000) -> Iterator[IndexRow]:
    """Every version in the catalog, ordered by record then version number, streamed in batches."""
    stream = conn.execution_options(stream_results=True, yield_per=batch)
    yield from _rows(stream, _index_query())


def count_records(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(t.Record)).scalar_one())


def _index_query() -> Any:  # a Select of the IndexRow columns
    return (select(t.Record.id, t.Record.platform, t.Record.account_id, t.Account.handle, t.Record.kind,
                   t.Record.posted_at, t.Version.log_index, t.Version.number, t.Version.state, t.Version.reason,
                   t.Version.lang, t.Version.author, t.Version.captured_at, t.Version.text,
                   t.Version.media_count)
            .join(t.Version, t.Version.record_id == t.Record.id)
            .join(t.Account, t.Account.id == t.Record.account_id)
            .outerjoin(t.Tombstone, t.Tombstone.record_id == t.Record.id)
            .where(t.Tombstone.record_id.is_(None))  # destroyed records never come back into the index
            .order_by(t.Version.record_id, t.Version.number))


def _rows(conn: Connection, query: Any) -> Iterable[IndexRow]:
    for row in conn.execute(query):
        yield IndexRow(*row)  # column order matches the fields


@dataclass(frozen=True)
class HitRow:
    """What a search result shows for one record: identity, and each version's text for snippets."""

    record_id: str
    platform: str
    platform_id: str
    account_id: str
    kind: str
    url: str | None
    posted_at: datetime | None
    latest_version: int
    latest_state: str
    versions: dict[int, tuple[str, str | None, str | None]]  # number -> (text, lang, author)


def hit_rows(conn: Connection, record_ids: Sequence[str]) -> dict[str, HitRow]:
    """Catalog rows for a page of search hits (the index supplies only ids)."""
    if not record_ids:
        return {}
    records = conn.execute(select(t.Record).where(t.Record.id.in_(list(record_ids)))).all()
    versions: dict[str, dict[int, tuple[str, str | None, str | None]]] = {}
    query = (select(t.Version.record_id, t.Version.number, t.Version.text, t.Version.lang, t.Version.author)
             .where(t.Version.record_id.in_(list(record_ids))))
    for record_id, number, text, lang, author in conn.execute(query):
        versions.setdefault(record_id, {})[number] = (text, lang, author)
    return {r.id: HitRow(record_id=r.id, platform=r.platform, platform_id=r.platform_id, account_id=r.account_id,
                         kind=r.kind, url=r.url, posted_at=r.posted_at, latest_version=r.latest_version,
                         latest_state=r.latest_state, versions=versions.get(r.id, {})) for r in records}
