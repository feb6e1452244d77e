"""Retention periods: ISO 8601 parsing, calendar arithmetic and the ten-year threshold."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.period import Period


@pytest.mark.parametrize(("text", "period"), [
    ("P3Y", Period(years=3)), ("P90D", Period(days=90)), ("P6Y", Period(years=6)),
    ("P1Y6M", Period(years=1, months=6)), ("P2W", Period(days=14)), ("P0D", Period()),
    ("P1Y2M3D", Period(1, 2, 3)),
])
def test_iso_durations_parse_to_whole_units(text: str, period: Period) -> None:
    assert Period.parse(text) == period


@pytest.mark.parametrize("text", ["", "P", "3 years", "PT1H", "P1DT12H", "P1.5Y", "P0.5M", "-P1Y", "p3y", "P1001Y",
                                  "P400000D"])
def test_anything_but_whole_days_months_and_years_is_refused(text: str) -> None:
    with pytest.raises(PolicyError) as raised:
        Period.parse(text)
    assert raised.value.code == ErrorCode.BAD_DURATION


@pytest.mark.parametrize(("period", "start", "end"), [
    (Period(days=90), date(2024, 1, 10), date(2024, 4, 9)),
    (Period(years=3), date(2021, 6, 1), date(2024, 6, 1)),
    (Period(years=1), date(2024, 2, 29), date(2025, 2, 28)),
    (Period(months=1), date(2024, 1, 31), date(2024, 2, 29)),
    (Period(years=1, months=6), date(2023, 8, 31), date(2025, 2, 28)),
    (Period(months=1, days=1), date(2024, 1, 31), date(2024, 3, 1)),
    (Period(months=25), date(2024, 12, 15), date(2027, 1, 15)),
    (Period(), date(2024, 5, 2), date(2024, 5, 2)),
])
def test_periods_add_with_calendar_arithmetic(period: Period, start: date, end: date) -> None:
    assert period.add_to(start) == end


@pytest.mark.parametrize(("period", "reaches"), [
    (Period(years=10), True), (Period(years=2) + Period(years=8), True), (Period(years=9, months=12), True),
    (Period(years=9, months=11), False), (Period(years=9, months=11, days=28), True),
    (Period(years=9, months=11, days=27), False), (Period(days=3653), True), (Period(days=3652), True),
    (Period(days=3651), False), (Period(days=3360), False), (Period(years=9, days=365), True),
    (Period(years=9, days=364), False),
])
def test_ten_years_is_judged_generously(period: Period, reaches: bool) -> None:
    assert period.at_least_years(10) is reaches


@pytest.mark.parametrize("period", [Period(), Period(days=90), Period(1, 6, 0), Period(2, 0, 14)])
def test_the_canonical_text_parses_back(period: Period) -> None:
    assert Period.parse(period.iso()) == period


def test_a_negative_period_cannot_be_built() -> None:
    with pytest.raises(PolicyError):
        Period(days=-1)


@given(period=st.builds(Period, st.integers(0, 30), st.integers(0, 30), st.integers(0, 400)),
       start=st.dates(date(1990, 1, 1), date(2100, 12, 31)), later=st.integers(0, 4000))
def test_adding_a_period_never_goes_back_and_keeps_order(period: Period, start: date, later: int) -> None:
    end = period.add_to(start)
    assert end >= start
    assert period.add_to(date.fromordinal(min(start.toordinal() + later, date(2100, 12, 31).toordinal()))) >= end
