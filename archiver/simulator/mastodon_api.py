"""The Mastodon REST endpoints the collector uses, as pure functions from a parsed request to a response.

Kept apart from the socket server so the paging, visibility and thread rules read (and can be
tested) without HTTP in the way. Behaviour follows Mastodon 4.x: ``paginate_by_id`` for
``max_id``/``since_id``/``min_id``, ``Link`` headers built from the permitted filter parameters,
and the anonymous caps on ``/context``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from archiver.simulator.mastodon_state import MastodonInstance, Status
from archiver.simulator.mastodon_wire import WireRenderer, dump_json

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
NOT_FOUND_MESSAGE = "Record not found"
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
# (ancestors, descendants, depth) for anonymous callers and for callers with a token (Mastodon 4.0+).
ANONYMOUS_CONTEXT_CAPS = (40, 60, 20)
TOKEN_CONTEXT_CAPS: tuple[int, int, int | None] = (4096, 4096, None)
# Only these survive into the Link URLs, as in Mastodon's AccountsStatusesController.
_LINK_PARAMS = ("exclude_reblogs", "exclude_replies", "limit", "only_media", "pinned", "tagged")
# ActiveModel's false values; anything else present and non-blank is true.
_FALSE_VALUES = frozenset({"0", "f", "F", "false", "FALSE", "off", "OFF"})


@dataclass(frozen=True)
class ApiRequest:
    """A GET on the API. ``viewer`` is the token's account; ``authenticated`` is any valid token."""

    path: str
    query: Mapping[str, str]
    viewer: str | None = None
    authenticated: bool = False


@dataclass
class ApiResponse:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, payload: object, headers: Sequence[tuple[str, str]] = ()) -> ApiResponse:
    return ApiResponse(status, dump_json(payload), [("Content-Type", JSON_CONTENT_TYPE), *headers])


def error_response(status: int, message: str) -> ApiResponse:
    """Mastodon's error shape: ``{"error": "<message>"}``."""
    return json_response(status, {"error": message})


def not_found() -> ApiResponse:
    return error_response(404, NOT_FOUND_MESSAGE)


class MastodonApi:
    """Answers one request against the instance; call with the instance lock held."""

    def __init__(self, instance: MastodonInstance, base_url: str) -> None:
        self.instance = instance
        self.base_url = base_url.rstrip("/")
        self._routes: list[tuple[re.Pattern[str], Callable[[ApiRequest, str], ApiResponse]]] = [
            (re.compile(r"/api/v1/accounts/lookup"), self._lookup),
            (re.compile(r"/api/v1/accounts/([^/]+)"), self._account),
            (re.compile(r"/api/v1/accounts/([^/]+)/statuses"), self._account_statuses),
            (re.compile(r"/api/v1/statuses/([^/]+)"), self._status),
            (re.compile(r"/api/v1/statuses/([^/]+)/context"), self._context),
            (re.compile(r"/api/v1/statuses/([^/]+)/history"), self._history),
        ]

    def handle(self, request: ApiRequest) -> ApiResponse:
        for pattern, endpoint in self._routes:
            match = pattern.fullmatch(request.path)
            if match is not None:
                return endpoint(request, match.group(1) if match.groups() else "")
        return not_found()

    def _renderer(self) -> WireRenderer:
        return WireRenderer(self.instance, self.base_url)

    def _lookup(self, request: ApiRequest, _: str) -> ApiResponse:
        account = self.instance.find_account(request.query.get("acct", ""))
        return not_found() if account is None else json_response(200, self._renderer().account(account))

    def _account(self, request: ApiRequest, account_id: str) -> ApiResponse:
        account = self.instance.account(account_id)
        return not_found() if account is None else json_response(200, self._renderer().account(account))

    def _account_statuses(self, request: ApiRequest, account_id: str) -> ApiResponse:
        if self.instance.account(account_id) is None:
            return not_found()
        query = TimelineQuery.parse(request.query)
        page = select_page(self.instance, account_id, request.viewer, query)
        renderer = self._renderer()
        link = link_header(f"{self.base_url}{request.path}", request.query, page, query.limit)
        return json_response(200, [renderer.status(s) for s in page], [("Link", link)] if link else [])

    def _visible(self, request: ApiRequest, status_id: str) -> Status | None:
        status = self.instance.status(status_id)
        if status is None or not self.instance.can_see(status, request.viewer):
            return None
        return status

    def _status(self, request: ApiRequest, status_id: str) -> ApiResponse:
        status = self._visible(request, status_id)
        return not_found() if status is None else json_response(200, self._renderer().status(status))

    def _history(self, request: ApiRequest, status_id: str) -> ApiResponse:
        status = self._visible(request, status_id)
        if status is None:
            return not_found()
        renderer = self._renderer()
        return json_response(200, [renderer.edit(status, r) for r in status.revisions])

    def _context(self, request: ApiRequest, status_id: str) -> ApiResponse:
        status = self._visible(request, status_id)
        if status is None:
            return not_found()
        max_up, max_down, depth = TOKEN_CONTEXT_CAPS if request.authenticated else ANONYMOUS_CONTEXT_CAPS
        up = [s for s in ancestors(self.instance, status, max_up) if self.instance.can_see(s, request.viewer)]
        down = descendants(self.instance, status, max_down, depth)
        down = [s for s in down if self.instance.can_see(s, request.viewer)]
        renderer = self._renderer()
        payload = {"ancestors": [renderer.status(s) for s in up], "descendants": [renderer.status(s) for s in down]}
        return json_response(200, payload)


