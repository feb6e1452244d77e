"""Retention periods: ISO 8601 durations in whole years, months and days, added with calendar arithmetic."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import isodate

from retention_policies.errors import ErrorCode, PolicyError

# One four-year leap cycle of start dates shows every way month lengths and leap days can fall, so
# ``at_least_years`` can answer "on some calendar" by trying them (once per item, a few ms).
_CYCLE_START = date(2001, 1, 1)
_CYCLE_DAYS = 4 * 365 + 1
# Longer periods are typing mistakes, and would overflow the calendar in the middle of evaluating an
# archive instead of when the schedule loads.
_MAX_MONTHS = 12 * 1000
_MAX_DAYS = 366 * 1000


@dataclass(frozen=True, slots=True)
class Period:
    """A retention period. Years and months are calendar units, so ``P1Y`` from 2024-02-29 ends on
    2025-02-28 (the day is clamped to the month's end) rather than after a fixed 365 days."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if min(self.years, self.months, self.days) < 0:
            raise PolicyError(f"period {self.years}y {self.months}m {self.days}d is negative; "
                              "use a period of zero or more", code=ErrorCode.BAD_DURATION)
        if 12 * self.years + self.months > _MAX_MONTHS or self.days > _MAX_DAYS:
            raise PolicyError(f"period {self.years}y {self.months}m {self.days}d is over 1000 years; "
                              "records kept for good are accessioned (JRA: permanen)", code=ErrorCode.BAD_DURATION)

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse an ISO 8601 duration such as ``P3Y``, ``P90D``, ``P1Y6M`` or ``P2W``.

        Only whole years, months, weeks and days are accepted: retention is counted in days, and a
        fractional year has no calendar meaning.
        """
        hint = "write an ISO 8601 duration in whole years, months, weeks or days, e.g. P3Y, P90D, P1Y6M"
        try:
            parsed = isodate.parse_duration(text)
        except (isodate.ISO8601Error, ValueError, TypeError) as exc:
            raise PolicyError(f"{text!r} is not an ISO 8601 duration; {hint}", code=ErrorCode.BAD_DURATION) from exc
        if isinstance(parsed, isodate.Duration):
            years, months, delta = parsed.years, parsed.months, parsed.tdelta
        else:
            years, months, delta = Decimal(0), Decimal(0), parsed
        if delta.seconds or delta.microseconds or Decimal(years) % 1 or Decimal(months) % 1:
            raise PolicyError(f"{text!r} has a time or fractional part; {hint}", code=ErrorCode.BAD_DURATION)
        if years < 0 or months < 0 or delta.days < 0:
            raise PolicyError(f"{text!r} is negative; {hint}", code=ErrorCode.BAD_DURATION)
        return cls(int(years), int(months), delta.days)

    def add_to(self, start: date) -> date:
        """``start`` plus this period: years and months first (clamping the day), then days."""
        if self.years or self.months:
            total_months = start.month - 1 + self.months + 12 * self.years
            year = start.year + total_months // 12
            month = total_months % 12 + 1
            day = min(start.day, calendar.monthrange(year, month)[1])
            start = date(year, month, day)
        return start + timedelta(days=self.days) if self.days else start

    def __add__(self, other: Period) -> Period:
        return Period(self.years + other.years, self.months + other.months, self.days + other.days)

    def at_least_years(self, years: int) -> bool:
        """Whether this period lasts ``years`` years or more from some start date. Erring towards
        "yes" is deliberate: P3652D is ten years only where the decade holds two leap days rather
        than three, and asking ANRI for an approval that turns out unneeded is the safe mistake."""
        if 12 * self.years + self.months >= 12 * years:
            return True
        if not self.days:
            return False
        threshold = Period(years=years)
        starts = (_CYCLE_START + timedelta(days=n) for n in range(_CYCLE_DAYS))
        return any(self.add_to(start) >= threshold.add_to(start) for start in starts)

    def iso(self) -> str:
        """The canonical ISO 8601 text (``P0D`` for zero), used in fingerprints and messages."""
        parts = [f"{n}{unit}" for n, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if n]
        return "P" + ("".join(parts) or "0D")

    def __str__(self) -> str:
        return self.iso()
