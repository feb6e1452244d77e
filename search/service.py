"""The search API: parse, run on the engine, take rows from the catalog, add snippets.

The engine returns record ids only; every field shown comes from the catalog, so a result can
never show something the archive does not hold. Pages are addressed by an opaque cursor tied to
the query and sort, so a cursor cannot be replayed against a different search.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, replace
from datetime import date, datetime

from archiver.db.catalog import Catalog
from archiver.db.index_feed import HitRow, hit_rows
from search.backends.base import EngineHit, EngineRequest, SearchBackend, Sort
from search.errors import SearchError
from search.query.ast import Query
from search.query.parser import parse_query
from search.snippets import Highlighter, snippet

MAX_LIMIT = 1000
MAX_RELEVANCE_DEPTH = 10_000


@dataclass(frozen=True)
class SearchRequest:
    text: str
    as_of: date | None = None  # overrides an as-of: in the text
    sort: Sort = Sort.RELEVANCE
    limit: int = 20
    cursor: str | None = None
    facets: bool = False


@dataclass(frozen=True)
class Hit:
    record_id: str
    platform: str
    platform_id: str
    account_id: str
    kind: str
    url: str | None
    posted_at: datetime | None
    latest_version: int
    latest_state: str
    author: str | None
    matched_versions: list[int]
    snippet_version: int
    snippet: list[tuple[str, bool]]
    sort_value: float | int


@dataclass(frozen=True)
class SearchResults:
    query: str
    backend: str
    total: int  # matching records
    hits: list[Hit]
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None
    as_of: date | None
    took_ms: float


def run_search(catalog: Catalog, backend: SearchBackend, request: SearchRequest) -> SearchResults:
    started = time.perf_counter()
    if not 1 <= request.limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}", code="bad_limit")
    query = parse_query(request.text)
    if request.as_of is not None:
        query = replace(query, as_of=request.as_of)
    after = _decode_cursor(request.cursor, request, query)
    if request.sort is Sort.RELEVANCE and (after or 0) + request.limit > MAX_RELEVANCE_DEPTH:
        raise SearchError(f"relevance order pages stop at {MAX_RELEVANCE_DEPTH:,} results; sort by date "
                          "(--sort newest) to page through everything", code="too_deep")
    page = backend.search(EngineRequest(query=query, sort=request.sort, limit=request.limit, after=after))
    ids = [hit.record_id for hit in page.hits]
    matched = backend.matching_versions(query, ids)
    with catalog.read() as conn:
        rows = hit_rows(conn, ids)
    highlighter = Highlighter.for_query(query)
    hits = [_hit(rows[h.record_id], matched.get(h.record_id, []), h.sort_value, highlighter)
            for h in page.hits if h.record_id in rows]
    next_after = _next_after(request, after, page.hits)
    return SearchResults(
        query=request.text, backend=backend.name, total=page.total, hits=hits,
        next_cursor=_encode_cursor(request, query, next_after) if next_after is not None else None,
        facets={k: dict(v) for k, v in backend.facets(query).items()} if request.facets else None,
        as_of=query.as_of, took_ms=(time.perf_counter() - started) * 1000)


def _hit(row: HitRow, matched: list[int], sort_value: float | int, highlighter: Highlighter) -> Hit:
    shown = matched[-1] if matched else row.latest_version
    text, lang, _ = row.versions.get(shown, ("", None, None))
    if not text:  # a tombstone: show what it took away
        text, lang = next(((v[0], v[1]) for n, v in sorted(row.versions.items(), reverse=True) if n < shown and v[0]),
                          ("", None))
    author = next((v[2] for _, v in sorted(row.versions.items(), reverse=True) if v[2]), None)
    return Hit(record_id=row.record_id, platform=row.platform, platform_id=row.platform_id,
               account_id=row.account_id, kind=row.kind, url=row.url, posted_at=row.posted_at,
               latest_version=row.latest_version, latest_state=row.latest_state, author=author,
               matched_versions=matched, snippet_version=shown, snippet=snippet(text, highlighter, lang),
               sort_value=sort_value)


def _next_after(request: SearchRequest, after: int | None, hits: list[EngineHit]) -> int | None:
    if len(hits) < request.limit:
        return None
    if request.sort is Sort.RELEVANCE:
        return (after or 0) + len(hits)
    return int(hits[-1].sort_value)


def _fingerprint(request: SearchRequest, query: Query) -> str:
    return hashlib.sha256(f"{request.sort}\n{query!r}".encode()).hexdigest()[:16]


def _encode_cursor(request: SearchRequest, query: Query, after: int) -> str:
    raw = json.dumps({"q": _fingerprint(request, query), "a": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None, request: SearchRequest, query: Query) -> int | None:
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        fingerprint, after = str(data["q"]), int(data["a"])
    except (ValueError, KeyError, TypeError):
        raise SearchError("the page cursor is damaged; start the search again without it",
                          code="bad_cursor") from None
    if fingerprint != _fingerprint(request, query):
        raise SearchError("the page cursor belongs to a different query or sort; start again without it",
                          code="bad_cursor")
    return after
