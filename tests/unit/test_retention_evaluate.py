"""Eligibility against fixed dates, statuses, and holds that keep a record from ever being due."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.evaluate import decide, due_actions, eligible_on, evaluate, phase_dates
from retention_policies.holds import HoldIndex
from retention_policies.loader import builtin_schedules
from retention_policies.model import (
    Action,
    AgeFrom,
    Cutoff,
    CutoffKind,
    Decision,
    Framework,
    Hold,
    HoldScope,
    RecordFacts,
    Status,
)
from retention_policies.period import Period
from retention_policies.resolve import resolve
from tests.unit.test_retention_helpers import at, make_facts, make_item

NARA = builtin_schedules(["nara-grs"])
STATE = builtin_schedules(["state-sample"])
JRA = builtin_schedules(["jra-example"])
NO_HOLDS = HoldIndex([])


def status_on(facts: RecordFacts, day: str, holds: list[Hold] | None = None) -> Status:
    return decide(facts, resolve(facts, NARA), HoldIndex(holds or []), date.fromisoformat(day)).status


# -- NARA ------------------------------------------------------------------------------------------------


def test_grs_6_4_020_comment_captured_2024_01_10_is_eligible_on_2024_04_09() -> None:
    comment = make_facts("comment", posted="2024-01-10", captured="2024-01-10")
    assert resolve(comment, NARA).code == "6.4-020"
    assert eligible_on(comment, NARA.item("nara-grs/6.4-020")) == date(2024, 4, 9)
    assert status_on(comment, "2024-04-08") is Status.NOT_YET
    assert status_on(comment, "2024-04-09") is Status.DUE


def test_grs_6_4_010_post_is_destroyed_when_three_years_old_with_no_cutoff() -> None:
    post = make_facts("post", posted="2021-06-01", captured="2021-06-02")
    assert eligible_on(post, NARA.item("nara-grs/6.4-010")) == date(2024, 6, 1)


def test_a_comment_the_agency_acted_on_keeps_three_years() -> None:
    comment = make_facts("comment", acted_on=True, posted="2024-01-10")
    assert eligible_on(comment, resolve(comment, NARA)) == date(2027, 1, 10)


def test_a_request_package_waits_for_final_agency_action_then_six_years() -> None:
    package = make_facts("request_package", posted=None, captured="2024-01-05")
    item = NARA.item("nara-grs/4.2-020")
    assert eligible_on(package, item) is None
    assert status_on(package, "2099-01-01") is Status.NO_DATE
    acted = make_facts("request_package", posted=None, events={"final_action": at("2024-03-15")})
    assert eligible_on(acted, item) == date(2030, 3, 15)


def test_an_event_is_dated_in_utc() -> None:
    evening_in_new_york = datetime(2024, 3, 15, 21, 30, tzinfo=timezone(timedelta(hours=-5)))
    acted = make_facts("request_package", events={"final_action": evening_in_new_york})
    assert eligible_on(acted, NARA.item("nara-grs/4.2-020")) == date(2030, 3, 16)


def test_a_transitory_record_is_due_the_day_it_is_no_longer_needed() -> None:
    tags = frozenset({"transitory"})
    assert status_on(make_facts(tags=tags), "2030-01-01") is Status.NO_DATE
    done = make_facts(tags=tags, events={"no_longer_needed": at("2024-05-02")})
    assert eligible_on(done, NARA.item("nara-grs/5.2-010")) == date(2024, 5, 2)
    assert status_on(done, "2024-05-02") is Status.DUE


# -- cutoffs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("posted", "expected"), [
    ("2021-06-01", date(2025, 1, 1)), ("2021-12-31", date(2025, 1, 1)), ("2022-01-01", date(2026, 1, 1)),
])
def test_a_calendar_year_cutoff_counts_from_the_next_first_of_january(posted: str, expected: date) -> None:
    post = make_facts("post", posted=posted)
    assert eligible_on(post, STATE.item("state-sample/SM-01")) == expected


@pytest.mark.parametrize(("posted", "expected"), [
    ("2023-09-30", date(2026, 10, 1)), ("2023-10-01", date(2027, 10, 1)), ("2024-02-29", date(2027, 10, 1)),
])
def test_a_fiscal_year_cutoff_starting_in_october(posted: str, expected: date) -> None:
    item = make_item(cutoff=Cutoff(CutoffKind.FISCAL_YEAR, 10), retention=Period(years=3))
    assert eligible_on(make_facts(posted=posted), item) == expected


def test_a_fiscal_year_starting_in_july_from_the_sample_schedule() -> None:
    facts = make_facts("post", tags=frozenset({"elected_official"}), posted="2022-06-30")
    item = resolve(facts, STATE)
    assert (item.code, item.action) == ("SM-04", Action.TRANSFER)
    assert eligible_on(facts, item) == date(2027, 7, 1)


def test_age_counts_from_capture_when_there_is_no_posted_date_or_the_item_says_so() -> None:
    undated = make_facts(posted=None, captured="2024-01-10")
    old = make_facts(posted="2020-01-10", captured="2024-01-10")
    item = make_item(retention=Period(days=90))
    assert eligible_on(undated, item) == date(2024, 4, 9)
    assert eligible_on(old, item) == date(2020, 4, 9)
    assert eligible_on(old, make_item(retention=Period(days=90), age_from=AgeFrom.CAPTURED)) == date(2024, 4, 9)


def test_a_naive_datetime_is_refused() -> None:
    naive = make_facts(posted=datetime(2024, 1, 10))
    with pytest.raises(PolicyError) as raised:
        eligible_on(naive, make_item())
    assert raised.value.code == ErrorCode.NAIVE_DATETIME
    with pytest.raises(PolicyError):
        evaluate([], NARA, [], datetime(2024, 1, 1))


# -- JRA -------------------------------------------------------------------------------------------------


def test_jra_counts_retensi_aktif_then_inaktif_from_the_cutoff() -> None:
    complaint = make_facts("comment", acted_on=True, posted="2024-02-29")
    item = resolve(complaint, JRA)
    assert item.code == "HM.02.03"
    assert phase_dates(complaint, item) == (date(2027, 1, 1), date(2035, 1, 1))
    decision = decide(complaint, item, NO_HOLDS, date(2035, 1, 1))
    assert (decision.status, decision.inactive_on, decision.needs_external_approval) == (
        Status.DUE, date(2027, 1, 1), True)


def test_jra_periods_are_added_in_turn_with_month_end_clamping() -> None:
    item = make_item(retention=Period(years=2), inactive=Period(years=8), framework=Framework.JRA)
    assert phase_dates(make_facts(posted="2024-02-29"), item) == (date(2026, 2, 28), date(2034, 2, 28))


@pytest.mark.parametrize(("code", "kind", "acted_on", "approval"), [
    ("HM.02.03", "comment", True, True),  # 2 + 8 years, musnah: ANRI must approve
    ("HM.02.02", "comment", False, False),  # 1 + 1 years
    ("HM.02.01", "post", False, False),  # 2 + 8 years but permanen: handed over, nothing destroyed
])
def test_anri_approval_is_needed_for_jra_destruction_after_ten_years_or_more(code: str, kind: str, acted_on: bool,
                                                                            approval: bool) -> None:
    facts = make_facts(kind, acted_on=acted_on)
    item = resolve(facts, JRA)
    assert item.code == code
    assert decide(facts, item, NO_HOLDS, date(2024, 1, 1)).needs_external_approval is approval


def test_ten_years_outside_a_jra_needs_no_external_approval() -> None:
    item = make_item(retention=Period(years=10), framework=Framework.NARA)
    assert not decide(make_facts(), item, NO_HOLDS, date(2040, 1, 1)).needs_external_approval


def test_a_jra_permanen_row_without_inaktif_is_permanent_and_never_due() -> None:
    item = make_item(action=Action.ACCESSION, framework=Framework.JRA, retention=Period(years=2))
    decision = decide(make_facts(), item, NO_HOLDS, date(2100, 1, 1))
    assert (decision.status, decision.eligible_on) == (Status.PERMANENT, None)
    nara_style = make_item(action=Action.ACCESSION, retention=Period(years=2))
    assert decide(make_facts(), nara_style, NO_HOLDS, date(2100, 1, 1)).status is Status.DUE


# -- holds -----------------------------------------------------------------------------------------------

OLD_POST = make_facts("post", record_id="r1", account_id="acct-1", posted="2020-05-05")


def hold(hold_id: str = "h1", **scope: object) -> Hold:
    return Hold(hold_id, f"matter {hold_id}", HoldScope(**scope))  # type: ignore[arg-type]


@pytest.mark.parametrize("scope", [
    {"record_ids": frozenset({"r1"})},
    {"accounts": frozenset({"acct-1"})},
    {"accounts": frozenset({"acct-1"}), "posted_from": date(2020, 5, 5), "posted_to": date(2020, 5, 5)},
    {"accounts": frozenset({"acct-1"}), "posted_to": date(2020, 12, 31)},
    {"posted_from": date(2020, 1, 1)},
    {"record_ids": frozenset({"r1"}), "posted_from": date(2023, 1, 1)},  # dates never narrow record ids
])
def test_a_record_in_a_hold_scope_is_held_not_due(scope: dict[str, Any]) -> None:
    assert status_on(OLD_POST, "2025-01-01") is Status.DUE
    assert status_on(OLD_POST, "2025-01-01", [hold(**scope)]) is Status.HELD


@pytest.mark.parametrize("scope", [
    {"record_ids": frozenset({"r2"})},
    {"accounts": frozenset({"acct-2"})},
    {"accounts": frozenset({"acct-1"}), "posted_from": date(2020, 5, 6)},
    {"accounts": frozenset({"acct-1"}), "posted_to": date(2020, 5, 4)},
    {"posted_to": date(2019, 12, 31)},
])
def test_a_record_outside_a_hold_scope_stays_due(scope: dict[str, Any]) -> None:
    assert status_on(OLD_POST, "2025-01-01", [hold(**scope)]) is Status.DUE


def test_a_hold_dates_a_record_without_posted_date_by_its_capture() -> None:
    undated = make_facts("post", posted=None, captured="2020-05-05")
    assert status_on(undated, "2025-01-01", [hold(posted_from=date(2020, 5, 5))]) is Status.HELD


def test_every_covering_hold_is_listed_once_and_in_order() -> None:
    holds = [hold("h3", record_ids=frozenset({"r1"}), accounts=frozenset({"acct-1"})),
             hold("h1", accounts=frozenset({"acct-1"})), hold("h2", accounts=frozenset({"acct-9"})),
             hold("h0", posted_to=date(2021, 1, 1))]
    decision = decide(OLD_POST, resolve(OLD_POST, NARA), HoldIndex(holds), date(2025, 1, 1))
    assert decision.holds == ("h0", "h1", "h3")


def test_a_held_record_is_held_whether_or_not_it_is_eligible_yet() -> None:
    fresh = make_facts("post", posted="2024-12-01")
    assert status_on(fresh, "2025-01-01", [hold(accounts=frozenset({"acct-1"}))]) is Status.HELD


@pytest.mark.parametrize("scope", [{}, {"posted_from": date(2024, 2, 1), "posted_to": date(2024, 1, 1)}])
def test_a_hold_that_could_cover_nothing_is_refused(scope: dict[str, Any]) -> None:
    with pytest.raises(PolicyError, match="hold h1") as raised:
        HoldIndex([hold(**scope)])
    assert raised.value.code == ErrorCode.BAD_HOLD
    with pytest.raises(PolicyError):
        evaluate([OLD_POST], NARA, [hold(**scope)], at("2025-01-01"))  # before any record is read


# -- streaming -------------------------------------------------------------------------------------------


def test_evaluate_streams_one_decision_per_record_in_order() -> None:
    records = [make_facts("post", record_id=f"r{n}", posted=f"20{10 + n}-01-01") for n in range(10)]
    decisions = list(evaluate(iter(records), NARA, [], at("2020-06-01")))
    assert [d.record_id for d in decisions] == [r.record_id for r in records]
    assert [d.status for d in decisions] == [Status.DUE] * 8 + [Status.NOT_YET] * 2
    due = list(due_actions(iter(records), NARA, [hold(record_ids=frozenset({"r0"}))], at("2020-06-01")))
    assert [d.record_id for d in due] == [f"r{n}" for n in range(1, 8)]


def test_evaluate_does_not_read_ahead_of_its_consumer() -> None:
    consumed: list[str] = []

    def records() -> object:
        for n in range(1_000):
            consumed.append(f"r{n}")
            yield make_facts(record_id=f"r{n}")

    stream = evaluate(records(), NARA, [], at("2030-01-01"))  # type: ignore[arg-type]
    next(stream)
    assert consumed == ["r0"]


def test_an_unresolvable_record_stops_evaluation_unless_problems_are_collected() -> None:
    records = [make_facts(record_id="r1"), make_facts("unheard_of", record_id="r2"), make_facts(record_id="r3")]
    with pytest.raises(PolicyError) as raised:
        list(evaluate(records, NARA, [], at("2030-01-01")))
    assert raised.value.code == ErrorCode.NO_SCHEDULE
    problems: list[tuple[str, str]] = []
    decisions = list(evaluate(records, NARA, [], at("2030-01-01"),
                              on_problem=lambda facts, error: problems.append((facts.record_id, error.code))))
    assert [d.record_id for d in decisions] == ["r1", "r3"]
    assert problems == [("r2", ErrorCode.NO_SCHEDULE)]


def test_decision_make_builds_the_same_value_as_the_constructor() -> None:
    values = ("r1", "s/i", "GRS", Action.DESTROY, Status.DUE, date(2024, 1, 1), None, ("h1",), True)
    made, built = Decision.make(*values), Decision(*values)
    assert made == built and repr(made) == repr(built) and hash(made) == hash(built)
    assert vars(made).keys() == {f.name for f in fields(Decision)}
    with pytest.raises(AttributeError):
        made.status = Status.HELD  # type: ignore[misc]


def test_decide_and_evaluate_agree_on_every_shipped_item() -> None:
    now = at("2026-06-30")
    for schedules in (NARA, STATE, JRA):
        records = [make_facts(kind, record_id=f"{kind}-{acted}", acted_on=acted, tags=tags,
                              events={"final_action": at("2019-01-01"), "no_longer_needed": at("2025-01-01")})
                   for kind in ("post", "comment", "reply", "media", "profile", "moderation", "request_package")
                   for acted in (False, True) for tags in (frozenset(), frozenset({"transitory"}))]
        streamed = list(evaluate(records, schedules, [], now))
        single = [decide(r, resolve(r, schedules), NO_HOLDS, now.date()) for r in records]
        assert streamed == single


def test_now_is_taken_as_a_utc_date() -> None:
    comment = make_facts("comment", posted="2024-01-10")
    early_on_the_9th_in_jakarta = datetime(2024, 4, 9, 1, 0, tzinfo=timezone(timedelta(hours=7)))
    assert next(evaluate([comment], NARA, [], early_on_the_9th_in_jakarta)).status is Status.NOT_YET
    assert next(evaluate([comment], NARA, [], datetime(2024, 4, 9, 0, 0, tzinfo=UTC))).status is Status.DUE


def test_items_built_from_plain_text_values_evaluate_like_enum_members() -> None:
    item = make_item(action="accession", age_from="captured", cutoff=Cutoff("calendar_year"),  # type: ignore[arg-type]
                     framework="jra", retention=Period(years=1))
    assert (item.action, item.age_from, item.cutoff.kind) == (Action.ACCESSION, AgeFrom.CAPTURED,
                                                              CutoffKind.CALENDAR_YEAR)
    assert item.permanent
    decision = decide(make_facts(posted="2020-01-01", captured="2021-03-01"), item, NO_HOLDS, date(2030, 1, 1))
    assert decision.status is Status.PERMANENT
