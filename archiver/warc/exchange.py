"""One HTTP exchange with a platform as received, with credentials redacted, ready to become WARC records."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from warcio.statusandheaders import StatusAndHeaders

from archiver.warc.writer import WarcFile, WrittenRecord

REDACTED = "REDACTED"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"})
SECRET_PARAMS = frozenset({"access_token", "token", "key", "api_key", "apikey", "client_secret",
                           "client_id", "password", "appsecret_proof", "oauth_token", "refresh_token"})
REDACTION_FIELD = "WARC-Arsip-Redacted"

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class HttpExchange:
    """A request we sent and the response we received, byte for byte except for redacted secrets.

    The body is kept as received (content-encoding intact). Large bodies (media) live in a file
    so a capture never holds a video in memory.
    """

    method: str
    url: str
    request_headers: Headers
    request_body: bytes
    http_version: str
    status: int
    reason: str
    response_headers: Headers
    body: bytes | None
    body_path: Path | None
    started_at: datetime
    redactions: tuple[str, ...] = ()

    @property
    def body_length(self) -> int:
        if self.body is not None:
            return len(self.body)
        assert self.body_path is not None
        return self.body_path.stat().st_size

    def open_body(self) -> BinaryIO:
        if self.body is not None:
            return io.BytesIO(self.body)
        assert self.body_path is not None
        return open(self.body_path, "rb")  # noqa: SIM115 - caller closes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.response_headers:
            if key.lower() == lowered:
                return value
        return None


def redact_request(url: str, headers: Sequence[tuple[str, str]]) -> tuple[str, Headers, tuple[str, ...]]:
    """Replace credentials in a request's URL and headers; return what was redacted, by name only."""
    notes: list[str] = []
    clean_headers = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            notes.append(f"header:{name}")
            value = _redact_auth_value(value)
        clean_headers.append((name, value))
    clean_url, params = redact_url(url)
    notes.extend(f"query:{name}" for name in params)
    return clean_url, tuple(clean_headers), tuple(notes)


def redact_url(url: str) -> tuple[str, list[str]]:
    """Replace secret query parameters' values; return the clean URL and the redacted names."""
    parts = urlsplit(url)
    if not parts.query:
        return url, []
    redacted: list[str] = []
    pairs = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in SECRET_PARAMS:
            redacted.append(name)
            value = REDACTED
        pairs.append((name, value))
    if not redacted:
        return url, []
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=":/"))), redacted


def _redact_auth_value(value: str) -> str:
    # Keep the scheme ("Bearer") so a reader knows what kind of credential was sent.
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {REDACTED}" if rest else REDACTED


@dataclass(frozen=True)
class WrittenExchange:
    """The request and response records of one exchange in one WARC file."""

    request: WrittenRecord
    response: WrittenRecord


def write_exchange(warc: WarcFile, exchange: HttpExchange) -> WrittenExchange:
    """Append the response, then the request that produced it, sharing one WARC-Date (one capture
    event) and linked by WARC-Concurrent-To. Redactions are declared on the request record."""
    http_response = StatusAndHeaders(f"{exchange.status} {exchange.reason}".strip(),
                                     list(exchange.response_headers), protocol=exchange.http_version)
    with exchange.open_body() as body:
        response = warc.write("response", exchange.url, body, date=exchange.started_at,
                              http_headers=http_response, length=exchange.body_length)
    parts = urlsplit(exchange.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    http_request = StatusAndHeaders(f"{exchange.method} {target} {exchange.http_version}",
                                    list(exchange.request_headers), is_http_request=True)
    extra = {REDACTION_FIELD: "; ".join(exchange.redactions)} if exchange.redactions else None
    request = warc.write("request", exchange.url, exchange.request_body, date=exchange.started_at,
                         http_headers=http_request, headers=extra, concurrent_to=[response.record_id])
    return WrittenExchange(request=request, response=response)
