"""Injected time: every timestamp in Arsip comes from a Clock, always timezone-aware UTC."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol


class Clock(Protocol):
    """Source of the current time and of waiting, so tests can control both."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class FixedClock:
    """A clock that only moves when told to; ``sleep`` advances it instead of blocking."""

    current: datetime = field(default_factory=lambda: datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    slept: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.current = self.current + timedelta(seconds=seconds)


def utc(value: datetime) -> datetime:
    """Return ``value`` in UTC, refusing naive datetimes (their zone is unknowable)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no timezone; Arsip stores UTC only")
    return value.astimezone(UTC)


@lru_cache(maxsize=4096)
def isoformat_z(value: datetime) -> str:
    """Render a UTC timestamp as RFC 3339 with a ``Z`` and microseconds, the one textual form we sign.

    Cached: every version of one capture event shares its time, and this is on the per-version path.
    """
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 / RFC 3339 timestamp from a platform; a missing zone is an error."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return utc(value)
