"""Working-day calendars: weekends, US holidays computed by rule, and yearly holiday files (Indonesia)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from typing import Any, Protocol

from export.errors import ExportError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MON, THU, SAT, SUN = 0, 3, 5, 6


class WorkCalendar(Protocol):
    """Anything that can say whether a day counts toward a working-day clock."""

    def is_working_day(self, day: date) -> bool: ...


def add_working_days(cal: WorkCalendar, start: date, n: int) -> date:
    """The ``n``-th working day after ``start``; ``start`` itself is day 0 whatever kind of day it is."""
    _refuse_negative(n)
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
    return day


def add_calendar_days(start: date, n: int) -> date:
    """``start`` plus ``n`` calendar days; a result on a weekend or holiday stays where it falls."""
    _refuse_negative(n)
    return start + timedelta(days=n)


def working_days_between(cal: WorkCalendar, start: date, end: date) -> int:
    """Working days in (``start``, ``end``]: how far a working-day clock would have run from start to end."""
    return sum(1 for offset in range(1, (end - start).days + 1) if cal.is_working_day(start + timedelta(days=offset)))


def _refuse_negative(n: int) -> None:
    if n < 0:
        raise ExportError(f"a number of days must be zero or more, not {n}; count forward from the start date",
                          code="negative_days")


# --- US holidays by rule ---------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _in_lieu(day: date) -> date:
    # 5 U.S.C. 6103(b) and Executive Order 11582: Saturday -> Friday before, Sunday -> Monday after.
    if day.weekday() == SAT:
        return day - timedelta(days=1)
    if day.weekday() == SUN:
        return day + timedelta(days=1)
    return day


def us_federal_holidays(year: int) -> dict[date, str]:
    """The legal public holidays of 5 U.S.C. 6103(a) for ``year``, keyed by the date observed.

    New Year's Day on a Saturday is observed on December 31 of the year before, so one key can fall
    outside ``year``; calendars look at the following year's holidays too.
    """
    fixed = {date(year, 1, 1): "New Year's Day", date(year, 7, 4): "Independence Day",
             date(year, 11, 11): "Veterans Day", date(year, 12, 25): "Christmas Day"}
    if year >= 2021:
        fixed[date(year, 6, 19)] = "Juneteenth National Independence Day"
    observed = {_in_lieu(day): name for day, name in fixed.items()}
    if year >= 1986:
        observed[_nth_weekday(year, 1, MON, 3)] = "Birthday of Martin Luther King, Jr."
    observed[_nth_weekday(year, 2, MON, 3)] = "Washington's Birthday"
    observed[_last_weekday(year, 5, MON)] = "Memorial Day"
    observed[_nth_weekday(year, 9, MON, 1)] = "Labor Day"
    observed[_nth_weekday(year, 10, MON, 2)] = "Columbus Day"
    observed[_nth_weekday(year, 11, THU, 4)] = "Thanksgiving Day"
    return dict(sorted(observed.items()))


def us_ny_lincolns_birthday(year: int) -> dict[date, str]:
    """Lincoln's Birthday, a New York public holiday (General Construction Law § 24): Sunday moves to Monday."""
    day = date(year, 2, 12)
    return {day + timedelta(days=1) if day.weekday() == SUN else day: "Lincoln's Birthday"}


def us_general_election_day(year: int) -> dict[date, str]:
    """General Election Day: the Tuesday after the first Monday in November (a New York public holiday)."""
    return {_nth_weekday(year, 11, MON, 1) + timedelta(days=1): "General Election Day"}


HOLIDAY_RULES: dict[str, Callable[[int], dict[date, str]]] = {
    "us-federal": us_federal_holidays,
    "us-ny-lincolns-birthday": us_ny_lincolns_birthday,
    "us-general-election-day": us_general_election_day,
}


# --- holidays from yearly files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Holiday:
    """One day off in a yearly holiday file; ``cuti_bersama`` marks collective leave, not a national holiday."""

    day: date
    name: str
    cuti_bersama: bool = False


