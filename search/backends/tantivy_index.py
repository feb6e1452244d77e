"""The tantivy backend: record and version documents in one index directory on disk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from search.backends.base import FACETS, EngineHit, EnginePage, EngineRequest, Sort
from search.backends.tantivy_query import TantivyCompiler
from search.fields import IndexDocument
from search.query.ast import Query as AstQuery
from search.query.plan import as_of_moment

FACET_FIELDS = frozenset(FACETS.values())
KEYWORDS = ("platform", "account", "account_handle", "author", "kind", "state", "reason", "lang", "tag", "has",
            "year")
WRITER_HEAP = 256 * 1024 * 1024
FACET_SIZE = 100


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc_type", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("record_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("log_index", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("numbers", stored=True)
    builder.add_text_field("exact", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("stems", tokenizer_name="whitespace", index_option="position")
    for name in KEYWORDS:  # only facet fields need a column (fast field) for aggregations
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=name in FACET_FIELDS)
    for name in ("posted", "captured", "valid_from", "valid_to"):
        builder.add_integer_field(name, indexed=True, fast=True)
    builder.add_unsigned_field("date_key", indexed=True, fast=True)
    return builder.build()


class TantivyBackend:
    """tantivy on disk. One writer (the indexer holds the index lock); searchers reload on commit."""

    name = "tantivy"

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        self.index = tantivy.Index(self.schema, path=str(directory), reuse=True)
        self.compiler = TantivyCompiler(self.schema)
        self._writer: Any = None

    # -- writing ---------------------------------------------------------------------------------

    def add(self, documents: Iterable[IndexDocument]) -> None:
        for document in documents:  # the writer is opened at the first document
            self._writer_().add_document(tantivy.Document.from_dict(document.fields(), self.schema))

    def delete(self, record_ids: Sequence[str]) -> None:
        if record_ids:
            self._writer_().delete_documents_by_query(self._records_query(record_ids))

    def clear(self) -> None:
        self._writer_().delete_all_documents()

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None
        self.index.reload()

    def _writer_(self) -> Any:
        if self._writer is None:
            self._writer = self.index.writer(WRITER_HEAP, 1)
        return self._writer

    def _records_query(self, record_ids: Iterable[str]) -> Query:
        return Query.term_set_query(self.schema, "record_id", list(record_ids))

    # -- reading ---------------------------------------------------------------------------------

    def _scoped(self, query: AstQuery, *extra: Query) -> Query:
        """The compiled query on record documents, or on the versions current at ``as_of``."""
        clauses = [(Occur.Must, self.compiler.compile(query.root))]
        if query.as_of is None:
            clauses.append((Occur.Must, Query.term_query(self.schema, "doc_type", "record")))
        else:
            moment = as_of_moment(query.as_of)
            clauses += [(Occur.Must, Query.term_query(self.schema, "doc_type", "version")),
                        (Occur.Must, Query.range_query(self.schema, "valid_from", FieldType.Integer, None, moment)),
                        (Occur.Must, Query.range_query(self.schema, "valid_to", FieldType.Integer, moment, None,
                                                       include_lower=False))]
        clauses += [(Occur.Must, q) for q in extra]
        return Query.boolean_query(clauses)

    def search(self, request: EngineRequest) -> EnginePage:
        searcher = self.index.searcher()
        scoped = self._scoped(request.query)
        if request.sort is Sort.RELEVANCE:
            result = searcher.search(scoped, limit=request.limit, count=True, offset=request.after or 0)
            total = _count(result)
        else:
            newest = request.sort is Sort.NEWEST
            page = scoped
            if request.after is not None:  # search-after: strictly beyond the previous page's last key
                lower, upper = (None, request.after) if newest else (request.after, None)
                beyond = Query.range_query(self.schema, "date_key", FieldType.Unsigned, lower, upper,
                                           include_lower=newest, include_upper=not newest)
                page = Query.boolean_query([(Occur.Must, scoped), (Occur.Must, beyond)])
            result = searcher.search(page, limit=request.limit, count=True, order_by_field="date_key",
                                     order=tantivy.Order.Desc if newest else tantivy.Order.Asc)
            total = _count(result if request.after is None else searcher.search(scoped, limit=1, count=True))
        hits = []
        for order_key, address in result.hits:  # a score, or the date key when ordered by it
            stored = searcher.doc(address)
            hits.append(EngineHit(record_id=str(stored.get_first("record_id")), sort_value=order_key,
                                  log_index=int(stored.get_first("log_index") or 0)))
        return EnginePage(hits=hits, total=total)

    def matching_versions(self, query: AstQuery, record_ids: Sequence[str]) -> Mapping[str, list[int]]:
        if not record_ids:
            return {}
        compiled = Query.boolean_query([
            (Occur.Must, self.compiler.compile(query.root)),
            (Occur.Must, Query.term_query(self.schema, "doc_type", "version")),
            (Occur.Must, self._records_query(record_ids))])
        searcher = self.index.searcher()
        result = searcher.search(compiled, limit=max(1000, 50 * len(record_ids)), count=False)
        found: dict[str, list[int]] = {}
        for _, address in result.hits:
            stored = searcher.doc(address)
            found.setdefault(str(stored.get_first("record_id")), []).extend(stored.get_all("numbers"))
        return {record_id: sorted(numbers) for record_id, numbers in found.items()}

    def records_matching_since(self, query: AstQuery, since: int, limit: int) -> list[str]:
        compiled = Query.boolean_query([
            (Occur.Must, self.compiler.compile(query.root)),
            (Occur.Must, Query.term_query(self.schema, "doc_type", "version")),
            (Occur.Must, Query.range_query(self.schema, "log_index", FieldType.Unsigned, since, None))])
        searcher = self.index.searcher()
        result = searcher.search(compiled, limit=limit * 4, count=False, order_by_field="log_index")
        found: dict[str, None] = {}  # an ordered set: a hold's query can match many thousands of records
        for _, address in result.hits:
            found.setdefault(str(searcher.doc(address).get_first("record_id")))
        return list(found)[:limit]

    def facets(self, query: AstQuery) -> Mapping[str, Mapping[str, int]]:
        spec = {name: {"terms": {"field": field, "size": FACET_SIZE}} for name, field in FACETS.items()}
        result = self.index.searcher().aggregate(self._scoped(query), spec)
        return {name: {str(b["key"]): int(b["doc_count"]) for b in result.get(name, {}).get("buckets", [])}
                for name in FACETS}

    def document_count(self) -> int:
        searcher = self.index.searcher()
        return _count(searcher.search(Query.term_query(self.schema, "doc_type", "record"), limit=1, count=True))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None


def _count(result: tantivy.SearchResult) -> int:
    """The number of matching documents (the stubs omit ``count``, which ``count=True`` fills in)."""
    return int(result.count)  # type: ignore[attr-defined]
