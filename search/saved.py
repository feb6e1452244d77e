"""Run a saved search and say what is new since its last run (the web issue's alerts use this)."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.db.index_feed import log_size
from archiver.db.saved_rows import SavedSearchRow, find_saved, mark_run
from archiver.wiring import Archive
from search.backends.base import SearchBackend, Sort
from search.errors import SearchError
from search.query.parser import parse_query
from search.service import SearchRequest, SearchResults, run_search

MAX_NEW = 1000


@dataclass(frozen=True)
class SavedRun:
    saved: SavedSearchRow
    results: SearchResults
    new_records: list[str]  # records with a matching version added since the last run (all, on a first run)
    first_run: bool


def run_saved(archive: Archive, backend: SearchBackend, *, owner: str, name: str, limit: int = 20) -> SavedRun:
    """Run it, list records with new matching versions since the last run, then move the mark.

    The mark is the log size read before searching, so a version committed during the search is
    reported next time rather than never.
    """
    with archive.catalog.read() as conn:
        saved = find_saved(conn, owner, name)
        upto = log_size(conn)
    if saved is None:
        raise SearchError(f"no saved search {name!r} for {owner}; list them with `arsip searches list`",
                          code="saved_search_unknown")
    results = run_search(archive.catalog, backend, SearchRequest(text=saved.query, sort=Sort.NEWEST, limit=limit))
    since = saved.last_run_upto or 0
    new = backend.records_matching_since(parse_query(saved.query), since, MAX_NEW)
    with archive.catalog.begin() as conn:
        mark_run(conn, saved.id, archive.clock.now(), upto)
    return SavedRun(saved=saved, results=results, new_records=new, first_run=saved.last_run_upto is None)