@dataclass(frozen=True)
class TimelineQuery:
    """The parameters of ``GET /api/v1/accounts/:id/statuses``, parsed the way Rails would."""

    limit: int = DEFAULT_LIMIT
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    tagged: str | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> TimelineQuery:
        raw_limit = query.get("limit")
        limit = DEFAULT_LIMIT if raw_limit is None else min(abs(ruby_to_i(raw_limit)), MAX_LIMIT)
        return cls(
            limit=limit,
            max_id=_id_param(query, "max_id"),
            since_id=_id_param(query, "since_id"),
            min_id=_id_param(query, "min_id"),
            exclude_replies=truthy(query.get("exclude_replies")),
            exclude_reblogs=truthy(query.get("exclude_reblogs")),
            only_media=truthy(query.get("only_media")),
            tagged=(query.get("tagged") or "").lower() or None,
        )


def select_page(instance: MastodonInstance, account_id: str, viewer: str | None, q: TimelineQuery) -> list[Status]:
    """One page, newest first. With ``min_id`` the page sits right above it (``since_id`` is ignored)."""
    ids = instance.ids_of(account_id)
    stop = bisect_left(ids, q.max_id) if q.max_id is not None else len(ids)
    if q.min_id is not None:
        start = bisect_right(ids, q.min_id)
        oldest_first = _take(instance, account_id, viewer, q, (ids[i] for i in range(start, stop)))
        return oldest_first[::-1]
    start = bisect_right(ids, q.since_id) if q.since_id is not None else 0
    return _take(instance, account_id, viewer, q, (ids[i] for i in range(stop - 1, start - 1, -1)))


def _take(
    instance: MastodonInstance, account_id: str, viewer: str | None, q: TimelineQuery, ids: Iterator[int]
) -> list[Status]:
    page: list[Status] = []
    for numeric_id in ids:
        if len(page) >= q.limit:
            break
        status = instance.status(str(numeric_id))
        if status is not None and _keeps(instance, account_id, viewer, q, status):
            page.append(status)
    return page


def _keeps(instance: MastodonInstance, account_id: str, viewer: str | None, q: TimelineQuery, s: Status) -> bool:
    if not instance.can_see(s, viewer):
        return False
    # Mastodon keeps self-replies (threads) when replies are excluded.
    if q.exclude_replies and s.in_reply_to_id is not None and s.in_reply_to_account_id != account_id:
        return False
    if q.exclude_reblogs and s.reblog_of_id is not None:
        return False
    if q.only_media and not s.current.media:
        return False
    return q.tagged is None or q.tagged in s.tags


def link_header(endpoint: str, query: Mapping[str, str], page: Sequence[Status], limit: int) -> str | None:
    """``rel="next"`` only when the page is full (as Mastodon does), ``rel="prev"`` when it is not empty.

    A timeline whose length is a multiple of ``limit`` therefore ends with one empty page, exactly
    like the real server; collectors stop at a missing ``next`` or an empty array.
    """
    kept = {k: query[k] for k in _LINK_PARAMS if k in query}
    links = []
    if page and len(page) == limit:
        links.append(f'<{endpoint}?{urlencode(sorted({**kept, "max_id": page[-1].id}.items()))}>; rel="next"')
    if page:
        links.append(f'<{endpoint}?{urlencode(sorted({**kept, "min_id": page[0].id}.items()))}>; rel="prev"')
    return ", ".join(links) or None


def ancestors(instance: MastodonInstance, status: Status, limit: int) -> list[Status]:
    """The nearest ``limit`` ancestors, oldest first; the chain stops at a deleted parent."""
    chain: list[Status] = []
    current = status
    while current.in_reply_to_id is not None and len(chain) < limit:
        parent = instance.status(current.in_reply_to_id)
        if parent is None:
            break
        chain.append(parent)
        current = parent
    return chain[::-1]


def descendants(instance: MastodonInstance, status: Status, limit: int, max_depth: int | None) -> list[Status]:
    """Depth-first, replies in id order, at most ``max_depth`` levels below ``status``.

    Replies under a deleted reply are unreachable, as in Mastodon's recursive thread query.
    """
    found: list[Status] = []
    stack: list[tuple[Status, int]] = [(child, 1) for child in reversed(instance.replies_to(status.id))]
    while stack and len(found) < limit:
        current, depth = stack.pop()
        found.append(current)
        if max_depth is None or depth < max_depth:
            stack.extend((child, depth + 1) for child in reversed(instance.replies_to(current.id)))
    return found


def ruby_to_i(text: str) -> int:
    """Ruby's ``String#to_i``: the leading integer, or 0 (so ``limit=abc`` means 0, as on Mastodon)."""
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else 0


def truthy(value: str | None) -> bool:
    return value is not None and value != "" and value not in _FALSE_VALUES


def _id_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    return ruby_to_i(value) if value and value.strip() else None
