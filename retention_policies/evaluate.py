"""Decide, for each record, when its schedule's action falls due and whether it is due today (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime

from retention_policies.errors import PolicyError
from retention_policies.holds import HoldIndex, posted_day, utc_day
from retention_policies.model import AgeFrom, CutoffKind, Decision, Hold, RecordFacts, ScheduleItem, ScheduleSet, Status
from retention_policies.resolve import Resolver

OnProblem = Callable[[RecordFacts, PolicyError], None]

# Bounds the per-run memo of verdicts (ten years of days for a few hundred items fits inside).
_VERDICT_CACHE_LIMIT = 1_000_000


def anchor_day(facts: RecordFacts, item: ScheduleItem, posted: date | None = None) -> date:
    """The date a record's age counts from: posted (captured when there is none) or captured.
    ``posted`` is :func:`posted_day` of the record when the caller already has it."""
    if item.age_from is AgeFrom.CAPTURED:
        return utc_day(facts.captured_at)
    return posted_day(facts) if posted is None else posted


def cutoff_day(facts: RecordFacts, item: ScheduleItem, posted: date | None = None) -> date | None:
    """When the retention clock starts: the anchor itself, the first day of the calendar or fiscal
    year after the one holding the anchor, or the recorded event (None until it is recorded)."""
    cutoff = item.cutoff
    if cutoff.kind is CutoffKind.EVENT:
        happened = facts.events.get(cutoff.event or "")
        return None if happened is None else utc_day(happened)
    anchor = anchor_day(facts, item, posted)
    if cutoff.kind is CutoffKind.NONE:
        return anchor
    first_month = 1 if cutoff.kind is CutoffKind.CALENDAR_YEAR else cutoff.fiscal_year_start_month
    year = anchor.year + 1 if anchor.month >= first_month else anchor.year
    return date(year, first_month, 1)


def phase_dates(facts: RecordFacts, item: ScheduleItem) -> tuple[date | None, date | None]:
    """``(inactive_on, eligible_on)``: cutoff + retention, then + the inactive period when there is one."""
    return _phases(cutoff_day(facts, item), item)


def _phases(start: date | None, item: ScheduleItem) -> tuple[date | None, date | None]:
    # The periods are added one after the other, not summed first, because the record really moves
    # to inactive custody on the first date; the two ways differ only when a day is clamped to a
    # month's end.
    if start is None:
        return None, None
    active_end = item.retention.add_to(start)
    if item.inactive is None:
        return None, (None if item.permanent else active_end)
    return active_end, item.inactive.add_to(active_end)


def eligible_on(facts: RecordFacts, item: ScheduleItem) -> date | None:
    """The day ``item.action`` falls due for the record, ignoring holds; None if not (yet) dated."""
    return phase_dates(facts, item)[1]


def decide(facts: RecordFacts, item: ScheduleItem, holds_index: HoldIndex, today: date) -> Decision:
    """The decision on one record under ``item`` as of ``today`` (a UTC date).

    A hold wins over every other status: a held record is never due, whatever its dates.
    """
    return _decision(facts, item, _schedule_verdict(cutoff_day(facts, item), item, today),
                     holds_index.covering(facts))


_Verdict = tuple[date | None, date | None, Status]  # inactive_on, eligible_on, status were there no hold


def _schedule_verdict(start: date | None, item: ScheduleItem, today: date) -> _Verdict:
    inactive_on, eligible = _phases(start, item)
    if item.permanent:
        return inactive_on, eligible, Status.PERMANENT
    if eligible is None:
        return inactive_on, eligible, Status.NO_DATE
    return inactive_on, eligible, Status.DUE if eligible <= today else Status.NOT_YET


def _decision(facts: RecordFacts, item: ScheduleItem, verdict: _Verdict, holds: tuple[str, ...]) -> Decision:
    inactive_on, eligible, unheld = verdict
    return Decision.make(facts.record_id, item.id, item.authority, item.action, Status.HELD if holds else unheld,
                         eligible, inactive_on, holds, item.needs_external_approval)


def evaluate(records: Iterable[RecordFacts], schedules: ScheduleSet, holds: Sequence[Hold], now: datetime,
             *, on_problem: OnProblem | None = None) -> Iterator[Decision]:
    """One decision per record, streamed in input order; memory does not grow with the records.

    ``holds`` are the active holds only. A record that matches no item or several raises
    PolicyError, unless ``on_problem`` is given: then the record is reported to it and skipped
    (never due), and evaluation goes on. Bad holds and a naive ``now`` raise here, before the
    first record is read.
    """
    return _Evaluator(schedules, HoldIndex(holds), utc_day(now)).stream(records, on_problem)


class _Evaluator:
    """:func:`decide` for many records, remembering the verdict per (item, cutoff day): an archive
    has millions of records but only thousands of distinct cutoff days."""

    def __init__(self, schedules: ScheduleSet, index: HoldIndex, today: date) -> None:
        self.resolve = Resolver(schedules).resolve
        self.index = index
        self.today = today
        self.verdicts: dict[tuple[str, date | None], _Verdict] = {}

    def decide(self, facts: RecordFacts) -> Decision:
        item = self.resolve(facts)
        posted = posted_day(facts)  # both the age and the holds usually count from it
        start = cutoff_day(facts, item, posted)
        key = (item.id, start)
        verdict = self.verdicts.get(key)
        if verdict is None:
            if len(self.verdicts) >= _VERDICT_CACHE_LIMIT:
                self.verdicts.clear()
            verdict = self.verdicts[key] = _schedule_verdict(start, item, self.today)
        return _decision(facts, item, verdict, self.index.covering(facts, posted))

    def stream(self, records: Iterable[RecordFacts], on_problem: OnProblem | None) -> Iterator[Decision]:
        decide = self.decide
        for facts in records:
            try:
                decision = decide(facts)
            except PolicyError as problem:
                if on_problem is None:
                    raise
                on_problem(facts, problem)
                continue
            yield decision


def due_actions(records: Iterable[RecordFacts], schedules: ScheduleSet, holds: Sequence[Hold], now: datetime,
                *, on_problem: OnProblem | None = None) -> Iterator[Decision]:
    """Only the decisions whose status is ``due``: what a disposition batch may propose."""
    return (decision for decision in evaluate(records, schedules, holds, now, on_problem=on_problem)
            if decision.status is Status.DUE)
