"""The query AST: what a user asked for, independent of any search engine.

Text nodes carry the raw words as typed; each backend runs them through the same analysis
(:mod:`search.analysis`) so tantivy and whoosh see identical terms. Text nodes search the
version text; keyword fields (``tag:``, ``platform:`` …) are :class:`Keyword` nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class KeywordField(StrEnum):
    """Fields matched exactly (after case folding), never stemmed."""

    PLATFORM = "platform"
    ACCOUNT = "account"
    AUTHOR = "author"
    KIND = "kind"
    STATE = "state"
    REASON = "reason"
    LANG = "lang"
    TAG = "tag"
    HAS = "has"


class DateField(StrEnum):
    POSTED = "posted"
    CAPTURED = "captured"


@dataclass(frozen=True)
class Term:
    """One word of text; matches its stem (or the exact form when ``exact``)."""

    text: str
    exact: bool = False


@dataclass(frozen=True)
class Phrase:
    """Words in order; ``slop`` extra positions allowed between them ("a b"~N)."""

    words: tuple[str, ...]
    slop: int = 0
    exact: bool = False


@dataclass(frozen=True)
class Prefix:
    """Words starting with ``prefix`` (``budg*``), matched on the exact (unstemmed) form."""

    prefix: str


@dataclass(frozen=True)
class Wildcard:
    """A word pattern with ``?`` (one character) and ``*`` (any run), on the exact form."""

    pattern: str


@dataclass(frozen=True)
class Near:
    """Two words within ``distance`` words of each other, in either order (w/N, NEAR/N).
    Several words use a sloppy :class:`Phrase` instead (one definition of distance on both engines)."""

    left: Term
    right: Term
    distance: int


@dataclass(frozen=True)
class Keyword:
    """An exact keyword field value (``platform:bluesky``, ``has:media``, ``tag:banjir``)."""

    field: KeywordField
    value: str


@dataclass(frozen=True)
class DateRange:
    """``date:[2024-01-01 TO 2024-12-31]`` (posted) or ``captured:[… TO …]``; either end may be open (``*``).

    Both ends are whole days and inclusive, in UTC.
    """

    field: DateField
    start: date | None
    end: date | None


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class MatchAll:
    """Every version (the empty query, or a query of only ``as-of:``)."""


Node = Term | Phrase | Prefix | Wildcard | Near | Keyword | DateRange | And | Or | Not | MatchAll


@dataclass(frozen=True)
class Query:
    """A parsed query: the condition, and ``as_of`` when only versions current on that date count."""

    root: Node
    as_of: date | None = None
