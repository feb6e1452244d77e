"""Jurisdiction profiles (packaged TOML) and the pure calculator of records-request deadlines they describe."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any

from export.errors import ExportError
from export.requests.calendar import WEEKDAYS, RuleCalendar, add_calendar_days, add_working_days, working_days_between

LANGUAGES = ("en", "id")


class Unit(StrEnum):
    """How a clock counts: working days skip the profile's weekends and holidays; calendar days skip nothing."""

    WORKING = "working"
    CALENDAR = "calendar"


class Trigger(StrEnum):
    """The event a clock starts from; each names the ``deadlines`` argument that supplies its date."""

    RECEIVED = "received"
    EXPEDITED = "expedited"
    APPEAL_RECEIVED = "appeal_received"
    OBJECTION_RECEIVED = "objection_received"
    OBJECTION_ANSWERED = "objection_answered"


@dataclass(frozen=True)
class ExemptionCode:
    """One citable ground for withholding, e.g. ``(b)(6)`` or ``17(h)``."""

    code: str
    title: str


@dataclass(frozen=True)
class ClockRule:
    """A profile's clock: ``days`` in ``unit`` from the date of ``trigger``; day 0 is the trigger date."""

    id: str
    label: str
    trigger: Trigger
    days: int
    unit: Unit
    authority: str


@dataclass(frozen=True)
class TollRule:
    """A kind of toll that stops the response clock; ``max_count`` None means any number."""

    kind: str
    max_count: int | None
    authority: str


@dataclass(frozen=True)
class ExtensionRule:
    """How far the response clock may be extended, and whether the requester's agreement lifts the cap."""

    max_days: int
    notice_required: bool
    agreement_lifts_cap: bool
    authority: str


@dataclass(frozen=True)
class Jurisdiction:
    """One records-access law as data: its clocks, tolls, extension, calendar and exemption codes."""

    id: str
    name: str
    country: str
    language: str
    authority: str
    calendar: RuleCalendar | None
    clocks: tuple[ClockRule, ...]
    tolls: tuple[TollRule, ...]
    extension: ExtensionRule | None
    exemption_codes: tuple[ExemptionCode, ...]

    @property
    def response_clock(self) -> ClockRule:
        """The clock started by receipt of the request; tolls and extensions apply to it alone."""
        return next(clock for clock in self.clocks if clock.trigger is Trigger.RECEIVED)


@dataclass(frozen=True)
class Toll:
    """A period during which the response clock stood still; ``end`` None means it is still open."""

    start: date
    end: date | None
    kind: str  # one of the profile's toll kinds, e.g. "information" or "fee"


@dataclass(frozen=True)
class Extension:
    """An extension of the response clock, with the written notice (reasons) sent to the requester."""

    days: int
    notice: str
    requester_agreed: bool = False


@dataclass(frozen=True)
class Clock:
    """A computed deadline: ``basis`` says in words how ``due`` was reached."""

    id: str
    label: str
    due: date
    basis: str
    authority: str = ""


# --- loading -----------------------------------------------------------------------------------------


def jurisdictions() -> list[Jurisdiction]:
    """Every packaged profile, by id."""
    return list(_profiles().values())


def jurisdiction(jid: str) -> Jurisdiction:
    """The packaged profile ``jid``; an unknown id raises ``unknown_jurisdiction`` listing the known ones."""
    profiles = _profiles()
    if jid not in profiles:
        raise ExportError(f"no jurisdiction {jid!r}; use one of {', '.join(profiles)}", code="unknown_jurisdiction")
    return profiles[jid]


def exemption(j: Jurisdiction, code: str) -> ExemptionCode:
    """The exemption ``code`` of ``j``; the list is closed, so anything else raises ``unknown_exemption``."""
    for candidate in j.exemption_codes:
        if candidate.code == code:
            return candidate
    valid = ", ".join(candidate.code for candidate in j.exemption_codes)
    raise ExportError(f"{code!r} is not an exemption of {j.name}; cite one of {valid}", code="unknown_exemption")


