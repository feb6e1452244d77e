"""The simulated Mastodon server on a real socket: rate limits, tokens, fault injection and a request log.

Standard library only (``http.server``), so the shipped demo needs nothing extra. The API logic lives
in ``mastodon_api``; this module adds what sits around it on a real instance: rack-attack's
``X-RateLimit-*`` headers and 429, token checks, media files served as nginx would, and the
failures a collector must survive (5xx pages, broken bodies, dropped connections, latency).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from archiver.clock import Clock, isoformat_z
from archiver.simulator.mastodon_api import ApiRequest, ApiResponse, MastodonApi, error_response
from archiver.simulator.mastodon_state import MastodonInstance, SimulatorError, TokenGrant

REQUIRES_AUTH_MESSAGE = "This API requires an authenticated user"
INVALID_TOKEN_MESSAGE = "The access token is invalid"
TOO_MANY_MESSAGE = "Too many requests"
_HTML_STATUS_TEXT = {404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True)
class RateDecision:
    """One request's standing against the budget, rendered as rack-attack's headers."""

    limit: int
    remaining: int
    reset: datetime
    allowed: bool

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", isoformat_z(self.reset)),
        ]


class RateLimiter:
    """A fixed-window counter aligned to the epoch, on the injected clock (like rack-attack).

    One budget for all callers: the simulator has one client address. Mastodon's extra
    300-per-15-minutes throttle on paging requests is not modelled.
    """

    def __init__(self, clock: Clock, limit: int = 300, window_seconds: float = 300.0) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.configure(limit=limit, window_seconds=window_seconds)

    def configure(self, *, limit: int | None = None, window_seconds: float | None = None) -> None:
        """Change the budget or window while running; the current count starts over."""
        with self._lock:
            if limit is not None:
                self._limit = limit
            if window_seconds is not None:
                if window_seconds <= 0:
                    raise SimulatorError(f"rate-limit window {window_seconds}s is not positive; use seconds > 0")
                self._window = window_seconds
            self._window_index = -1
            self._count = 0

    def hit(self) -> RateDecision:
        """Count one request and say whether it is allowed."""
        with self._lock:
            reset = self._roll()
            self._count += 1
            allowed = self._count <= self._limit
            return RateDecision(self._limit, max(0, self._limit - self._count), reset, allowed)

    def peek(self) -> RateDecision:
        """The standing without counting (for answers that never reach the app, e.g. injected faults)."""
        with self._lock:
            reset = self._roll()
            return RateDecision(self._limit, max(0, self._limit - self._count), reset, True)

    def _roll(self) -> datetime:
        epoch = self._clock.now().timestamp()
        index = math.floor(epoch / self._window)
        if index != self._window_index:
            self._window_index, self._count = index, 0
        return datetime.fromtimestamp((index + 1) * self._window, UTC)


@dataclass(frozen=True)
class Fault:
    """A scripted failure. ``respond`` sends status/body; ``drop`` closes the socket without an
    answer; ``truncate`` sends the real answer's headers and only half of its body."""

    action: Literal["respond", "drop", "truncate"] = "respond"
    status: int = 500
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"

    @classmethod
    def json_error(cls, status: int, message: str = "Internal server error") -> Fault:
        return cls(status=status, body=error_response(status, message).body)

    @classmethod
    def html_error(cls, status: int = 502) -> Fault:
        """An nginx-style error page, as a reverse proxy answers when the app is down."""
        title = f"{status} {_HTML_STATUS_TEXT.get(status, 'Error')}"
        page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        page += "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        return cls(status=status, body=page.encode(), content_type="text/html")

    @classmethod
    def malformed_json(cls, status: int = 200) -> Fault:
        """A well-framed body that is not valid JSON (cut off mid-object)."""
        return cls(status=status, body=b'[{"id":"1","created_at":"2025-03-01T15:04:05.000Z","content":"<p>Ma')

    @classmethod
    def drop_connection(cls) -> Fault:
        return cls(action="drop")

    @classmethod
    def truncated_body(cls) -> Fault:
        return cls(action="truncate")


@dataclass
class _FaultRule:
    fault: Fault
    remaining: int
    path_prefix: str | None


