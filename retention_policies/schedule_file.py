"""Turn one parsed schedule TOML document into schedule items, refusing anything it does not understand."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.model import (
    COMMENT_KINDS,
    KNOWN_KINDS,
    Action,
    AgeFrom,
    AppliesTo,
    CommentScope,
    Cutoff,
    CutoffKind,
    Framework,
    ScheduleItem,
)
from retention_policies.period import Period

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

SCHEDULE_ID = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
ITEM_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")

TOP_FIELDS = frozenset({"schedule", "item"})
HEADER_FIELDS = frozenset({"id", "title", "framework", "version", "source", "description"})
ITEM_FIELDS = frozenset({
    "code", "title", "authority", "action", "retention", "inactive", "cutoff", "fiscal_year_start_month",
    "cutoff_event", "age_from", "security_class", "vital", "platforms", "account_tags", "excluded_account_tags",
    "kinds", "comments", "record_ids",
})
# A JRA speaks of keterangan, not of actions; its files use that word instead of ``action``.
JRA_ITEM_FIELDS = ITEM_FIELDS - {"action"} | {"keterangan"}
KETERANGAN = {"musnah": Action.DESTROY, "permanen": Action.ACCESSION, "dinilai kembali": Action.REVIEW}


@dataclass(frozen=True)
class ScheduleHeader:
    """The ``[schedule]`` table: which file plan the items belong to."""

    id: str
    title: str
    framework: Framework
    version: str
    source: str
    description: str


class _Table:
    """One TOML table with its place in the file, so every complaint names file, item and field."""

    def __init__(self, table: Mapping[str, Any], where: str) -> None:
        self.table = table
        self.where = where

    def fail(self, name: str, problem: str, fix: str, code: ErrorCode) -> NoReturn:
        raise PolicyError(f"{self.where}: field {name}: {problem}; {fix}", code=code)

    def refuse_unknown(self, allowed: frozenset[str]) -> None:
        for name in sorted(set(self.table) - allowed):
            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            fix = f"did you mean {close[0]}?" if close else "remove it (allowed: " + ", ".join(sorted(allowed)) + ")"
            self.fail(name, "unknown field", fix, ErrorCode.UNKNOWN_FIELD)

    def text(self, name: str, default: str | None = None) -> str:
        value = self.table.get(name, default)
        if value is None:
            self.fail(name, "missing", f"add {name} = \"...\"", ErrorCode.MISSING_FIELD)
        if not isinstance(value, str):
            self.fail(name, f"{value!r} is not text", f"write it in quotes: {name} = \"...\"", ErrorCode.BAD_TYPE)
        if name in self.table and not value.strip():
            self.fail(name, "is empty", f"give {name} a value or leave the field out", ErrorCode.BAD_VALUE)
        return value.strip()

    def texts(self, name: str) -> frozenset[str]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(name, f"{value!r} is not a list of text", f"write {name} = [\"a\", \"b\"] (empty means any)",
                      ErrorCode.BAD_TYPE)
        return frozenset(v.strip() for v in value)

    def choice(self, name: str, allowed: Mapping[str, T], default: T | None = None) -> T:
        if name not in self.table and default is not None:
            return default
        value = self.text(name)
        if value not in allowed:
            self.fail(name, f"{value!r} is not allowed", "use one of " + ", ".join(allowed), ErrorCode.BAD_VALUE)
        return allowed[value]

    def integer(self, name: str, default: int) -> int:
        value = self.table.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(name, f"{value!r} is not a whole number", f"write {name} = 10 (no quotes)", ErrorCode.BAD_TYPE)
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            self.fail(name, f"{value!r} is not true or false", f"write {name} = true or false", ErrorCode.BAD_TYPE)
        return value

    def period(self, name: str) -> Period:
        text = self.text(name)
        try:
            return Period.parse(text)
        except PolicyError as exc:  # its message already says what to write instead
            raise PolicyError(f"{self.where}: field {name}: {exc}", code=exc.code) from exc

    def optional_period(self, name: str) -> Period | None:
        return self.period(name) if name in self.table else None


def _values(enum: type[E]) -> dict[str, E]:
    return {member.value: member for member in enum}


def parse_header(document: Mapping[str, Any], file: str) -> ScheduleHeader:
    """The ``[schedule]`` table of a file; every file must say which schedule it holds."""
    top = _Table(document, f"{file}: top level")
    top.refuse_unknown(TOP_FIELDS)
    raw = document.get("schedule")
    if not isinstance(raw, dict):
        top.fail("schedule", "missing or not a table", "start the file with a [schedule] table giving id, title "
                 "and framework", ErrorCode.MISSING_FIELD)
    table = _Table(raw, f"{file}: schedule")
    table.refuse_unknown(HEADER_FIELDS)
    schedule_id = table.text("id")
    if not SCHEDULE_ID.match(schedule_id):
        table.fail("id", f"{schedule_id!r} is not a schedule id", "use lowercase letters, digits and hyphens, e.g. "
                   "\"nara-grs\"", ErrorCode.BAD_VALUE)
    return ScheduleHeader(
        id=schedule_id, title=table.text("title"), framework=table.choice("framework", _values(Framework)),
        version=table.text("version", ""), source=table.text("source", ""),
        description=table.text("description", ""),
    )


def parse_items(document: Mapping[str, Any], header: ScheduleHeader, file: str) -> list[ScheduleItem]:
    """Every ``[[item]]`` of a file, validated, in file order."""
    raw_items = document.get("item")
    if isinstance(raw_items, dict):
        _Table(document, f"{file}: top level").fail("item", "is a single [item] table", "write each item as "
                                                    "[[item]], with double brackets", ErrorCode.BAD_TYPE)
    if not isinstance(raw_items, list) or not raw_items:
        _Table(document, f"{file}: top level").fail("item", "no [[item]] tables", "add at least one [[item]] with "
                                                    "code, title, authority, retention and an action",
                                                    ErrorCode.MISSING_FIELD)
    return [parse_item(raw, header, file, number) for number, raw in enumerate(raw_items, 1)]


def parse_item(raw: Any, header: ScheduleHeader, file: str, number: int) -> ScheduleItem:
    """One ``[[item]]``; until its code is known, complaints name it by position (``item #3``)."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{file}: item #{number}: is not a table; write each item as an [[item]] table",
                          code=ErrorCode.BAD_TYPE)
    table = _Table(raw, f"{file}: item #{number}")
    code = table.text("code")
    if not ITEM_CODE.match(code):
        table.fail("code", f"{code!r} is not an item code", "use letters, digits, dots, hyphens and underscores, "
                   "e.g. \"6.4-020\" or \"HM.02.01\"", ErrorCode.BAD_VALUE)
    table.where = f"{file}: item {code}"
    jra = header.framework is Framework.JRA
    table.refuse_unknown(JRA_ITEM_FIELDS if jra else ITEM_FIELDS)
    return ScheduleItem(
        id=f"{header.id}/{code}", schedule_id=header.id, title=table.text("title"),
        authority=table.text("authority"), applies_to=_applies_to(table), cutoff=_cutoff(table),
        retention=table.period("retention"), inactive=table.optional_period("inactive"),
        action=table.choice("keterangan", KETERANGAN) if jra else table.choice("action", _values(Action)),
        security_class=table.text("security_class", None if jra else ""), vital=table.flag("vital", False),
        age_from=table.choice("age_from", _values(AgeFrom), AgeFrom.POSTED), framework=header.framework,
    )