@cache
def _profiles() -> dict[str, Jurisdiction]:
    folder = files("export.requests").joinpath("data")
    names = sorted(item.name.removesuffix(".toml") for item in folder.iterdir() if item.name.endswith(".toml"))
    return {name: _load(name, folder.joinpath(f"{name}.toml").read_text(encoding="utf-8")) for name in names}


def _load(name: str, text: str) -> Jurisdiction:
    where = f"export/requests/data/{name}.toml"
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _invalid(where, f"is not valid TOML ({exc})") from None
    head = _table(document, "jurisdiction", where)
    if _text(head, "id", where) != name:
        raise _invalid(where, f"[jurisdiction] id must be {name!r}, the file's name")
    language = _text(head, "language", where)
    if language not in LANGUAGES:
        raise _invalid(where, f"[jurisdiction] language must be one of {', '.join(LANGUAGES)}")
    clocks = tuple(_clock(table, where) for table in _tables(document, "clock", where))
    if [clock.trigger for clock in clocks].count(Trigger.RECEIVED) != 1:
        raise _invalid(where, 'exactly one [[clock]] needs trigger = "received" (the response clock)')
    calendar = _calendar(document.get("calendar"), where)
    if calendar is None and any(clock.unit is Unit.WORKING for clock in clocks):
        raise _invalid(where, "a clock counts working days, so add a [calendar] table")
    extension = _table(document, "extension", where) if "extension" in document else None
    exemptions = tuple(ExemptionCode(_text(table, "code", where), _text(table, "title", where))
                       for table in _tables(document, "exemption", where))
    if len({item.code for item in exemptions}) != len(exemptions):
        raise _invalid(where, "an [[exemption]] code appears twice")
    return Jurisdiction(
        id=name, name=_text(head, "name", where), country=_text(head, "country", where), language=language,
        authority=_text(head, "authority", where), calendar=calendar, clocks=clocks,
        tolls=tuple(TollRule(_text(table, "kind", where), _count(table, "max", where), _text(table, "authority", where))
                    for table in _tables(document, "toll", where)),
        extension=None if extension is None else ExtensionRule(
            _required(extension, "max_days", where), _flag(extension, "notice_required", where),
            _flag(extension, "requester_may_agree_to_more", where), _text(extension, "authority", where)),
        exemption_codes=exemptions)


def _clock(table: dict[str, Any], where: str) -> ClockRule:
    try:
        trigger, unit = Trigger(str(table.get("trigger"))), Unit(str(table.get("unit")))
    except ValueError:
        raise _invalid(where, f"[[clock]] {table.get('id')!r}: trigger must be one of {', '.join(Trigger)} and "
                              f"unit one of {', '.join(Unit)}") from None
    return ClockRule(_text(table, "id", where), _text(table, "label", where), trigger,
                     _required(table, "days", where), unit, _text(table, "authority", where))


