"""The vocabulary of retention: schedule items, the facts of a record, holds and decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.period import Period

__all__ = [
    "COMMENT_KINDS", "KNOWN_KINDS", "Action", "AgeFrom", "AppliesTo", "CommentScope", "Cutoff", "CutoffKind",
    "Decision", "Framework", "Hold", "HoldScope", "Period", "RecordFacts", "ScheduleItem", "ScheduleSet", "Status",
]

# archiver.model.RecordKind is the vocabulary of captured records, but this package sits below
# archiver and may not import it; a unit test keeps the two in step. ``request_package`` is Arsip's
# own production package (a FOIA / UU KIP request case file), which is a record too.
KNOWN_KINDS = frozenset({"post", "comment", "reply", "media", "profile", "moderation", "request_package"})
# A reply is a comment on a comment: GRS 6.4/020 treats both as public communications.
COMMENT_KINDS = frozenset({"comment", "reply"})

# JRA: records kept for ten years or more may be destroyed only with the written approval of the
# Head of ANRI (PP 28/2012).
EXTERNAL_APPROVAL_YEARS = 10


class Action(StrEnum):
    DESTROY = "destroy"
    TRANSFER = "transfer"  # physical custody moves (e.g. to a records centre)
    ACCESSION = "accession"  # legal custody moves to the archives (NARA, ANRI): permanent records
    REVIEW = "review"  # re-appraise (JRA "dinilai kembali")

    @property
    def done(self) -> str:
        """How a record is described once the action was carried out on it."""
        return _DONE[self]


_DONE = {Action.DESTROY: "destroyed", Action.TRANSFER: "transferred", Action.ACCESSION: "accessioned",
         Action.REVIEW: "reviewed"}


class CutoffKind(StrEnum):
    NONE = "none"
    CALENDAR_YEAR = "calendar_year"
    FISCAL_YEAR = "fiscal_year"
    EVENT = "event"


class CommentScope(StrEnum):
    """Which comments an item covers. GRS 6.4/020 covers comments needing no action; comments the
    agency acted on need another item. Records that are not comments or replies ignore the scope."""

    ANY = "any"
    ACTED_ON = "acted_on"
    NO_ACTION = "no_action"


class AgeFrom(StrEnum):
    """Which date a record's age is counted from; ``posted`` falls back to ``captured`` when the
    platform gave no posting date."""

    POSTED = "posted"
    CAPTURED = "captured"


class Framework(StrEnum):
    """Whose rules a schedule follows. Only ``jra`` changes evaluation (ANRI approval)."""

    NARA = "nara"
    STATE = "state"
    AGENCY = "agency"
    JRA = "jra"


class Status(StrEnum):
    DUE = "due"  # eligible on or before today and under no hold
    HELD = "held"  # covered by at least one active hold, whatever its dates
    NOT_YET = "not_yet"  # eligible after today
    NO_DATE = "no_date"  # event cutoff whose event has not been recorded
    PERMANENT = "permanent"  # JRA permanen with no retensi inaktif: kept by the creator, never due


@dataclass(frozen=True, slots=True)
class Cutoff:
    """When the retention clock starts. Periodic cutoffs close at the start of the next calendar or
    fiscal year; an event cutoff waits for the named event (e.g. ``final_action``)."""

    kind: CutoffKind = CutoffKind.NONE
    fiscal_year_start_month: int = 10  # October, as in the US federal fiscal year
    event: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CutoffKind(self.kind))  # evaluation compares members by identity
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise PolicyError(f"fiscal year start month {self.fiscal_year_start_month} is not 1..12; "
                              "give the month the fiscal year starts in, e.g. 10 for October",
                              code=ErrorCode.BAD_VALUE)
        if self.kind is CutoffKind.EVENT and not self.event:
            raise PolicyError("an event cutoff needs an event name; name the event, e.g. final_action",
                              code=ErrorCode.MISSING_FIELD)


@dataclass(frozen=True, slots=True)
class AppliesTo:
    """Which records an item covers; an empty set means "any".

    A record matches when every dimension matches: its platform and kind are listed, its account
    carries at least one of ``account_tags`` and none of ``excluded_account_tags``, its comment
    scope fits (comments and replies only), and its id is listed in ``record_ids``.
    """

    platforms: frozenset[str] = frozenset()
    account_tags: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    comments: CommentScope = CommentScope.ANY
    record_ids: frozenset[str] = frozenset()
    excluded_account_tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "comments", CommentScope(self.comments))  # "acted_on" given as text works too

    def matches(self, facts: RecordFacts) -> bool:
        if self.record_ids and facts.record_id not in self.record_ids:
            return False
        if (self.platforms and facts.platform not in self.platforms) or (self.kinds and facts.kind not in self.kinds):
            return False
        tags = facts.account_tags
        if self.account_tags and self.account_tags.isdisjoint(tags):
            return False
        if self.excluded_account_tags and not self.excluded_account_tags.isdisjoint(tags):
            return False
        if self.comments is CommentScope.ANY or facts.kind not in COMMENT_KINDS:
            return True
        return facts.acted_on == (self.comments is CommentScope.ACTED_ON)


@dataclass(frozen=True)
class ScheduleItem:
    """One disposition instruction of a file plan. For a JRA, ``retention`` is the retensi aktif,
    ``inactive`` the retensi inaktif, and ``action`` the keterangan (musnah -> destroy, permanen ->
    accession, dinilai kembali -> review); the action falls due after both periods."""

    id: str  # "<schedule id>/<item code>", unique across every loaded schedule
    schedule_id: str
    title: str
    authority: str
    applies_to: AppliesTo
    cutoff: Cutoff
    retention: Period
    inactive: Period | None
    action: Action
    security_class: str
    vital: bool
    age_from: AgeFrom
    framework: str

    def __post_init__(self) -> None:
        # Members, not their text, so that identity comparisons in the hot path hold for any caller.
        object.__setattr__(self, "action", Action(self.action))
        object.__setattr__(self, "age_from", AgeFrom(self.age_from))

    @property
    def code(self) -> str:
        return self.id.partition("/")[2]

    @cached_property
    def total_retention(self) -> Period:
        return self.retention if self.inactive is None else self.retention + self.inactive

    @cached_property
    def permanent(self) -> bool:
        """A JRA permanen row without retensi inaktif keeps the record with its creator for good.
        Everywhere else accession and transfer are dated steps that fall due like destroy."""
        return self.framework == Framework.JRA and self.action is Action.ACCESSION and self.inactive is None

    @cached_property
    def needs_external_approval(self) -> bool:
        """JRA rows of ten years or more whose action can end in destruction need ANRI's approval;
        handing permanen records over to ANRI destroys nothing, so it needs none."""
        return (self.framework == Framework.JRA and self.action in (Action.DESTROY, Action.REVIEW)
                and self.total_retention.at_least_years(EXTERNAL_APPROVAL_YEARS))


@dataclass(frozen=True)
class ScheduleSet:
    """The loaded file plan. ``fingerprint`` (sha256 of its canonical content) changes whenever any
    item's meaning changes, so a disposition batch can record exactly which rules it ran under."""

    items: tuple[ScheduleItem, ...]
    fingerprint: str
    _by_id: dict[str, ScheduleItem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, ScheduleItem] = {}
        for item in self.items:
            if item.id in by_id:
                raise PolicyError(f"schedule item {item.id} appears twice; give each item a unique code",
                                  code=ErrorCode.DUPLICATE_ID)
            by_id[item.id] = item
        object.__setattr__(self, "_by_id", by_id)

    def item(self, item_id: str) -> ScheduleItem:
        try:
            return self._by_id[item_id]
        except KeyError:
            raise PolicyError(f"schedule item {item_id!r} is not in the loaded schedules; "
                              "load the schedule that defines it or assign an existing item",
                              code=ErrorCode.UNKNOWN_ITEM) from None


