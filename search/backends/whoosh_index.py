"""The whoosh backend: the same record and version documents as tantivy, in a pure-Python index.

For small archives and hosts where tantivy's wheel is unavailable. It indexes the documents of
:mod:`search.fields` and compiles queries with :class:`WhooshCompiler`, so a query finds the same
records on both engines (:mod:`search.backends.whoosh_query` says where phrase slop differs).

Why a write can commit early: a whoosh writer can delete only documents committed before it opened,
so it cannot replace a document it added itself. Replacing (or deleting) a record the open writer
already added therefore commits that writer first; otherwise documents go straight to the writer,
which keeps memory bounded during a rebuild. The indexer hands each record once per commit, so its
batches stay atomic; the writer (and the index lock) is taken at the first write, as on tantivy.

Why segments are not compound files: whoosh opens a sub-file of a compound segment by copying it
into memory, so every searcher (one per read) copied the postings: ~1.5 s per query at 100,000
versions. Plain segment files are read in place.

Why searches use explicit collectors: whoosh's block-quality skipping and matcher replacement make
its top-N faster but can miscount the total (and skip phrase checks); totals here must be exact.
"""

from __future__ import annotations

import heapq
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # whoosh 2.7 has invalid escapes in its regex strings: DeprecationWarning on 3.11, SyntaxWarning later
    warnings.simplefilter("ignore", SyntaxWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh import fields as wf
    from whoosh import index as wi
    from whoosh import query as wq
    from whoosh.analysis import SpaceSeparatedTokenizer
    from whoosh.collectors import TopCollector
    from whoosh.writing import CLEAR

from search.backends.base import FACETS, EngineHit, EnginePage, EngineRequest, Sort
from search.backends.whoosh_query import WhooshCompiler, WhooshQuery
from search.errors import SearchIndexError
from search.fields import IndexDocument
from search.query.ast import Query as AstQuery
from search.query.plan import as_of_moment

KEYWORDS = ("platform", "account", "account_handle", "author", "kind", "state", "reason", "lang", "tag", "has",
            "year")
WRITER_MB = 256
FACET_SIZE = 100


def build_schema() -> Any:
    """Keyword fields get lists of values (each indexed verbatim, spaces and all); ``captured`` is a
    list too, as whoosh indexes every number of a list and a range matches any of them."""
    text = {name: wf.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True) for name in ("exact", "stems")}
    keywords = {name: wf.ID() for name in KEYWORDS}
    dates = {name: wf.NUMERIC(int, bits=64, signed=True) for name in ("posted", "captured", "valid_from", "valid_to")}
    return wf.Schema(
        doc_type=wf.ID(), record_id=wf.ID(stored=True),
        log_index=wf.NUMERIC(int, bits=64, signed=False, stored=True, sortable=True),
        numbers=wf.STORED(), date_key=wf.NUMERIC(int, bits=64, signed=False, stored=True, sortable=True),
        **text, **keywords, **dates)


def _fields(source: IndexDocument) -> dict[str, Any]:
    """whoosh takes no empty lists: a field without values is left out."""
    return {name: value for name, value in source.fields().items() if value != []}


