"""Keep the index current after every capture or import run (registered as ``arsip.after_capture``)."""

from __future__ import annotations

from collections.abc import Sequence

from archiver.wiring import Archive
from search.backends.factory import open_backend
from search.errors import SearchError
from search.indexer import Indexer
from search.query.parser import parse_query


def indexer_for(archive: Archive) -> Indexer:
    settings = archive.settings
    backend = open_backend(settings.search_backend, settings.index_dir)
    return Indexer(archive.catalog, backend, settings.index_dir, archive.clock)


def after_capture(archive: Archive) -> list[str]:
    """Catch the index up; a failure leaves it behind (never wrong) and is reported, not raised."""
    try:
        indexer = indexer_for(archive)
        try:
            indexer.catch_up()
        finally:
            indexer.backend.close()
    except SearchError as exc:
        return [f"search index not updated: {exc} (`arsip index status` shows how far behind it is)"]
    return []


def matching_records(archive: Archive, query: str) -> set[str]:
    """Every record any version of which matches ``query`` (registered as ``arsip.record_queries``
    for hold scopes). The index is caught up first, so records captured a moment ago count."""
    parsed = parse_query(query)
    indexer = indexer_for(archive)
    try:
        indexer.catch_up()
        backend = indexer.backend
        return set(backend.records_matching_since(parsed, 0, max(1, backend.document_count())))
    finally:
        indexer.backend.close()


def forget_records(archive: Archive, record_ids: Sequence[str]) -> None:
    """Take destroyed records out of the index (registered as ``arsip.forget_records``); disposition
    calls this inside its transaction, so a failure here leaves nothing destroyed."""
    indexer = indexer_for(archive)
    try:
        indexer.remove(record_ids)
    finally:
        indexer.backend.close()