_NO_EVENTS: Mapping[str, datetime] = MappingProxyType({})


def _no_events() -> Mapping[str, datetime]:
    return _NO_EVENTS


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the core knows about one record. Datetimes are timezone-aware UTC. ``assigned_item`` is a
    records officer's explicit assignment and wins over matching."""

    record_id: str
    platform: str
    account_id: str
    account_tags: frozenset[str]
    kind: str  # one of KNOWN_KINDS
    acted_on: bool
    posted_at: datetime | None
    captured_at: datetime
    events: Mapping[str, datetime] = field(default_factory=_no_events)
    assigned_item: str | None = None


@dataclass(frozen=True, slots=True)
class HoldScope:
    """What an active hold covers. A record is covered when

    1. its id is in ``record_ids``; or
    2. ``accounts`` is non-empty, its account is in ``accounts`` and its posted date (captured date
       when there is none) lies within ``posted_from``..``posted_to`` (inclusive, either bound
       optional); or
    3. ``accounts`` and ``record_ids`` are both empty, a date range is given and the date lies in it.

    A date range therefore narrows an account scope but never a list of record ids. A scope that
    can cover nothing (all empty, or from after to) is refused when the holds are indexed.
    """

    accounts: frozenset[str] = frozenset()
    record_ids: frozenset[str] = frozenset()
    posted_from: date | None = None
    posted_to: date | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    matter: str
    scope: HoldScope


@dataclass(frozen=True)
class Decision:
    """The core's verdict on one record. ``inactive_on`` is when the record moves from active to
    inactive (set only for items with an inactive period); ``eligible_on`` is when ``action`` falls
    due (None for ``no_date`` and ``permanent``). ``holds`` lists every active hold covering it."""

    record_id: str
    item_id: str
    authority: str
    action: Action
    status: Status
    eligible_on: date | None
    inactive_on: date | None
    holds: tuple[str, ...]
    needs_external_approval: bool

    @classmethod
    def make(cls, record_id: str, item_id: str, authority: str, action: Action, status: Status,
             eligible_on: date | None, inactive_on: date | None, holds: tuple[str, ...],
             needs_external_approval: bool) -> Decision:
        """The same object as ``Decision(...)``, built in a third of the time: a frozen dataclass's
        ``__init__`` makes one ``object.__setattr__`` call per field, which was a third of
        ``evaluate``'s time over a million records. A unit test keeps the two in step."""
        decision = object.__new__(cls)
        object.__setattr__(decision, "__dict__", {
            "record_id": record_id, "item_id": item_id, "authority": authority, "action": action, "status": status,
            "eligible_on": eligible_on, "inactive_on": inactive_on, "holds": holds,
            "needs_external_approval": needs_external_approval,
        })
        return decision
