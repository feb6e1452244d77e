"""Field values in queries: which fields exist, closed vocabularies, folding, dates and ranges.

Kept apart from the grammar so the rules for what a value may be live in one place; each check
raises :class:`Problem` with the character position the parser reports.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from archiver.model import DisappearanceReason, Platform, RecordKind, VersionState
from search.analysis import fold
from search.fields import MAX_DISTANCE
from search.query.ast import DateField, DateRange, Keyword, KeywordField


class Problem(Exception):
    """A syntax problem found while building the AST; :func:`parse_query` adds the query text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


DATE_FIELDS = {"date": DateField.POSTED, "captured": DateField.CAPTURED}
AS_OF = "as-of"
FIELD_NAMES = (*(field.value for field in KeywordField), *DATE_FIELDS, AS_OF)
CLOSED_SETS: dict[KeywordField, tuple[str, ...]] = {
    KeywordField.PLATFORM: tuple(value.value for value in Platform),
    KeywordField.KIND: tuple(value.value for value in RecordKind),
    KeywordField.STATE: tuple(value.value for value in VersionState),
    KeywordField.REASON: tuple(value.value for value in DisappearanceReason),
    KeywordField.HAS: ("media",),
}
EXAMPLES = {
    "platform": "platform:bluesky", "account": "account:cityhall", "author": 'author:"City Hall"',
    "kind": "kind:post", "state": "state:deleted", "reason": "reason:author_deleted", "lang": "lang:id",
    "tag": "tag:banjir", "has": "has:media", "date": "date:2024-05-01 or date:[2024-01-01 TO 2024-12-31]",
    "captured": "captured:[2024-01-01 TO 2024-12-31]", AS_OF: "as-of:2024-05-01",
}
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LANG = re.compile(r"([a-z]{2,3})(?:-[a-z0-9]+)*")


def keyword_value(field: KeywordField, value: str, start: int, quoted: bool) -> Keyword:
    """Fold a keyword value the way the index stores it, and check closed vocabularies."""
    if not quoted and ("*" in value or "?" in value):
        raise Problem(f"field values take no wildcards; write the whole value, e.g. {EXAMPLES[field]}", start)
    folded = fold(value)
    if field is KeywordField.TAG:
        folded = folded.removeprefix("#")
    elif field in (KeywordField.ACCOUNT, KeywordField.AUTHOR):
        folded = folded.lstrip("@")
    elif field is KeywordField.LANG:
        folded = language_code(folded, start)
    if not folded:
        raise Problem(f"'{field}:' needs a value right after the colon, e.g. {EXAMPLES[field]}", start)
    allowed = CLOSED_SETS.get(field)
    if allowed is not None and folded not in allowed:
        raise Problem(f"unknown {field}: value '{value}'; use one of {', '.join(allowed)}", start)
    return Keyword(field, folded)


def language_code(value: str, start: int) -> str:
    """The primary subtag (``pt-br`` → ``pt``), which is all the index keeps of a language tag."""
    match = _LANG.fullmatch(value)
    if match is None:
        raise Problem(f"'{value}' is not a language code; use one like en, id or pt-BR", start)
    return match[1]


# --- dates ---------------------------------------------------------------------------------------


def as_of_date(value: str, start: int) -> date:
    if not _FULL_DATE.fullmatch(value):
        raise Problem(f"as-of needs one full date, e.g. as-of:2024-05-01 (not '{value}')", start)
    return period(value, start, f"bad date '{value}'; use YYYY-MM-DD")[0]


def date_range(field: DateField, value: str, start: int) -> DateRange:
    """``[start TO end]`` with ``*`` for an open end; a month or year end covers the whole period."""
    if not value.endswith("]") or len(value) < 2:
        raise Problem("date range is missing its closing ']'", start)
    bounds = [(match[0], start + 1 + match.start()) for match in re.finditer(r"\S+", value[1:-1])]
    if len(bounds) != 3 or bounds[1][0].upper() != "TO":
        raise Problem("a date range looks like [2024-01-01 TO 2024-12-31], with * for an open end", start)
    (low, low_start), _, (high, high_start) = bounds
    first = None if low == "*" else period(low, low_start, f"bad date '{low}' in date range; use YYYY-MM-DD")[0]
    last = None if high == "*" else period(high, high_start, f"bad date '{high}' in date range; use YYYY-MM-DD")[1]
    if first is None and last is None:
        raise Problem("a date range needs at least one date; * is for one open end", start)
    if first is not None and last is not None and first > last:
        raise Problem(f"date range starts after it ends ({low} is after {high})", low_start)
    return DateRange(field, first, last)


def period(text: str, start: int, message: str) -> tuple[date, date]:
    """The first and last day of a ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``."""
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        year = int(match[1])
        if match[3] is not None:
            day = date(year, int(match[2]), int(match[3]))
            return day, day
        if match[2] is not None:
            month = int(match[2])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        raise Problem(message, start) from None


def is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts superscripts, which ``int`` rejects."""
    return text.isascii() and text.isdigit()


def distance(operator: str, position: int) -> int:
    """The N of ``w/N`` or ``NEAR/N``, between 1 and :data:`MAX_DISTANCE`."""
    name, slash, number = operator.partition("/")
    if not slash:
        raise Problem(f"{name} needs a distance, e.g. budget {name}/5 road", position)
    if not is_number(number):
        quote = f" (to search for '{operator}' itself, put it in quotes)" if number else ""
        raise Problem(f"{name}/N needs a number, e.g. budget {name}/5 road{quote}", position)
    if len(number) > 6 or not 1 <= int(number) <= MAX_DISTANCE:
        raise Problem(f"{operator}: the distance must be between 1 and {MAX_DISTANCE} words", position)
    return int(number)
