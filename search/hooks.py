"""Keep the index current after every capture or import run (registered as ``arsip.after_capture``)."""

from __future__ import annotations

from archiver.wiring import Archive
from search.backends.factory import open_backend
from search.errors import SearchError
from search.indexer import Indexer


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
