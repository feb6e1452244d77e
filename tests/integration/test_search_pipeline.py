"""Search over a real archive: capture -> catalog -> index on disk -> the search API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.capture.service import run_capture
from archiver.db.index_feed import count_records
from archiver.model import AccountInfo
from archiver.saved_searches import save_search
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.wiring import Archive
from search import indexer as indexer_module
from search.backends.base import Sort
from search.backends.factory import open_backend
from search.errors import QuerySyntaxError, SearchIndexError
from search.hooks import indexer_for
from search.indexer import Indexer, writer_lock
from search.saved import run_saved
from search.service import SearchRequest, run_search
from tests.support.accounts import add_cityhall


def first_account(archive: Archive) -> AccountInfo:
    with archive.catalog.read() as conn:
        return archive.catalog.accounts(conn)[0]


def capture(archive: Archive, owner: AccountInfo, versions: int, seed: int = 7) -> None:
    run_capture(archive, owner, SyntheticCollector(SyntheticPlan(versions=versions, seed=seed)))


@pytest.fixture(params=["tantivy", "whoosh"])
def indexed(request: pytest.FixtureRequest, any_archive: Archive) -> Iterator[tuple[Archive, Indexer]]:
    archive = any_archive
    archive.settings = replace(archive.settings, search_backend=request.param)
    capture(archive, add_cityhall(archive), 200)
    indexer = indexer_for(archive)
    indexer.catch_up()
    yield archive, indexer
    indexer.backend.close()


def hits(archive: Archive, indexer: Indexer, text: str, **request: object) -> set[str]:
    results = run_search(archive.catalog, indexer.backend, SearchRequest(text=text, limit=1000, **request))  # type: ignore[arg-type]
    assert results.total == len(results.hits)
    return {hit.record_id for hit in results.hits}


def test_every_captured_record_is_indexed_and_found(indexed: tuple[Archive, Indexer]) -> None:
    archive, indexer = indexed
    status = indexer.status()
    assert status.behind == 0 and status.indexed_upto == 200
    with archive.catalog.read() as conn:
        records = count_records(conn)
    assert status.records_indexed == records
    assert len(hits(archive, indexer, "")) == records
    jalan = hits(archive, indexer, "jalan")
    assert jalan and jalan < hits(archive, indexer, "jalan OR bridge")


def test_hits_carry_catalog_rows_snippets_and_matched_versions(indexed: tuple[Archive, Indexer]) -> None:
    archive, indexer = indexed
    results = run_search(archive.catalog, indexer.backend, SearchRequest(text="bridge", limit=5, facets=True))
    assert results.hits and results.facets is not None
    assert results.facets["platform"] == {"mastodon": results.total}
    for hit in results.hits:
        assert hit.matched_versions and hit.platform == "mastodon"
        assert any(marked and text.lower() == "bridge" for text, marked in hit.snippet)


def test_cursor_pages_through_everything_once_and_rejects_another_query(indexed: tuple[Archive, Indexer]) -> None:
    archive, indexer = indexed
    seen: list[str] = []
    cursor = None
    while True:
        page = run_search(archive.catalog, indexer.backend,
                          SearchRequest(text="jalan OR road", sort=Sort.NEWEST, limit=7, cursor=cursor))
        seen += [h.record_id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == page.total
    first = run_search(archive.catalog, indexer.backend, SearchRequest(text="jalan", sort=Sort.NEWEST, limit=2))
    assert first.next_cursor
    with pytest.raises(Exception, match="different query"):
        run_search(archive.catalog, indexer.backend,
                   SearchRequest(text="road", sort=Sort.NEWEST, limit=2, cursor=first.next_cursor))


def test_syntax_errors_name_the_position(indexed: tuple[Archive, Indexer]) -> None:
    archive, indexer = indexed
    with pytest.raises(QuerySyntaxError) as caught:
        run_search(archive.catalog, indexer.backend, SearchRequest(text="budget AND (road"))
    assert "position" in str(caught.value)


def test_index_catches_up_after_new_captures_and_after_a_crash(indexed: tuple[Archive, Indexer],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    archive, indexer = indexed
    before = indexer.status()
    owner = first_account(archive)
    capture(archive, owner, 300, seed=7)  # 100 new versions (ids 201-300) after the first 200
    assert indexer.status().behind == 100

    def crash(directory: Path, state: object) -> None:
        raise KeyboardInterrupt("killed between the engine commit and the state write")

    monkeypatch.setattr(indexer_module, "_write_state", crash)
    with pytest.raises(KeyboardInterrupt):
        indexer.catch_up()
    monkeypatch.undo()
    assert indexer.status().indexed_upto == before.indexed_upto  # behind, never ahead
    report = indexer.catch_up()
    assert report.behind == 0
    with archive.catalog.read() as conn:
        assert report.records_indexed == count_records(conn)  # re-indexing the range doubled nothing


def test_a_failure_while_indexing_drops_the_uncommitted_documents(indexed: tuple[Archive, Indexer],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    archive, indexer = indexed
    before = indexer.status()
    before_hits = hits(archive, indexer, "jalan")
    capture(archive, first_account(archive), 300, seed=7)
    built = 0

    def failing(record: object) -> Iterator[object]:
        nonlocal built
        built += 1
        if built > 20:  # some documents already handed to the engine
            raise MemoryError("analysis failed half-way")
        return real_documents(record)

    real_documents = indexer_module.documents
    monkeypatch.setattr(indexer_module, "documents", failing)
    with pytest.raises(MemoryError):
        indexer.catch_up()
    monkeypatch.undo()
    assert built > 20
    after = indexer.status()  # nothing of the failed step committed, the state not advanced
    assert (after.indexed_upto, after.records_indexed) == (before.indexed_upto, before.records_indexed)
    assert hits(archive, indexer, "jalan") == before_hits
    assert indexer.catch_up().behind == 0


def test_rebuild_gives_the_same_answers_as_incremental_indexing(indexed: tuple[Archive, Indexer],
                                                                tmp_path: Path) -> None:
    archive, indexer = indexed
    fresh = Indexer(archive.catalog, open_backend(indexer.backend.name, tmp_path / "fresh"), tmp_path / "fresh",
                    archive.clock)
    fresh.rebuild()
    for query in ("jalan", "bridge w/5 road", "state:edited", '"terima kasih"', "memperbaiki"):
        assert hits(archive, fresh, query) == hits(archive, indexer, query), query
    fresh.backend.close()


def test_only_one_writer_at_a_time(indexed: tuple[Archive, Indexer]) -> None:
    _, indexer = indexed
    with writer_lock(indexer.directory), pytest.raises(SearchIndexError, match="another process"):
        indexer.catch_up()


def test_saved_search_reports_new_hits_since_its_last_run(indexed: tuple[Archive, Indexer]) -> None:
    archive, indexer = indexed
    save_search(archive, name="bridges", owner="legal:ana", query="bridge", actor="legal:ana")
    first = run_saved(archive, indexer.backend, owner="legal:ana", name="bridges")
    assert first.first_run and set(first.new_records) == hits(archive, indexer, "bridge")
    again = run_saved(archive, indexer.backend, owner="legal:ana", name="bridges")
    assert again.new_records == [] and not again.first_run
    owner = first_account(archive)
    capture(archive, owner, 400, seed=7)
    indexer.catch_up()
    later = run_saved(archive, indexer.backend, owner="legal:ana", name="bridges")
    assert later.new_records and set(later.new_records) <= hits(archive, indexer, "bridge")
    assert set(later.new_records).isdisjoint(first.new_records)


def test_status_json_is_machine_readable(indexed: tuple[Archive, Indexer]) -> None:
    _, indexer = indexed
    state = json.loads((indexer.directory / "state.json").read_text())
    assert state["indexed_upto"] == indexer.status().indexed_upto
