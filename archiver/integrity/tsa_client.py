"""Ask an RFC 3161 time-stamp authority over HTTP for a token on a checkpoint, and check its answer.

Kept apart from ``archiver.integrity.timestamp`` (offline checks) so the offline package verifier
never imports an HTTP client.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography import x509
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

from archiver.errors import ConfigError
from archiver.integrity.timestamp import (
    GRANTED,
    TimestampToken,
    TimestampUnavailable,
    check_granted,
    decode_response,
    status_text,
)

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_RESPONSE_BYTES = 1 << 20  # real tokens are a few KiB; a bigger answer is not a TimeStampResp


class TimestampClient:
    """Obtains verified RFC 3161 tokens from one time-stamp authority over HTTP(S).

    ``http`` lets the caller share a configured ``httpx.Client`` (proxies, custom CA bundle for
    the HTTPS transport); the caller then owns and closes it.
    """

    def __init__(self, url: str, *, roots: Sequence[x509.Certificate], timeout: float = 10.0,
                 http: httpx.Client | None = None) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(f"time-stamp authority URL {_display(url)!r} is not http(s); "
                              "set ARSIP_TSA_URL to the TSA's RFC 3161 HTTP endpoint")
        if not roots:
            raise ConfigError("no trusted roots for the time-stamp authority; set ARSIP_TSA_ROOTS to a PEM "
                              "file with the root certificate(s) the TSA chains to")
        self.url = url
        self.roots = list(roots)
        self.timeout = timeout
        self._http = http

    def stamp(self, data: bytes) -> TimestampToken:
        """Time-stamp ``data`` (SHA-256 imprint, random nonce, certReq) and return the checked token."""
        request = (TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256)
                   .nonce(nonce=True).cert_request(cert_request=True).build())
        der = self._post(request.as_bytes())
        response = decode_response(der, f"the answer of time-stamp authority {_display(self.url)}")
        if response.status not in GRANTED:
            raise TimestampUnavailable(
                f"time-stamp authority {_display(self.url)} declined to stamp: {status_text(response)}; "
                "check the TSA's requirements (hash algorithm, policy, account) or try again later")
        return check_granted(der, response, data, self.roots, nonce=request.nonce)

    def _post(self, body: bytes) -> bytes:
        headers = {"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
        try:
            if self._http is not None:
                return self._exchange(self._http, body, headers)
            with httpx.Client(timeout=self.timeout) as http:
                return self._exchange(http, body, headers)
        except httpx.TimeoutException as exc:
            raise TimestampUnavailable(
                f"time-stamp authority {_display(self.url)} did not answer within {self.timeout:g} s "
                f"({type(exc).__name__}); check that it is up and reachable from this host") from exc
        except httpx.HTTPError as exc:
            raise TimestampUnavailable(
                f"time-stamp authority {_display(self.url)} could not be reached ({type(exc).__name__}: {exc}); "
                "check ARSIP_TSA_URL and the network path to it") from exc

    def _exchange(self, http: httpx.Client, body: bytes, headers: dict[str, str]) -> bytes:
        where = f"time-stamp authority {_display(self.url)}"
        with http.stream("POST", self.url, content=body, headers=headers, timeout=self.timeout) as response:
            if response.status_code != 200:
                raise TimestampUnavailable(f"{where} answered HTTP {response.status_code} instead of a "
                                           "time-stamp reply; check ARSIP_TSA_URL and the service's status")
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type != REPLY_TYPE:
                raise TimestampUnavailable(f"{where} answered Content-Type {content_type or 'none'!r}, not "
                                           f"{REPLY_TYPE}; ARSIP_TSA_URL may point at a web page, not a TSA")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise TimestampUnavailable(f"{where} answered more than {MAX_RESPONSE_BYTES} bytes, "
                                               "far more than any time-stamp reply; refusing it")
                chunks.append(chunk)
        return b"".join(chunks)


def _display(url: str) -> str:
    """The URL without user:password, so credentials never reach logs or error messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
