"""Properties over random records, holds and dates: a held record is never due, and due never goes back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from retention_policies.evaluate import decide, due_actions, evaluate
from retention_policies.holds import HoldIndex
from retention_policies.loader import builtin_schedules
from retention_policies.model import Decision, Hold, HoldScope, RecordFacts, ScheduleSet, Status
from retention_policies.resolve import resolve

SETS = {name: builtin_schedules([name]) for name in ("nara-grs", "state-sample", "jra-example")}
ACCOUNTS = ["acct-1", "acct-2", "acct-3"]
RECORD_IDS = [f"r{n}" for n in range(8)]
KINDS = ["post", "comment", "reply", "media", "profile", "moderation", "request_package"]

MOMENTS = st.datetimes(datetime(2012, 1, 1), datetime(2032, 12, 31), timezones=st.just(UTC))
DAYS = st.dates(date(2012, 1, 1), date(2032, 12, 31))


@st.composite
def records(draw: st.DrawFn) -> list[RecordFacts]:
    """Up to eight records with distinct ids, on a few shared accounts, so holds overlap them."""
    ids = draw(st.lists(st.sampled_from(RECORD_IDS), unique=True, max_size=8))
    tags = st.frozensets(st.sampled_from(["transitory", "press", "elected_official"]), max_size=1)
    events = st.dictionaries(st.sampled_from(["final_action", "no_longer_needed"]), MOMENTS, max_size=2)
    return [RecordFacts(record_id=record_id, platform=draw(st.sampled_from(["x", "mastodon"])),
                        account_id=draw(st.sampled_from(ACCOUNTS)), account_tags=draw(tags),
                        kind=draw(st.sampled_from(KINDS)), acted_on=draw(st.booleans()),
                        posted_at=draw(st.none() | MOMENTS), captured_at=draw(MOMENTS), events=draw(events))
            for record_id in ids]


@st.composite
def holds(draw: st.DrawFn) -> list[Hold]:
    found = []
    for number in range(draw(st.integers(0, 4))):
        start, end = draw(st.none() | DAYS), draw(st.none() | DAYS)
        if start and end and start > end:
            start, end = end, start
        scope = HoldScope(accounts=draw(st.frozensets(st.sampled_from(ACCOUNTS), max_size=2)),
                          record_ids=draw(st.frozensets(st.sampled_from(RECORD_IDS), max_size=3)),
                          posted_from=start, posted_to=end)
        if scope.accounts or scope.record_ids or start or end:
            found.append(Hold(f"h{number}", f"matter {number}", scope))
    return found


def covered_by(hold: Hold, facts: RecordFacts) -> bool:
    """The hold rule written out plainly, independent of the index under test."""
    scope = hold.scope
    day = (facts.posted_at or facts.captured_at).astimezone(UTC).date()
    in_range = (scope.posted_from is None or scope.posted_from <= day) and (
        scope.posted_to is None or day <= scope.posted_to)
    if facts.record_id in scope.record_ids:
        return True
    if scope.accounts:
        return facts.account_id in scope.accounts and in_range
    return not scope.record_ids and in_range


def run(facts: list[RecordFacts], schedules: ScheduleSet, active: list[Hold], now: datetime) -> list[Decision]:
    return list(evaluate(facts, schedules, active, now))


SCHEDULES = st.sampled_from(sorted(SETS)).map(SETS.__getitem__)


@settings(max_examples=300)
@given(facts=records(), schedules=SCHEDULES, active=holds(), now=MOMENTS)
def test_no_record_covered_by_an_active_hold_is_ever_due(facts: list[RecordFacts], schedules: ScheduleSet,
                                                         active: list[Hold], now: datetime) -> None:
    by_id = {f.record_id: f for f in facts}
    for decision in due_actions(facts, schedules, active, now):
        assert not any(covered_by(h, by_id[decision.record_id]) for h in active)
    for decision in run(facts, schedules, active, now):
        expected = tuple(sorted(h.id for h in active if covered_by(h, by_id[decision.record_id])))
        assert decision.holds == expected
        assert (decision.status is Status.HELD) == bool(expected)


@given(facts=records(), schedules=SCHEDULES, active=holds(), now=MOMENTS)
def test_due_actions_are_exactly_the_due_decisions(facts: list[RecordFacts], schedules: ScheduleSet,
                                                   active: list[Hold], now: datetime) -> None:
    due = list(due_actions(facts, schedules, active, now))
    assert due == [d for d in run(facts, schedules, active, now) if d.status is Status.DUE]


@given(facts=records(), schedules=SCHEDULES, active=holds(), now=MOMENTS, later=st.timedeltas(timedelta(0),
                                                                                               timedelta(days=9000)))
def test_once_due_a_record_stays_due_while_the_holds_stay_the_same(facts: list[RecordFacts],
                                                                   schedules: ScheduleSet, active: list[Hold],
                                                                   now: datetime, later: timedelta) -> None:
    due_now = {d.record_id for d in due_actions(facts, schedules, active, now)}
    due_later = {d.record_id for d in due_actions(facts, schedules, active, now + later)}
    assert due_now <= due_later


@given(facts=records(), schedules=SCHEDULES, active=holds(), now=MOMENTS, data=st.data())
def test_releasing_holds_makes_an_eligible_record_due_again_only_when_its_last_hold_goes(
        facts: list[RecordFacts], schedules: ScheduleSet, active: list[Hold], now: datetime,
        data: st.DataObject) -> None:
    assume(active)
    remaining = data.draw(st.lists(st.sampled_from(active), unique_by=lambda h: h.id, max_size=len(active) - 1))
    before = {d.record_id: d for d in run(facts, schedules, active, now)}
    after = {d.record_id: d for d in run(facts, schedules, remaining, now)}
    today = now.date()
    for record_id, held in before.items():
        if held.status is not Status.HELD:
            continue
        released = after[record_id]
        assert released.eligible_on == held.eligible_on  # a hold suspends disposition, it does not move dates
        still_held = any(covered_by(h, next(f for f in facts if f.record_id == record_id)) for h in remaining)
        eligible = held.eligible_on is not None and held.eligible_on <= today
        assert (released.status is Status.DUE) == (eligible and not still_held), (held, released)


@given(facts=records(), schedules=SCHEDULES, active=holds(), now=MOMENTS)
def test_streaming_decides_like_one_record_at_a_time(facts: list[RecordFacts], schedules: ScheduleSet,
                                                     active: list[Hold], now: datetime) -> None:
    index = HoldIndex(active)
    single = [decide(f, resolve(f, schedules), index, now.date()) for f in facts]
    assert run(facts, schedules, active, now) == single