def _calendar(table: Any, where: str) -> RuleCalendar | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise _invalid(where, "[calendar] must be a table")
    weekend = table.get("weekend", ["saturday", "sunday"])
    rules = table.get("holidays", [])
    prefix = table.get("holiday_files")
    if not isinstance(weekend, list) or any(day not in WEEKDAYS for day in weekend):
        raise _invalid(where, f"[calendar] weekend must list day names from {', '.join(WEEKDAYS)}")
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not all(isinstance(rule, str) for rule in rules):
        raise _invalid(where, "[calendar] holidays must be a rule name or a list of rule names")
    if prefix is not None and not (isinstance(prefix, str) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", prefix)):
        raise _invalid(where, '[calendar] holiday_files must be a file prefix such as "id"')
    return RuleCalendar(frozenset(WEEKDAYS.index(day) for day in weekend), tuple(rules), prefix)


def _invalid(where: str, problem: str) -> ExportError:
    return ExportError(f"{where}: {problem}; fix the profile", code="profile_invalid")


def _table(document: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = document.get(key)
    if not isinstance(value, dict):
        raise _invalid(where, f"needs a [{key}] table")
    return value


def _tables(document: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid(where, f"{key} must be written as [[{key}]] tables")
    return value


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(where, f"{key} must be non-empty text")
    return value


def _count(table: dict[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise _invalid(where, f"{key} must be a whole number of 1 or more")
    return value


def _required(table: dict[str, Any], key: str, where: str) -> int:
    if (value := _count(table, key, where)) is None:
        raise _invalid(where, f"{key} is missing")
    return value


def _flag(table: dict[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise _invalid(where, f"{key} must be true or false")
    return value


# --- the calculator ----------------------------------------------------------------------------------


def response_due(j: Jurisdiction, *, received: date, tolls: Sequence[Toll] = (), extension: Extension | None = None,
                 today: date | None = None) -> date:
    """When the response clock runs out, after tolls and any extension; ``today`` is needed for an open toll."""
    return _response(j, received, tolls, extension, today).due


def deadlines(j: Jurisdiction, *, received: date, tolls: Sequence[Toll] = (), extension: Extension | None = None,
              expedited: bool = False, appeal_received: date | None = None, objection_received: date | None = None,
              objection_answered: date | None = None, today: date | None = None) -> list[Clock]:
    """Every clock of ``j`` that applies, in the profile's order: the response clock always; the others when
    their event is given. An event the profile has no clock for is refused rather than ignored."""
    starts: dict[Trigger, date | None] = {
        Trigger.RECEIVED: received, Trigger.EXPEDITED: received if expedited else None,
        Trigger.APPEAL_RECEIVED: appeal_received, Trigger.OBJECTION_RECEIVED: objection_received,
        Trigger.OBJECTION_ANSWERED: objection_answered}
    triggers = {clock.trigger for clock in j.clocks}
    for trigger, start in starts.items():
        if start is not None and trigger not in triggers:
            raise ExportError(f"{j.name} has no {trigger.replace('_', ' ')} clock; leave {trigger} unset",
                              code="not_applicable")
    _refuse_before("appeal_received", appeal_received, "the request was received", received)
    _refuse_before("objection_received", objection_received, "the request was received", received)
    _refuse_before("objection_answered", objection_answered, "the objection was received", objection_received)
    clocks: list[Clock] = []
    for rule in j.clocks:
        start = starts[rule.trigger]
        if rule.trigger is Trigger.RECEIVED:
            clocks.append(_response(j, received, tolls, extension, today))
        elif start is not None:
            clocks.append(Clock(rule.id, rule.label, _advance(j, rule.unit, start, rule.days),
                                f"{_days(rule.days, rule.unit)} from {start}", rule.authority))
    return clocks


def _response(j: Jurisdiction, received: date, tolls: Sequence[Toll], extension: Extension | None,
              today: date | None) -> Clock:
    rule = j.response_clock
    tolled, toll_notes = _tolled(j, received, tolls, today)
    extra = _extension_days(j, extension)
    basis = [f"{_days(rule.days, rule.unit)} from {received}", *toll_notes]
    if extra:
        agreed = " agreed by the requester" if extension is not None and extension.requester_agreed else ""
        basis.append(f"+{_days(extra, rule.unit)} extension{agreed}")
    due = _advance(j, rule.unit, received, rule.days + tolled + extra)
    return Clock(rule.id, rule.label, due, ", ".join(basis), rule.authority)


def _tolled(j: Jurisdiction, received: date, tolls: Sequence[Toll], today: date | None) -> tuple[int, list[str]]:
    """Days the clock stood still: for each toll, the days it would have run in (start, end]; the day the
    requester answers is day 0 of the resumed clock, as receipt is day 0 of the first."""
    rule, kinds = j.response_clock, {toll.kind: toll for toll in j.tolls}
    total, notes, used = 0, list[str](), Counter[str]()
    previous: Toll | None = None
    for toll in sorted(tolls, key=lambda toll: toll.start):
        allowed = kinds.get(toll.kind)
        if allowed is None:
            choice = f"use one of {', '.join(kinds)}" if kinds else "remove it: this clock cannot be tolled"
            raise ExportError(f"{j.name} has no {toll.kind!r} toll; {choice}", code="toll_not_allowed")
        used[toll.kind] += 1
        if allowed.max_count is not None and used[toll.kind] > allowed.max_count:
            raise ExportError(f"only {allowed.max_count} {toll.kind} toll(s) allowed ({allowed.authority}); remove the "
                              f"one starting {toll.start} and let the clock run", code="toll_limit")
        if toll.start < received:
            raise ExportError(f"the toll starting {toll.start} is before the request was received ({received}); "
                              "correct its start date", code="toll_before_receipt")
        if previous is not None and (previous.end is None or toll.start < previous.end):
            raise ExportError(f"the tolls starting {previous.start} and {toll.start} overlap; end one before the "
                              "other starts", code="tolls_overlap")
        if toll.start > (running := _advance(j, rule.unit, received, rule.days + total)):
            raise ExportError(f"the toll starting {toll.start} begins after the clock ran out on {running}; "
                              "a toll can only stop a running clock, so remove it", code="toll_after_deadline")
        end, note = _toll_end(toll, today)
        days = _span(j, rule.unit, toll.start, end)
        total += days
        notes.append(f"+{_days(days, rule.unit)} tolled ({toll.kind} {toll.start} to {end}{note})")
        previous = toll
    return total, notes


def _toll_end(toll: Toll, today: date | None) -> tuple[date, str]:
    if toll.end is not None:
        if toll.end < toll.start:
            raise ExportError(f"the toll starting {toll.start} ends before it starts ({toll.end}); correct its dates",
                              code="toll_end_before_start")
        return toll.end, ""
    if today is None:
        raise ExportError(f"the toll starting {toll.start} is still open; pass today= so it can be counted to date",
                          code="today_required")
    if today < toll.start:
        raise ExportError(f"today ({today}) is before the open toll starting {toll.start}; check the dates",
                          code="date_order")
    return today, ", still open: provisional, the date moves until the requester answers"


def _extension_days(j: Jurisdiction, extension: Extension | None) -> int:
    if extension is None:
        return 0
    rule, unit = j.extension, j.response_clock.unit
    if rule is None:
        raise ExportError(f"{j.name} allows no extension of its response clock; remove the extension",
                          code="extension_not_allowed")
    if extension.days < 1:
        raise ExportError(f"an extension must be 1 day or more, not {extension.days}; give the days added",
                          code="invalid_days")
    if rule.notice_required and not extension.notice.strip():
        raise ExportError(f"an extension needs the written notice sent to the requester ({rule.authority}); "
                          "give its text as notice", code="notice_required")
    if extension.days > rule.max_days and not (extension.requester_agreed and rule.agreement_lifts_cap):
        route = (", or set requester_agreed once the requester agrees to a longer time frame"
                 if rule.agreement_lifts_cap else "")
        raise ExportError(f"an extension of {_days(extension.days, unit)} exceeds the {rule.max_days} allowed by "
                          f"{rule.authority}; shorten it{route}", code="extension_over_cap")
    return extension.days


def _refuse_before(name: str, day: date | None, event: str, before: date | None) -> None:
    if day is not None and before is not None and day < before:
        raise ExportError(f"{name} ({day}) is before {event} ({before}); check the dates", code="date_order")


def _advance(j: Jurisdiction, unit: Unit, start: date, days: int) -> date:
    if unit is Unit.CALENDAR:
        return add_calendar_days(start, days)
    assert j.calendar is not None  # the loader refuses working-day clocks without a calendar
    return add_working_days(j.calendar, start, days)


def _span(j: Jurisdiction, unit: Unit, start: date, end: date) -> int:
    if unit is Unit.CALENDAR:
        return (end - start).days
    assert j.calendar is not None
    return working_days_between(j.calendar, start, end)


def _days(n: int, unit: Unit) -> str:
    return f"{n} {unit} day{'' if n == 1 else 's'}"