class FaultPlan:
    """Faults for the next N requests (optionally only those under a path prefix), in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_FaultRule] = []

    def inject(self, fault: Fault, *, times: int = 1, path_prefix: str | None = None) -> None:
        with self._lock:
            self._rules.append(_FaultRule(fault, times, path_prefix))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(rule.remaining for rule in self._rules)

    def take(self, path: str) -> Fault | None:
        """The fault for this request, if any rule matches; each match uses up one of its N."""
        with self._lock:
            for rule in self._rules:
                if rule.path_prefix is None or path.startswith(rule.path_prefix):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule.fault
            return None


@dataclass(frozen=True)
class LoggedRequest:
    """What arrived, for assertions. Header names are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class MastodonServer:
    """A running simulator. ``require_token`` and ``latency_seconds`` may be changed while it runs."""

    def __init__(
        self,
        instance: MastodonInstance,
        *,
        require_token: bool = False,
        rate_limit: int = 300,
        rate_window_seconds: float = 300.0,
        latency_seconds: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.instance = instance
        self.require_token = require_token
        self.latency_seconds = latency_seconds
        self.rate_limiter = RateLimiter(instance.clock, rate_limit, rate_window_seconds)
        self.faults = FaultPlan()
        self.base_url = ""
        self._sleep = sleep
        self._log_lock = threading.Lock()
        self._log: list[LoggedRequest] = []

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def set_rate_limit(self, limit: int, window_seconds: float | None = None) -> None:
        self.rate_limiter.configure(limit=limit, window_seconds=window_seconds)

    def record(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)
        if self.latency_seconds > 0:
            self._sleep(self.latency_seconds)

    def respond(self, path: str, query: dict[str, list[str]], authorization: str | None) -> ApiResponse:
        """The answer the real stack would give: nginx for files, rack-attack then Rails for the API."""
        if path.startswith("/system/"):
            return self._file(path.removeprefix("/system/"))
        decision = self.rate_limiter.hit()
        if not decision.allowed:
            response = error_response(429, TOO_MANY_MESSAGE)
        else:
            response = self._api(path, query, authorization)
        response.headers.extend(decision.headers())
        return response

    def fault_response(self, fault: Fault) -> ApiResponse:
        headers = [("Content-Type", fault.content_type), *self.rate_limiter.peek().headers()]
        return ApiResponse(fault.status, fault.body, headers)

    def _api(self, path: str, query: dict[str, list[str]], authorization: str | None) -> ApiResponse:
        token = _bearer(authorization)
        grant: TokenGrant | None = None
        if token is not None:
            grant = self.instance.resolve_token(token)
            if grant is None:
                return error_response(401, INVALID_TOKEN_MESSAGE)
        elif self.require_token:
            return error_response(401, REQUIRES_AUTH_MESSAGE)
        first = {name: values[0] for name, values in query.items()}
        request = ApiRequest(path, first, grant.account_id if grant else None, grant is not None)
        with self.instance.lock:
            return MastodonApi(self.instance, self.base_url).handle(request)

    def _file(self, relative: str) -> ApiResponse:
        media = self.instance.media_file(relative)
        if media is None:
            return ApiResponse(404, Fault.html_error(404).body, [("Content-Type", "text/html")])
        headers = [("Content-Type", media.mime), ("Cache-Control", "public, max-age=315576000, immutable")]
        return ApiResponse(200, media.data, headers)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _Handler(BaseHTTPRequestHandler):
    """Adapts http.server to ``MastodonServer``; HTTP/1.1 with keep-alive, as collectors expect."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms to each.
    disable_nagle_algorithm = True
    server: _HttpServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def version_string(self) -> str:
        return "Mastodon"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silenced: the structured request log replaces stderr lines."""

    def _serve(self, *, head: bool) -> None:
        sim = self.server.simulator
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        sim.record(LoggedRequest(self.command, url.path, query, headers))
        fault = sim.faults.take(url.path)
        if fault is not None and fault.action == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.action == "respond":
            self._send(sim.fault_response(fault), head=head)
            return
        response = sim.respond(url.path, query, self.headers.get("Authorization"))
        self._send(response, head=head, truncate=fault is not None)

    def _send(self, response: ApiResponse, *, head: bool, truncate: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(response.body[: len(response.body) // 2] if truncate else response.body)
        if truncate:
            self.close_connection = True


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: MastodonServer) -> None:
        self.simulator = simulator
        super().__init__(address, _Handler)


@contextmanager
def run_mastodon(
    instance: MastodonInstance,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    require_token: bool = False,
    rate_limit: int = 300,
    rate_window_seconds: float = 300.0,
    latency_seconds: float = 0.0,
) -> Iterator[MastodonServer]:
    """Serve ``instance`` on ``host:port`` (0 picks a free port) in a background thread.

    Yields the ``MastodonServer``; its ``base_url`` is what a collector is pointed at. The server
    stops when the block exits, even if it raised.
    """
    simulator = MastodonServer(
        instance,
        require_token=require_token,
        rate_limit=rate_limit,
        rate_window_seconds=rate_window_seconds,
        latency_seconds=latency_seconds,
    )
    httpd = _HttpServer((host, port), simulator)
    bound_host, bound_port = httpd.server_address[:2]
    simulator.base_url = f"http://{bound_host!s}:{bound_port}"
    # A short poll interval keeps shutdown (and so every test using the server) quick.
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"mastodon-sim-{bound_port}", daemon=True
    )
    thread.start()
    try:
        yield simulator
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