def calendar_file_name(prefix: str, year: int) -> str:
    """Where a yearly holiday file lives inside the package, e.g. ``data/calendars/id-2025.toml``."""
    return f"data/calendars/{prefix}-{year}.toml"


@cache
def holiday_file(prefix: str, year: int) -> tuple[Holiday, ...]:
    """The holidays in the packaged file for ``prefix`` and ``year``; a missing file is an error, never empty."""
    where = f"export/requests/{calendar_file_name(prefix, year)}"
    resource = files("export.requests").joinpath(calendar_file_name(prefix, year))
    if not resource.is_file():
        raise ExportError(f"no holiday calendar for {year}: add {where} with that year's holidays (for Indonesia: "
                          "libur nasional and cuti bersama from the SKB 3 Menteri)", code="calendar_missing")
    try:
        document = tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExportError(f"{where} is not valid TOML ({exc}); fix the file", code="calendar_invalid") from None
    if document.get("year") != year:
        raise ExportError(f"{where} says year = {document.get('year')!r}; set year = {year}", code="calendar_invalid")
    entries = [*_entries(document, "libur_nasional", False, where), *_entries(document, "cuti_bersama", True, where)]
    for entry in entries:
        if entry.day.year != year:
            raise ExportError(f"{where}: {entry.day} ({entry.name}) is not in {year}; move it to that year's file",
                              code="calendar_invalid")
    return tuple(sorted(entries, key=lambda entry: entry.day))


def _entries(document: dict[str, Any], key: str, cuti_bersama: bool, where: str) -> Iterable[Holiday]:
    for entry in document.get(key, []):
        day, name = entry.get("date"), entry.get("name")
        if not isinstance(day, date) or not isinstance(name, str) or not name.strip():
            raise ExportError(f"{where}: every [[{key}]] needs a date (YYYY-MM-DD, unquoted) and a name; "
                              f"fix {entry!r}", code="calendar_invalid")
        yield Holiday(day, name, cuti_bersama)


# --- the calendar a jurisdiction profile describes ---------------------------------------------------


@dataclass(frozen=True)
class RuleCalendar:
    """Working days are those not in ``weekend``, not a holiday by any of ``rules`` and not in a yearly file.

    ``holiday_files`` names a file prefix (``"id"`` reads ``data/calendars/id-<year>.toml``); a year
    without a file raises ``calendar_missing`` rather than counting that year as holiday-free.
    """

    weekend: frozenset[int] = frozenset({SAT, SUN})
    rules: tuple[str, ...] = ()
    holiday_files: str | None = None

    def __post_init__(self) -> None:
        unknown = [rule for rule in self.rules if rule not in HOLIDAY_RULES]
        if unknown:
            raise ExportError(f"unknown holiday rule {', '.join(unknown)}; use one of {', '.join(HOLIDAY_RULES)}",
                              code="profile_invalid")

    def is_working_day(self, day: date) -> bool:
        # Holidays first, so a day in a year without a holiday file fails even on a weekend.
        return day not in _holidays(self.rules, self.holiday_files, day.year) and day.weekday() not in self.weekend

    def holidays(self, year: int) -> dict[date, str]:
        """Every day off (other than weekends) this calendar knows in ``year``, with its name."""
        return dict(_holidays(self.rules, self.holiday_files, year))


@cache
def _holidays(rules: tuple[str, ...], prefix: str | None, year: int) -> dict[date, str]:
    found: dict[date, str] = {}
    for rule in rules:
        for neighbour in (year, year + 1):  # a Saturday New Year's Day is observed on Dec 31 before
            found.update((day, name) for day, name in HOLIDAY_RULES[rule](neighbour).items() if day.year == year)
    if prefix is not None:
        found.update((holiday.day, holiday.name) for holiday in holiday_file(prefix, year))
    return found