class WhooshBackend:
    """whoosh on disk. One writer at a time (whoosh's lock file). Every read opens its own searcher on
    the latest commit (a few milliseconds): whoosh searchers are not safe to share between threads."""

    name = "whoosh"

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if wi.exists_in(str(directory)):
            self.index = wi.open_dir(str(directory))
        else:
            self.index = wi.create_in(str(directory), build_schema())
        self.compiler = WhooshCompiler()
        self._writer: Any = None
        self._added: set[str] = set()  # records the open writer added documents for
        self._cleared = False  # the open writer commits with every earlier segment dropped

    # -- writing ---------------------------------------------------------------------------------

    def add(self, documents: Iterable[IndexDocument]) -> None:
        for document in documents:  # the writer (and its lock) is taken at the first document
            self._writer_().add_document(**_fields(document))
            self._added.add(document.record_id)

    def delete(self, record_ids: Sequence[str]) -> None:
        if not record_ids:
            return
        writer = self._writer_for(record_ids)
        if not self._cleared:
            writer.delete_by_query(_any_record(record_ids))

    def clear(self) -> None:
        if self._added:  # documents this writer added would survive the clearing commit: drop them
            self._writer.cancel()
            self._reset_writes()
        self._writer_()
        self._cleared = True

    def commit(self) -> None:
        writer = self._writer
        if writer is None:
            return
        if self._cleared:
            writer.commit(mergetype=CLEAR)  # drops every earlier segment: the index holds only this batch
        else:
            writer.commit()
        self._reset_writes()

    def _writer_for(self, record_ids: Iterable[str]) -> Any:
        """The open writer, first committed if it already added one of these records: a whoosh writer
        deletes only committed documents, so it could not replace its own addition."""
        if not self._added.isdisjoint(record_ids):
            self.commit()
        return self._writer_()

    def _writer_(self) -> Any:
        if self._writer is None:
            try:
                self._writer = self.index.writer(limitmb=WRITER_MB, compound=False)
            except wi.LockError as error:
                raise SearchIndexError("the whoosh index is locked by another writer; "
                                       "wait for it to finish or stop it") from error
        return self._writer

    def _reset_writes(self) -> None:
        self._writer = None
        self._added = set()
        self._cleared = False

    # -- reading ---------------------------------------------------------------------------------

    def _scoped(self, query: AstQuery, *extra: WhooshQuery) -> WhooshQuery:
        """The compiled query on record documents, or on the versions current at ``as_of``."""
        clauses = [self.compiler.compile(query.root)]
        if query.as_of is None:
            clauses.append(wq.Term("doc_type", "record"))
        else:
            moment = as_of_moment(query.as_of)
            clauses += [wq.Term("doc_type", "version"),
                        wq.NumericRange("valid_from", None, moment),
                        wq.NumericRange("valid_to", moment, None, startexcl=True)]
        return wq.And(clauses + list(extra))

    def search(self, request: EngineRequest) -> EnginePage:
        with self.index.searcher() as searcher:
            if request.sort is Sort.RELEVANCE:
                return self._by_relevance(searcher, request)
            return self._by_date(searcher, request)

    def _by_relevance(self, searcher: Any, request: EngineRequest) -> EnginePage:
        offset = request.after or 0
        # no block-quality skipping and no matcher replacement: every match is scored and counted
        collector = TopCollector(limit=offset + request.limit, usequality=False, replace=0)
        searcher.search_with_collector(self._scoped(request.query), collector)
        hits = [_hit(hit.fields(), hit.score) for hit in collector.results()[offset:offset + request.limit]]
        return EnginePage(hits=hits, total=collector.count())

    def _by_date(self, searcher: Any, request: EngineRequest) -> EnginePage:
        newest = request.sort is Sort.NEWEST
        extra = []
        if request.after is not None:  # true search-after: keys strictly beyond the last one returned
            bound = (None, request.after) if newest else (request.after, None)
            extra.append(wq.NumericRange("date_key", *bound, startexcl=not newest, endexcl=newest))
        results = searcher.search(self._scoped(request.query, *extra), limit=request.limit, sortedby="date_key",
                                  reverse=newest)
        hits = [_hit(stored, stored["date_key"]) for stored in (hit.fields() for hit in results)]
        total = len(results) if request.after is None else _count(searcher, self._scoped(request.query))
        return EnginePage(hits=hits, total=total)

    def matching_versions(self, query: AstQuery, record_ids: Sequence[str]) -> Mapping[str, list[int]]:
        if not record_ids:
            return {}
        compiled = wq.And([self.compiler.compile(query.root), wq.Term("doc_type", "version"),
                           _any_record(record_ids)])
        found: dict[str, list[int]] = {}
        with self.index.searcher() as searcher:
            for docnum in searcher.docs_for_query(compiled):
                stored = searcher.stored_fields(docnum)
                found.setdefault(stored["record_id"], []).extend(stored["numbers"])
        return {record_id: sorted(numbers) for record_id, numbers in found.items()}

    def records_matching_since(self, query: AstQuery, since: int, limit: int) -> list[str]:
        if limit <= 0:
            return []
        compiled = wq.And([self.compiler.compile(query.root), wq.Term("doc_type", "version"),
                           wq.NumericRange("log_index", since, None)])
        found: dict[str, None] = {}  # an ordered set
        with self.index.searcher() as searcher:
            for hit in searcher.search(compiled, limit=None, sortedby="log_index", reverse=True):
                found.setdefault(hit["record_id"])
                if len(found) == limit:
                    break
        return list(found)

    def facets(self, query: AstQuery) -> Mapping[str, Mapping[str, int]]:
        with self.index.searcher() as searcher:
            matching = set(searcher.docs_for_query(self._scoped(query)))
            reader = searcher.reader()
            return {name: _top(_value_counts(reader, field, matching)) for name, field in FACETS.items()}

    def document_count(self) -> int:
        with self.index.searcher() as searcher:
            return _count(searcher, wq.Term("doc_type", "record"))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._reset_writes()


def _hit(stored: Mapping[str, Any], sort_value: float | int) -> EngineHit:
    return EngineHit(record_id=stored["record_id"], sort_value=sort_value, log_index=stored["log_index"])


def _any_record(record_ids: Iterable[str]) -> WhooshQuery:
    return wq.Or([wq.Term("record_id", record_id) for record_id in record_ids])


def _count(searcher: Any, compiled: WhooshQuery) -> int:
    return sum(1 for _ in searcher.docs_for_query(compiled))


def _value_counts(reader: Any, field: str, matching: set[int]) -> dict[str, int]:
    """How many of the ``matching`` documents hold each value of a keyword field."""
    counts: dict[str, int] = {}
    if not matching:
        return counts
    for term in reader.lexicon(field):
        count = sum(1 for docnum in reader.postings(field, term).all_ids() if docnum in matching)
        if count:
            counts[term.decode("utf-8")] = count
    return counts


def _top(counts: dict[str, int]) -> dict[str, int]:
    """The ``FACET_SIZE`` most frequent values (ties by value), as tantivy's terms aggregation returns."""
    return dict(heapq.nsmallest(FACET_SIZE, counts.items(), key=lambda item: (-item[1], item[0])))
