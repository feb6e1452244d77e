"""The protocol every search engine implements, and the request and page types it speaks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from search.entries import RecordEntry
from search.fields import IndexDocument, documents
from search.query.ast import Query

# facet name -> the keyword field counted (accounts are counted once, by handle, not by every alias)
FACETS = {"platform": "platform", "account": "account_handle", "kind": "kind", "state": "state", "year": "year"}


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"  # posted date, newest first
    OLDEST = "oldest"


@dataclass(frozen=True)
class EngineRequest:
    """One page of record hits. ``after`` is the ``sort_value`` of the last hit of the previous page
    for date sorts (true search-after); for relevance it is the number of hits already returned."""

    query: Query
    sort: Sort = Sort.RELEVANCE
    limit: int = 20
    after: int | None = None


@dataclass(frozen=True)
class EngineHit:
    record_id: str
    sort_value: float | int  # score for relevance, date key for date sorts
    log_index: int  # the record's first version, or the current version for as-of


@dataclass(frozen=True)
class EnginePage:
    hits: list[EngineHit]
    total: int  # records matching (exact)


class SearchBackend(Protocol):
    """A search engine holding record and version documents (see :mod:`search.fields`).

    Writes are buffered until :meth:`commit`; only one process writes at a time (the indexer holds
    the lock). Readers see the last commit.
    """

    name: str

    def add(self, documents: Iterable[IndexDocument]) -> None:
        """Add documents (from :func:`search.fields.documents`) of records that have none in the
        index: after :meth:`clear` or :meth:`delete`. The indexer's path: a rebuild streams every
        record's documents through here without deleting from an index it has just emptied."""
        ...

    def delete(self, record_ids: Sequence[str]) -> None:
        """Remove records entirely (disposition)."""
        ...

    def clear(self) -> None:
        """Remove every document (a rebuild starts from nothing)."""
        ...

    def commit(self) -> None: ...

    def search(self, request: EngineRequest) -> EnginePage: ...

    def matching_versions(self, query: Query, record_ids: Sequence[str]) -> Mapping[str, list[int]]:
        """For each record, the version numbers whose own text and fields match the query."""
        ...

    def records_matching_since(self, query: Query, since: int, limit: int) -> list[str]:
        """Records with a version at log index ``since`` or later whose own text and fields match
        (a saved search's "new hits since last run"), newest first, at most ``limit``."""
        ...

    def facets(self, query: Query) -> Mapping[str, Mapping[str, int]]:
        """Counts of matching records per value of each field in ``FACETS``."""
        ...

    def document_count(self) -> int:
        """Record documents in the index."""
        ...

    def close(self) -> None: ...


def replace_records(backend: SearchBackend, records: Sequence[RecordEntry]) -> None:
    """Index these records on ``backend``, replacing every document they had (a record listed
    twice: the last wins). The indexer streams deletes and adds itself; this is for whole lists."""
    latest = {record.record_id: record for record in records}
    backend.delete(list(latest))
    backend.add(document for record in latest.values() for document in documents(record))
