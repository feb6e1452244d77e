"""Mastodon wire-format details: account URLs, Link paging, rate-limit headers, status ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from archiver.clock import parse_timestamp
from archiver.errors import InputError
from archiver.warc.exchange import HttpExchange

_HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,64})$")
_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')
DEFAULT_RETRY = 60.0


@dataclass(frozen=True)
class MastodonAccountRef:
    """An account as given by a records officer: ``https://instance/@name``."""

    base_url: str  # scheme://host[:port]
    host: str  # host[:port], the instance part of platform ids
    username: str

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.host}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/@{self.username}"


def parse_account_url(url: str) -> MastodonAccountRef:
    """Accept ``https://instance/@name`` (http only for loopback test and demo instances)."""
    parts = urlsplit(url.strip())
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme not in ("https", "http") or not parts.netloc or len(segments) != 1:
        raise InputError(f"{url!r} is not a Mastodon account URL; use the form https://INSTANCE/@NAME",
                         code="bad_account_url")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise InputError(f"{url!r} uses plain http; Mastodon instances are reached over https",
                         code="bad_account_url")
    match = _HANDLE.match(segments[0])
    if not match or not segments[0].startswith("@"):
        raise InputError(f"{url!r} does not end in /@NAME", code="bad_account_url")
    return MastodonAccountRef(base_url=f"{parts.scheme}://{parts.netloc}", host=parts.netloc.lower(),
                              username=match.group(1))


def link_targets(header: str | None) -> dict[str, str]:
    """Parse a ``Link`` header into {rel: url}."""
    if not header:
        return {}
    return {rel: target for target, rel in _LINK.findall(header)}


def id_before(left: str, right: str) -> bool:
    """Whether status id ``left`` is older than ``right``. Ids are strings; compare numerically
    only when both are all digits (platform-formats §1.2), else by length then text."""
    if left.isdigit() and right.isdigit():
        return int(left) < int(right)
    return (len(left), left) < (len(right), right)


class MastodonRatePolicy:
    """X-RateLimit-Remaining / X-RateLimit-Reset (an ISO-8601 time, not epoch seconds)."""

    def pause_after(self, exchange: HttpExchange, now: datetime) -> float:
        remaining = exchange.header("x-ratelimit-remaining")
        if remaining is None or not remaining.strip().isdigit() or int(remaining) > 0:
            return 0.0
        return self._until_reset(exchange, now) or DEFAULT_RETRY

    def retry_after(self, exchange: HttpExchange, now: datetime) -> float:
        retry = exchange.header("retry-after")
        if retry and retry.strip().isdigit():
            return float(retry)
        return self._until_reset(exchange, now) or DEFAULT_RETRY

    @staticmethod
    def _until_reset(exchange: HttpExchange, now: datetime) -> float | None:
        reset = exchange.header("x-ratelimit-reset")
        if not reset:
            return None
        try:
            return max((parse_timestamp(reset) - now).total_seconds(), 0.0)
        except ValueError:
            return None
