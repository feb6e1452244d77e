"""The recording HTTP client: every exchange with a platform is written as evidence before it is used.

httpx lives here (and in the time-stamp client). Collectors never see httpx: they get
:class:`Fetched` results whose bytes are exactly what the platform sent.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from archiver import __version__
from archiver.capture.evidence import ExchangeEvidence, RawEvidence
from archiver.clock import Clock
from archiver.errors import CollectorError
from archiver.model import ProblemCode
from archiver.warc.exchange import HttpExchange, redact_request

USER_AGENT = f"Arsip/{__version__} (records archive; +https://github.com/arsip)"
JSON_MAX_BYTES = 32 * 1024 * 1024
CHUNK = 256 * 1024


class EvidenceSink(Protocol):
    def record(self, evidence: RawEvidence) -> str: ...


class RatePolicy(Protocol):
    """How a platform announces its rate limits (Mastodon: ISO reset times; X: epoch seconds)."""

    def pause_after(self, exchange: HttpExchange, now: datetime) -> float:
        """Seconds to wait before the next request (0 when the budget is not exhausted)."""
        ...

    def retry_after(self, exchange: HttpExchange, now: datetime) -> float:
        """Seconds to wait after a 429 before trying again."""
        ...


@dataclass(frozen=True)
class Fetched:
    """A received response, already recorded as evidence under ``evidence_id``."""

    evidence_id: str
    exchange: HttpExchange
    body: bytes  # decoded entity body (empty when the body went to ``exchange.body_path``)

    @property
    def status(self) -> int:
        return self.exchange.status

    def header(self, name: str) -> str | None:
        return self.exchange.header(name)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise CollectorError(f"{self.exchange.url} answered HTTP {self.status} with malformed JSON "
                                 f"({exc}); the response is kept as evidence", code=ProblemCode.BAD_RESPONSE) from None


@dataclass(frozen=True)
class ClientOptions:
    timeout: float = 30.0
    retries: int = 4
    max_rate_wait: float = 900.0
    token: str | None = None
    user_agent: str = USER_AGENT


class RecordingClient:
    """GETs that record every attempt, retry transient failures, and honour rate limits."""

    def __init__(self, sink: EvidenceSink, *, clock: Clock, policy: RatePolicy, options: ClientOptions,
                 spool_dir: Path, transport: httpx.BaseTransport | None = None) -> None:
        self.sink = sink
        self.clock = clock
        self.policy = policy
        self.options = options
        self.spool_dir = spool_dir
        self._pause_until: datetime | None = None
        headers = {"User-Agent": options.user_agent, "Accept-Encoding": "identity"}
        if options.token:
            headers["Authorization"] = f"Bearer {options.token}"
        self._client = httpx.Client(timeout=options.timeout, headers=headers, transport=transport,
                                    follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, *, params: Mapping[str, str | int] | None = None, accept: str = "application/json",
            max_bytes: int = JSON_MAX_BYTES, to_file: bool = False) -> Fetched:
        """Fetch ``url``. 2xx-4xx answers are returned (a 404 is information); 401/403 and
        exhausted retries raise :class:`CollectorError` with a problem code."""
        failures = 0
        rate_waits = 0
        while True:
            self._respect_pause()
            try:
                fetched = self._attempt(url, params, accept, max_bytes, to_file)
            except httpx.TransportError as exc:
                failures += 1
                if failures > self.options.retries:
                    raise CollectorError(f"{url} is unreachable after {failures} attempts ({exc}); check the "
                                         "network or the instance URL", code=ProblemCode.UNREACHABLE) from None
                self.clock.sleep(min(2 ** failures, 60))
                continue
            status = fetched.status
            self._pause_until = _after(self.clock.now(), self.policy.pause_after(fetched.exchange, self.clock.now()))
            if status == 429:
                rate_waits += 1
                self._wait_for_limit(url, self.policy.retry_after(fetched.exchange, self.clock.now()), rate_waits)
                continue
            if status in (401, 403):
                raise CollectorError(f"{url} answered HTTP {status}: the platform refused access; check the "
                                     "account's credentials or whether the server requires a token",
                                     code=ProblemCode.AUTH_FAILED)
            if status >= 500:
                failures += 1
                if failures > self.options.retries:
                    raise CollectorError(f"{url} answered HTTP {status} {failures} times; the platform is "
                                         "failing, try again later", code=ProblemCode.SERVER_ERROR)
                self.clock.sleep(min(2 ** failures, 60))
                continue
            return fetched

    def _respect_pause(self) -> None:
        if self._pause_until is None:
            return
        seconds = (self._pause_until - self.clock.now()).total_seconds()
        if seconds > self.options.max_rate_wait:
            raise CollectorError(f"the platform's rate limit resets in {seconds:.0f} s, longer than "
                                 f"ARSIP_RATE_LIMIT_MAX_WAIT ({self.options.max_rate_wait:.0f} s); "
                                 "the run stops here and resumes next time", code=ProblemCode.RATE_LIMITED)
        self.clock.sleep(seconds)
        self._pause_until = None

    def _wait_for_limit(self, url: str, seconds: float, waits: int) -> None:
        if seconds > self.options.max_rate_wait or waits > 5:
            raise CollectorError(f"{url} is rate-limited (HTTP 429) and resets in {seconds:.0f} s; the run "
                                 "stops here and resumes next time", code=ProblemCode.RATE_LIMITED)
        self.clock.sleep(max(seconds, 1.0))

    def _attempt(self, url: str, params: Mapping[str, str | int] | None, accept: str, max_bytes: int,
                 to_file: bool) -> Fetched:
        request = self._client.build_request("GET", url, params=params, headers={"Accept": accept})
        started = self.clock.now()
        response = self._client.send(request, stream=True)
        try:
            body, body_path = self._read_body(response, max_bytes, to_file, str(request.url))
        finally:
            response.close()
        clean_url, headers, redactions = redact_request(
            str(request.url), [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw])
        exchange = HttpExchange(
            method="GET", url=clean_url, request_headers=headers, request_body=b"",
            http_version=response.http_version, status=response.status_code, reason=response.reason_phrase,
            response_headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw),
            body=body, body_path=body_path, started_at=started, redactions=redactions)
        evidence_id = self.sink.record(ExchangeEvidence(exchange))
        decoded = b"" if body is None else _decode(body, exchange.header("content-encoding"), clean_url)
        return Fetched(evidence_id=evidence_id, exchange=exchange, body=decoded)

    def _read_body(self, response: httpx.Response, max_bytes: int, to_file: bool, url: str,
                   ) -> tuple[bytes | None, Path | None]:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise CollectorError(f"{url} is {int(declared)} bytes, over the {max_bytes}-byte limit",
                                 code=ProblemCode.MEDIA_TOO_LARGE)
        if not to_file:
            chunks, total = [], 0
            for chunk in response.iter_raw(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise CollectorError(f"{url} sent more than {max_bytes} bytes", code=ProblemCode.MEDIA_TOO_LARGE)
                chunks.append(chunk)
            return b"".join(chunks), None
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.spool_dir, prefix="body-", delete=False) as handle:
            total = 0
            for chunk in response.iter_raw(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    handle.close()
                    Path(handle.name).unlink()
                    raise CollectorError(f"{url} sent more than {max_bytes} bytes", code=ProblemCode.MEDIA_TOO_LARGE)
                handle.write(chunk)
        return None, Path(handle.name)


def _after(now: datetime, seconds: float) -> datetime | None:
    return now + timedelta(seconds=seconds) if seconds > 0 else None


def _decode(body: bytes, encoding: str | None, url: str) -> bytes:
    """Undo a content-encoding the server applied although we asked for identity (evidence keeps it)."""
    if not encoding or encoding.lower() == "identity":
        return body
    try:
        if encoding.lower() == "gzip":
            return gzip.decompress(body)
        if encoding.lower() == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error) as exc:
        raise CollectorError(f"{url}: body declared {encoding} but does not decode ({exc})",
                             code=ProblemCode.BAD_RESPONSE) from None
    raise CollectorError(f"{url}: unsupported content-encoding {encoding}", code=ProblemCode.BAD_RESPONSE)
