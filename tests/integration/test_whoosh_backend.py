"""The whoosh backend on its own: each query class, built as AST nodes (no parser), on hand-made records.

The conformance suite compares whoosh with tantivy on a shared corpus; these tests pin the
whoosh-specific mechanics: slop mapping, pattern anchoring, multi-valued captures, as-of scoping,
search-after, and the buffered write path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from search.backends.base import EngineRequest, Sort, replace_records
from search.backends.whoosh_index import WhooshBackend
from search.entries import RecordEntry, VersionEntry
from search.errors import SearchIndexError
from search.query.ast import (
    And,
    DateField,
    DateRange,
    Keyword,
    KeywordField,
    MatchAll,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    Term,
    Wildcard,
)


def moment(text: str) -> datetime:
    """``2024-03-05`` (noon) or ``2024-03-05T23:59:59``, in UTC."""
    return datetime.fromisoformat(text if "T" in text else text + "T12:00:00").replace(tzinfo=UTC)


def entry(record_id: str, versions: list[tuple[str, str, str]], *, posted: str | None = None,
          platform: str = "mastodon", handle: str = "cityhall@social.example", kind: str = "post",
          author: str = "City Hall", media: int = 0, log_index: int = 0) -> RecordEntry:
    """``versions``: (state, captured, text), oldest first; the record is posted when first captured."""
    built = []
    for number, (state, captured, text) in enumerate(versions, start=1):
        following = versions[number][1] if number < len(versions) else None
        built.append(VersionEntry(log_index=log_index + number - 1, number=number, state=state,
                                  reason="author_deleted" if state == "deleted" else None, lang="en",
                                  author=author, captured_at=moment(captured),
                                  valid_to=moment(following) if following else None, text=text,
                                  media_count=media))
    return RecordEntry(record_id=record_id, platform=platform, account_id="acct-" + record_id,
                       account_handle=handle, kind=kind, posted_at=moment(posted or versions[0][1]),
                       versions=tuple(built))


def records() -> list[RecordEntry]:
    return [
        entry("budget", [("present", "2024-03-05", "The council approved the road closure budget"),
                         ("edited", "2024-06-01", "The council approved the budget")], log_index=10),
        entry("budgets", [("present", "2024-02-10", "Budgets for roads: budgeting is hard #Banjir")],
              platform="bluesky", handle="kota@bsky.example", kind="comment", author="warga", media=1,
              log_index=20),
        entry("gap3", [("present", "2024-03-06", "road one two three closure")], log_index=30),
        entry("reversed", [("present", "2024-03-07", "closure road")], log_index=40),
        entry("spread", [("present", "2024-03-08", "alpha x beta x gamma")], log_index=50),
        entry("late", [("present", "2024-12-31T23:59:59", "budget year end")], log_index=60),
        entry("early", [("present", "2025-01-01T00:00:00", "new year budget")], log_index=70),
        entry("brackets", [("present", "2024-04-01", "bxdget bedget")], log_index=80),
        entry("deleted", [("present", "2024-05-01", "drainage works"), ("deleted", "2024-08-20", "")],
              log_index=90),
    ]


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[WhooshBackend]:
    engine = WhooshBackend(tmp_path / "whoosh")
    replace_records(engine, records())
    engine.commit()
    yield engine
    engine.close()


def found(engine: WhooshBackend, root: Node, as_of: date | None = None) -> set[str]:
    page = engine.search(EngineRequest(query=Query(root, as_of=as_of), limit=100))
    ids = [hit.record_id for hit in page.hits]
    assert page.total == len(ids) == len(set(ids))
    return set(ids)


def test_a_term_matches_its_stem_and_an_exact_term_only_its_form(backend: WhooshBackend) -> None:
    assert found(backend, Term("budget")) == {"budget", "budgets", "late", "early"}
    assert found(backend, Term("budgets", exact=True)) == {"budgets"}
    assert found(backend, Term("the")) == {"budget"}


def test_a_phrase_needs_its_words_adjacent_and_in_order(backend: WhooshBackend) -> None:
    assert found(backend, Phrase(("road", "closure"))) == {"budget"}
    assert found(backend, Phrase(("closure", "road"))) == {"reversed"}


def test_phrase_slop_counts_extra_words_in_total(backend: WhooshBackend) -> None:
    assert found(backend, Phrase(("road", "closure"), slop=2)) == {"budget"}
    assert found(backend, Phrase(("road", "closure"), slop=3)) == {"budget", "gap3"}
    # two gaps of one word each: 2 extra words in total, so ~1 is not enough (as on tantivy)
    assert found(backend, Phrase(("alpha", "beta", "gamma"), slop=1)) == set()
    assert found(backend, Phrase(("alpha", "beta", "gamma"), slop=2)) == {"spread"}


def test_sloppy_phrases_keep_word_order(backend: WhooshBackend) -> None:
    """The documented difference: tantivy would also find "closure road" at ~2 (a swap costs 2)."""
    assert "reversed" not in found(backend, Phrase(("road", "closure"), slop=2))


def test_proximity_is_order_free_and_n_is_the_widest_distance(backend: WhooshBackend) -> None:
    assert found(backend, Near(Term("road"), Term("closure"), 4)) == {"budget", "gap3", "reversed"}
    assert found(backend, Near(Term("closure"), Term("road"), 4)) == {"budget", "gap3", "reversed"}
    assert found(backend, Near(Term("road"), Term("closure"), 3)) == {"budget", "reversed"}
    assert found(backend, Near(Term("road"), Term("closure"), 1)) == {"budget", "reversed"}


def test_proximity_of_a_word_to_itself_needs_two_occurrences(backend: WhooshBackend) -> None:
    """"Budgets ... budgeting" stem alike three words apart. (tantivy lets both words of a sloppy
    phrase sit on one position, so there w/2 would find every record with the stem.)"""
    assert found(backend, Near(Term("budget"), Term("budgeting"), 3)) == {"budgets"}
    assert found(backend, Near(Term("budget"), Term("budgeting"), 2)) == set()


def test_prefixes_and_wildcards_are_anchored_on_exact_tokens(backend: WhooshBackend) -> None:
    assert found(backend, Prefix("budg")) == {"budget", "budgets", "late", "early"}
    assert found(backend, Prefix("BUDGETI")) == {"budgets"}  # folded like indexed text
    assert found(backend, Wildcard("b?dget")) == {"budget", "late", "early", "brackets"}
    assert found(backend, Wildcard("b*get")) == {"budget", "late", "early", "brackets"}
    assert found(backend, Wildcard("udget")) == set()  # anchored at the start ...
    assert found(backend, Wildcard("budge")) == set()  # ... and at the end
    assert found(backend, Wildcard("b[e]dget")) == set()  # "[" is a literal character, not a class


def test_keyword_fields_match_folded_whole_values(backend: WhooshBackend) -> None:
    assert found(backend, Keyword(KeywordField.PLATFORM, "BlueSky")) == {"budgets"}
    assert found(backend, Keyword(KeywordField.ACCOUNT, "kota")) == {"budgets"}  # a handle's local part
    assert found(backend, Keyword(KeywordField.ACCOUNT, "Kota@Bsky.Example")) == {"budgets"}
    assert "budgets" not in found(backend, Keyword(KeywordField.AUTHOR, "city hall"))  # values hold spaces
    assert "budget" in found(backend, Keyword(KeywordField.AUTHOR, "City Hall"))
    assert found(backend, Keyword(KeywordField.AUTHOR, "city")) == set()
    assert found(backend, Keyword(KeywordField.TAG, "banjir")) == {"budgets"}
    assert found(backend, Keyword(KeywordField.HAS, "media")) == {"budgets"}
    assert found(backend, Keyword(KeywordField.KIND, "comment")) == {"budgets"}
    # a record document holds every version's state
    assert found(backend, Keyword(KeywordField.STATE, "deleted")) == {"deleted"}
    assert "deleted" in found(backend, Keyword(KeywordField.STATE, "present"))


def test_date_ranges_are_whole_inclusive_utc_days(backend: WhooshBackend) -> None:
    new_year = DateRange(DateField.POSTED, date(2024, 12, 31), date(2024, 12, 31))
    assert found(backend, new_year) == {"late"}
    assert found(backend, DateRange(DateField.POSTED, date(2025, 1, 1), None)) == {"early"}
    assert found(backend, DateRange(DateField.POSTED, None, date(2024, 2, 10))) == {"budgets"}
    assert len(found(backend, DateRange(DateField.POSTED, None, None))) == len(records())


def test_a_capture_range_matches_a_record_when_any_version_was_captured_in_it(backend: WhooshBackend) -> None:
    assert found(backend, DateRange(DateField.CAPTURED, date(2024, 6, 1), date(2024, 6, 1))) == {"budget"}
    assert found(backend, DateRange(DateField.CAPTURED, date(2024, 8, 20), date(2024, 8, 31))) == {"deleted"}
    assert found(backend, DateRange(DateField.POSTED, date(2024, 6, 1), date(2024, 6, 1))) == set()


def test_not_and_boolean_combinations(backend: WhooshBackend) -> None:
    assert found(backend, And((Term("road"), Not(Term("closure"))))) == {"budgets"}
    assert found(backend, Not(Term("budget"))) == {"gap3", "reversed", "spread", "brackets", "deleted"}
    assert found(backend, And((Not(Term("budget")), Not(Term("road"))))) == {"spread", "brackets", "deleted"}
    assert found(backend, Or((Term("alpha"), Term("drainage")))) == {"spread", "deleted"}
    assert found(backend, And((Term("alpha"), Term("nothing-like-it")))) == set()
    assert found(backend, Phrase(("!!",))) == set()  # analyses to nothing
    assert len(found(backend, MatchAll())) == len(records())


def test_as_of_searches_the_version_current_that_day(backend: WhooshBackend) -> None:
    assert found(backend, Term("closure"), as_of=date(2024, 5, 31)) >= {"budget"}
    assert "budget" not in found(backend, Term("closure"), as_of=date(2024, 6, 1))
    assert found(backend, Term("closure")) >= {"budget"}  # without as-of, any version counts
    assert found(backend, Term("budget"), as_of=date(2024, 3, 4)) == {"budgets"}  # "budget" not captured yet
    assert found(backend, MatchAll(), as_of=date(2024, 8, 20)) >= {"deleted"}
    assert found(backend, Keyword(KeywordField.STATE, "deleted"), as_of=date(2024, 8, 19)) == set()
    page = backend.search(EngineRequest(query=Query(Term("closure"), as_of=date(2024, 5, 31))))
    assert {hit.record_id: hit.log_index for hit in page.hits}["budget"] == 10


def test_matching_versions_names_the_versions_whose_own_text_matches(backend: WhooshBackend) -> None:
    assert backend.matching_versions(Query(Term("closure")), ["budget", "gap3"]) == {"budget": [1], "gap3": [1]}
    assert backend.matching_versions(Query(Term("approved")), ["budget"]) == {"budget": [1, 2]}
    assert backend.matching_versions(Query(Term("approved")), []) == {}


def test_records_matching_since_are_newest_first(backend: WhooshBackend) -> None:
    assert backend.records_matching_since(Query(Term("budget")), 11, 10) == ["early", "late", "budgets", "budget"]
    assert backend.records_matching_since(Query(Term("budget")), 11, 2) == ["early", "late"]
    assert backend.records_matching_since(Query(Term("closure")), 11, 10) == ["reversed", "gap3"]


def test_facets_count_matching_records_per_value(backend: WhooshBackend) -> None:
    facets = backend.facets(Query(Term("budget")))
    assert facets["platform"] == {"mastodon": 3, "bluesky": 1}
    assert facets["account"] == {"cityhall@social.example": 3, "kota@bsky.example": 1}
    assert facets["kind"] == {"post": 3, "comment": 1}
    assert facets["state"] == {"present": 4, "edited": 1}
    assert facets["year"] == {"2024": 3, "2025": 1}
    assert backend.facets(Query(Term("nothing"))) == {"platform": {}, "account": {}, "kind": {}, "state": {},
                                                      "year": {}}
    as_of = backend.facets(Query(Term("approved"), as_of=date(2024, 7, 1)))
    assert as_of["state"] == {"edited": 1}


@pytest.mark.parametrize("sort", [Sort.NEWEST, Sort.OLDEST])
def test_date_sort_pages_by_search_after_and_returns_every_record_once(backend: WhooshBackend,
                                                                       sort: Sort) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = backend.search(EngineRequest(query=Query(MatchAll()), sort=sort, limit=2, after=after))
        assert page.total == len(records())
        seen += [hit.record_id for hit in page.hits]
        if len(page.hits) < 2:
            break
        after = int(page.hits[-1].sort_value)
    posted = {record.record_id: record.posted_at for record in records()}
    assert seen == sorted(posted, key=lambda rid: posted[rid], reverse=sort is Sort.NEWEST)  # type: ignore[arg-type, return-value]


def test_relevance_pages_by_offset_without_overlap(backend: WhooshBackend) -> None:
    query = Query(Or((Term("budget"), Term("road"))))
    first = backend.search(EngineRequest(query=query, limit=2))
    rest = backend.search(EngineRequest(query=query, limit=10, after=2))
    ids = [hit.record_id for hit in first.hits + rest.hits]
    assert first.total == rest.total == len(ids) == len(set(ids)) == 6
    scores = [hit.sort_value for hit in first.hits + rest.hits]
    assert scores == sorted(scores, reverse=True)


def test_replace_is_idempotent_even_twice_in_one_batch(backend: WhooshBackend) -> None:
    replace_records(backend, records())
    replace_records(backend, records()[:3])
    backend.commit()
    assert backend.document_count() == len(records())
    assert found(backend, Term("budget")) == {"budget", "budgets", "late", "early"}
    replace_records(backend, [entry("gap3", [("present", "2024-03-06", "rewritten entirely")], log_index=30)])
    backend.commit()
    assert found(backend, Term("closure")) == {"budget", "reversed"}
    assert found(backend, Term("rewritten")) == {"gap3"}
    assert backend.document_count() == len(records())


def test_delete_and_clear_remove_documents(backend: WhooshBackend) -> None:
    backend.delete(["budget", "never-indexed"])
    backend.commit()
    assert found(backend, Term("approved")) == set()
    assert backend.matching_versions(Query(Term("approved")), ["budget"]) == {}
    assert backend.document_count() == len(records()) - 1
    replace_records(backend, [records()[0]])
    backend.delete(["budget"])  # a delete after a replace in the same batch wins
    backend.commit()
    assert backend.document_count() == len(records()) - 1
    replace_records(backend, [records()[0]])
    backend.clear()  # drops what this batch added too
    replace_records(backend, [records()[1], records()[1]])
    backend.commit()
    assert backend.document_count() == 1
    assert found(backend, MatchAll()) == {"budgets"}


def test_uncommitted_writes_are_invisible_and_close_discards_them(tmp_path: Path) -> None:
    engine = WhooshBackend(tmp_path / "ix")
    replace_records(engine, records())
    assert engine.document_count() == 0
    engine.close()
    reopened = WhooshBackend(tmp_path / "ix")
    assert reopened.document_count() == 0
    replace_records(reopened, records())
    reopened.commit()
    reopened.close()
    assert WhooshBackend(tmp_path / "ix").document_count() == len(records())


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    first = WhooshBackend(tmp_path / "ix")
    second = WhooshBackend(tmp_path / "ix")
    first.delete(["x"])
    with pytest.raises(SearchIndexError):
        second.delete(["x"])
    first.commit()
    second.delete(["x"])
    second.commit()
    first.close()
    second.close()