def _cutoff(table: _Table) -> Cutoff:
    kind = table.choice("cutoff", _values(CutoffKind), CutoffKind.NONE)
    if "fiscal_year_start_month" in table.table and kind is not CutoffKind.FISCAL_YEAR:
        table.fail("fiscal_year_start_month", f"only applies to cutoff = \"fiscal_year\", not {kind.value!r}",
                   "remove it or set cutoff = \"fiscal_year\"", ErrorCode.BAD_VALUE)
    if "cutoff_event" in table.table and kind is not CutoffKind.EVENT:
        table.fail("cutoff_event", f"only applies to cutoff = \"event\", not {kind.value!r}",
                   "remove it or set cutoff = \"event\"", ErrorCode.BAD_VALUE)
    month = table.integer("fiscal_year_start_month", 10)
    if not 1 <= month <= 12:
        table.fail("fiscal_year_start_month", f"{month} is not a month", "use 1..12, e.g. 10 for October",
                   ErrorCode.BAD_VALUE)
    event = table.text("cutoff_event") if kind is CutoffKind.EVENT else None
    return Cutoff(kind, month, event)


def _applies_to(table: _Table) -> AppliesTo:
    kinds = table.texts("kinds")
    for kind in sorted(kinds - KNOWN_KINDS):
        table.fail("kinds", f"{kind!r} is not a record kind", "use " + ", ".join(sorted(KNOWN_KINDS)),
                   ErrorCode.BAD_VALUE)
    comments = table.choice("comments", _values(CommentScope), CommentScope.ANY)
    if comments is not CommentScope.ANY and kinds and kinds.isdisjoint(COMMENT_KINDS):
        table.fail("comments", f"{comments.value!r} but kinds has no comment or reply",
                   "add comment/reply to kinds or remove comments", ErrorCode.BAD_VALUE)
    tags, excluded = table.texts("account_tags"), table.texts("excluded_account_tags")
    if not tags.isdisjoint(excluded):
        table.fail("excluded_account_tags", "repeats a tag of account_tags, so the item could match nothing",
                   "remove the tag from one of the two lists", ErrorCode.BAD_VALUE)
    return AppliesTo(platforms=table.texts("platforms"), account_tags=tags, kinds=kinds, comments=comments,
                     record_ids=table.texts("record_ids"), excluded_account_tags=excluded)
