"""Records-request deadlines: working-day calendars, jurisdiction profiles and the deadline calculator."""

from __future__ import annotations

from datetime import date

import pytest

from export.errors import ExportError
from export.requests.calendar import (
    RuleCalendar,
    add_calendar_days,
    add_working_days,
    holiday_file,
    us_federal_holidays,
    working_days_between,
)
from export.requests.jurisdictions import (
    Extension,
    Jurisdiction,
    Toll,
    _load,
    deadlines,
    exemption,
    jurisdiction,
    jurisdictions,
    response_due,
)

FEDERAL_RECEIVED = date(2024, 11, 22)  # a Friday; Thanksgiving 2024-11-28 falls inside the clock


def federal() -> Jurisdiction:
    return jurisdiction("us-federal")


def kip() -> Jurisdiction:
    return jurisdiction("id-uu-kip")


def code_of(excinfo: pytest.ExceptionInfo[ExportError]) -> str:
    return excinfo.value.code


# --- calendars ---------------------------------------------------------------------------------------


def test_day_of_receipt_is_day_zero() -> None:
    weekdays = RuleCalendar()
    assert add_working_days(weekdays, date(2024, 11, 22), 0) == date(2024, 11, 22)
    assert add_working_days(weekdays, date(2024, 11, 22), 1) == date(2024, 11, 25)
    assert add_calendar_days(date(2024, 11, 22), 10) == date(2024, 12, 2)


def test_negative_day_counts_are_refused() -> None:
    with pytest.raises(ExportError) as excinfo:
        add_working_days(RuleCalendar(), date(2024, 1, 2), -1)
    assert code_of(excinfo) == "negative_days"


@pytest.mark.parametrize(("observed", "name"), [
    (date(2026, 7, 3), "Independence Day"),  # July 4 2026 is a Saturday: the Friday before
    (date(2022, 12, 26), "Christmas Day"),  # Christmas 2022 is a Sunday: the Monday after
    (date(2024, 11, 28), "Thanksgiving Day"),
    (date(2024, 1, 15), "Birthday of Martin Luther King, Jr."),
    (date(2024, 2, 19), "Washington's Birthday"),
    (date(2024, 5, 27), "Memorial Day"),
    (date(2024, 6, 19), "Juneteenth National Independence Day"),
    (date(2024, 9, 2), "Labor Day"),
    (date(2024, 10, 14), "Columbus Day"),
    (date(2024, 11, 11), "Veterans Day"),
])
def test_federal_holidays_fall_on_their_observed_dates(observed: date, name: str) -> None:
    assert us_federal_holidays(observed.year)[observed] == name


def test_saturday_holidays_move_to_friday_and_the_saturday_itself_is_not_listed() -> None:
    assert date(2026, 7, 4) not in us_federal_holidays(2026)
    assert date(2022, 12, 25) not in us_federal_holidays(2022)
    assert len(us_federal_holidays(2024)) == 11
    assert date(2020, 6, 19) not in us_federal_holidays(2020)  # Juneteenth only from 2021


def test_a_saturday_new_years_day_makes_december_31_before_a_holiday() -> None:
    calendar = federal().calendar
    assert calendar is not None
    assert us_federal_holidays(2022)[date(2021, 12, 31)] == "New Year's Day"
    assert not calendar.is_working_day(date(2021, 12, 31))
    assert calendar.is_working_day(date(2021, 12, 30))


def test_working_days_between_counts_the_end_but_not_the_start() -> None:
    assert working_days_between(RuleCalendar(), date(2024, 12, 2), date(2024, 12, 9)) == 5
    assert working_days_between(RuleCalendar(), date(2024, 12, 2), date(2024, 12, 2)) == 0
    # The answer's day is day 0 of the resumed clock: a toll from Fri to Sat cost no working day,
    # one from Sat to Mon cost the Monday.
    assert working_days_between(RuleCalendar(), date(2024, 12, 6), date(2024, 12, 7)) == 0
    assert working_days_between(RuleCalendar(), date(2024, 11, 30), date(2024, 12, 2)) == 1


def test_indonesian_calendar_files_mark_cuti_bersama() -> None:
    holidays = {holiday.day: holiday for holiday in holiday_file("id", 2025)}
    assert not holidays[date(2025, 3, 31)].cuti_bersama  # Idul Fitri
    assert holidays[date(2025, 4, 7)].cuti_bersama
    assert sum(holiday.cuti_bersama for holiday in holidays.values()) == 10
    assert all(holiday.name.strip() for holiday in holidays.values())


@pytest.mark.parametrize(("year", "holidays", "cuti_bersama"), [(2024, 19, 10), (2025, 17, 10), (2026, 17, 8)])
def test_every_indonesian_calendar_file_loads(year: int, holidays: int, cuti_bersama: int) -> None:
    entries = holiday_file("id", year)
    assert sum(not entry.cuti_bersama for entry in entries) == holidays
    assert sum(entry.cuti_bersama for entry in entries) == cuti_bersama
    assert {entry.day.year for entry in entries} == {year}
    assert len({entry.day for entry in entries}) == len(entries)


_BROKEN_HEAD = "[jurisdiction]\nid='broken'\nname='B'\ncountry='US'\nlanguage='en'\nauthority='x'\n"


# --- profiles ----------------------------------------------------------------------------------------


def test_every_profile_loads_with_one_response_clock_and_exemptions() -> None:
    loaded = {j.id: j for j in jurisdictions()}
    assert set(loaded) == {"us-federal", "us-ca-cpra", "us-ny-foil", "id-uu-kip"}
    for j in loaded.values():
        assert j.response_clock.id == "response"
        assert j.exemption_codes
        assert j.language in ("en", "id")
    assert loaded["id-uu-kip"].language == "id"


def test_unknown_jurisdiction_lists_the_known_ones() -> None:
    with pytest.raises(ExportError) as excinfo:
        jurisdiction("us-tx")
    assert code_of(excinfo) == "unknown_jurisdiction"
    assert "us-federal" in str(excinfo.value) and "id-uu-kip" in str(excinfo.value)


def test_federal_exemptions_are_closed_and_b7_is_cited_only_by_sub_clause() -> None:
    codes = [e.code for e in federal().exemption_codes]
    assert codes[:6] == ["(b)(1)", "(b)(2)", "(b)(3)", "(b)(4)", "(b)(5)", "(b)(6)"]
    assert [c for c in codes if c.startswith("(b)(7)")] == [f"(b)(7)({x})" for x in "ABCDEF"]
    assert exemption(federal(), "(b)(7)(C)").title.startswith("Law enforcement")
    with pytest.raises(ExportError) as excinfo:
        exemption(federal(), "(b)(7)")
    assert code_of(excinfo) == "unknown_exemption"
    assert "(b)(7)(A)" in str(excinfo.value)


def test_uu_kip_exemptions_are_pasal_17_a_to_j() -> None:
    assert [e.code for e in kip().exemption_codes] == [f"17({x})" for x in "abcdefghij"]
    assert exemption(kip(), "17(h)").title == "Mengungkap rahasia pribadi"
    with pytest.raises(ExportError) as excinfo:
        exemption(kip(), "17(k)")
    assert code_of(excinfo) == "unknown_exemption"


@pytest.mark.parametrize("jid", ["us-ca-cpra", "us-ny-foil"])
def test_state_exemption_lists_are_closed(jid: str) -> None:
    j = jurisdiction(jid)
    assert exemption(j, j.exemption_codes[0].code) == j.exemption_codes[0]
    with pytest.raises(ExportError) as excinfo:
        exemption(j, "(b)(6)")
    assert code_of(excinfo) == "unknown_exemption"


# --- US federal FOIA ---------------------------------------------------------------------------------


def test_federal_response_is_due_on_the_20th_working_day_skipping_thanksgiving() -> None:
    [clock] = deadlines(federal(), received=FEDERAL_RECEIVED)
    assert clock.due == date(2024, 12, 23)
    assert clock.basis == "20 working days from 2024-11-22"
    assert response_due(federal(), received=FEDERAL_RECEIVED) == date(2024, 12, 23)


def test_an_information_toll_adds_the_working_days_it_stood_still() -> None:
    # Mon 2024-12-02 to Mon 2024-12-09 stops five working days; from 12-23, +5 skips Christmas.
    toll = Toll(date(2024, 12, 2), date(2024, 12, 9), "information")
    [clock] = deadlines(federal(), received=FEDERAL_RECEIVED, tolls=[toll])
    assert clock.due == date(2024, 12, 31)
    assert "+5 working days tolled (information 2024-12-02 to 2024-12-09)" in clock.basis


def test_a_second_information_toll_is_refused_but_fee_tolls_are_not_limited() -> None:
    first = Toll(date(2024, 11, 25), date(2024, 11, 26), "information")
    second = Toll(date(2024, 12, 2), date(2024, 12, 3), "information")
    with pytest.raises(ExportError) as excinfo:
        response_due(federal(), received=FEDERAL_RECEIVED, tolls=[first, second])
    assert code_of(excinfo) == "toll_limit"
    assert "2024-12-02" in str(excinfo.value)
    fees = [Toll(date(2024, 12, 2), date(2024, 12, 3), "fee"), Toll(date(2024, 12, 4), date(2024, 12, 5), "fee")]
    # 1 (info) + 1 + 1 (fees) = 3 working days after 12-23, skipping Christmas: 12-24, 12-26, 12-27.
    assert response_due(federal(), received=FEDERAL_RECEIVED, tolls=[first, *fees]) == date(2024, 12, 27)


@pytest.mark.parametrize(("toll", "code"), [
    (Toll(date(2024, 11, 21), date(2024, 11, 25), "information"), "toll_before_receipt"),
    (Toll(date(2024, 11, 26), date(2024, 11, 25), "information"), "toll_end_before_start"),
    (Toll(date(2024, 11, 26), date(2024, 11, 27), "search"), "toll_not_allowed"),
    (Toll(date(2024, 12, 24), date(2024, 12, 30), "fee"), "toll_after_deadline"),
])
def test_impossible_tolls_are_refused(toll: Toll, code: str) -> None:
    with pytest.raises(ExportError) as excinfo:
        response_due(federal(), received=FEDERAL_RECEIVED, tolls=[toll])
    assert code_of(excinfo) == code


def test_overlapping_tolls_are_refused() -> None:
    tolls = [Toll(date(2024, 12, 2), date(2024, 12, 9), "information"), Toll(date(2024, 12, 5), None, "fee")]
    with pytest.raises(ExportError) as excinfo:
        response_due(federal(), received=FEDERAL_RECEIVED, tolls=tolls, today=date(2024, 12, 10))
    assert code_of(excinfo) == "tolls_overlap"


def test_an_open_toll_needs_today_and_is_counted_to_it_provisionally() -> None:
    toll = Toll(date(2024, 12, 2), None, "information")
    with pytest.raises(ExportError) as excinfo:
        deadlines(federal(), received=FEDERAL_RECEIVED, tolls=[toll])
    assert code_of(excinfo) == "today_required"
    [clock] = deadlines(federal(), received=FEDERAL_RECEIVED, tolls=[toll], today=date(2024, 12, 5))
    assert clock.due == date(2024, 12, 27)  # 3 days stood still: 12-24, 12-26, 12-27
    assert "to 2024-12-05, still open: provisional" in clock.basis


def test_federal_extension_of_ten_working_days_is_allowed() -> None:
    due = response_due(federal(), received=FEDERAL_RECEIVED, extension=Extension(10, "Unusual circumstances: "
                                                                                 "records at two field offices."))
    assert due == date(2025, 1, 8)  # skipping Christmas and New Year's Day


def test_federal_extension_over_ten_days_needs_the_requesters_agreement() -> None:
    with pytest.raises(ExportError) as excinfo:
        response_due(federal(), received=FEDERAL_RECEIVED, extension=Extension(11, "Voluminous records."))
    assert code_of(excinfo) == "extension_over_cap"
    assert "requester_agreed" in str(excinfo.value)
    agreed = Extension(11, "Alternative time frame agreed.", requester_agreed=True)
    assert response_due(federal(), received=FEDERAL_RECEIVED, extension=agreed) == date(2025, 1, 9)


@pytest.mark.parametrize("notice", ["", "   \n"])
def test_an_extension_without_written_notice_is_refused(notice: str) -> None:
    with pytest.raises(ExportError) as excinfo:
        response_due(federal(), received=FEDERAL_RECEIVED, extension=Extension(5, notice, requester_agreed=True))
    assert code_of(excinfo) == "notice_required"


@pytest.mark.parametrize("days", [0, -3])
def test_an_extension_of_no_or_negative_days_is_refused(days: int) -> None:
    with pytest.raises(ExportError) as excinfo:
        response_due(federal(), received=FEDERAL_RECEIVED, extension=Extension(days, "notice"))
    assert code_of(excinfo) == "invalid_days"


def test_expedited_request_gets_a_decision_clock_of_ten_calendar_days() -> None:
    clocks = {clock.id: clock for clock in deadlines(federal(), received=FEDERAL_RECEIVED, expedited=True)}
    assert clocks["expedite_decision"].due == date(2024, 12, 2)
    assert clocks["expedite_decision"].basis == "10 calendar days from 2024-11-22"
    assert clocks["response"].due == date(2024, 12, 23)


def test_federal_appeal_is_decided_within_20_working_days_of_its_receipt() -> None:
    clocks = deadlines(federal(), received=FEDERAL_RECEIVED, appeal_received=date(2025, 1, 13))
    assert [clock.id for clock in clocks] == ["response", "appeal"]
    assert clocks[1].due == date(2025, 2, 11)  # skipping MLK Day 2025-01-20


def test_an_appeal_before_the_request_is_refused() -> None:
    with pytest.raises(ExportError) as excinfo:
        deadlines(federal(), received=FEDERAL_RECEIVED, appeal_received=date(2024, 11, 1))
    assert code_of(excinfo) == "date_order"


# --- California CPRA ---------------------------------------------------------------------------------


def test_cpra_counts_ten_calendar_days_and_does_not_move_a_weekend_deadline() -> None:
    cpra = jurisdiction("us-ca-cpra")
    assert response_due(cpra, received=FEDERAL_RECEIVED) == date(2024, 12, 2)
    assert response_due(cpra, received=date(2024, 11, 20)) == date(2024, 11, 30)  # a Saturday, left there


def test_cpra_extension_is_at_most_14_calendar_days_even_with_agreement() -> None:
    cpra = jurisdiction("us-ca-cpra")
    assert response_due(cpra, received=FEDERAL_RECEIVED, extension=Extension(14, "Reasons.")) == date(2024, 12, 16)
    with pytest.raises(ExportError) as excinfo:
        response_due(cpra, received=FEDERAL_RECEIVED, extension=Extension(15, "Reasons.", requester_agreed=True))
    assert code_of(excinfo) == "extension_over_cap"
    assert "requester_agreed" not in str(excinfo.value)


def test_cpra_has_no_tolls_and_no_expedite_clock() -> None:
    cpra = jurisdiction("us-ca-cpra")
    with pytest.raises(ExportError) as excinfo:
        response_due(cpra, received=FEDERAL_RECEIVED, tolls=[Toll(date(2024, 11, 25), date(2024, 11, 26), "fee")])
    assert code_of(excinfo) == "toll_not_allowed"
    with pytest.raises(ExportError) as excinfo:
        deadlines(cpra, received=FEDERAL_RECEIVED, expedited=True)
    assert code_of(excinfo) == "not_applicable"


# --- New York FOIL -----------------------------------------------------------------------------------


def test_foil_five_business_days_skip_election_day_and_veterans_day() -> None:
    # Nov 4 = 1, Nov 5 Election Day, Nov 6-8 = 2-4, Nov 11 Veterans Day, Nov 12 = 5.
    assert response_due(jurisdiction("us-ny-foil"), received=date(2024, 11, 1)) == date(2024, 11, 12)


def test_foil_skips_lincolns_birthday_which_the_federal_calendar_counts() -> None:
    # Received Fri 2025-02-07: Feb 10, 11, (12 Lincoln's Birthday), 13, 14, (17 Washington's Birthday), 18.
    assert response_due(jurisdiction("us-ny-foil"), received=date(2025, 2, 7)) == date(2025, 2, 18)
    assert federal().calendar is not None and federal().calendar.is_working_day(date(2025, 2, 12))


# --- Indonesia, UU KIP -------------------------------------------------------------------------------


def test_kip_ten_working_days_skip_lebaran_2025_holidays_and_cuti_bersama() -> None:
    # From Wed 2025-03-26: 03-27 = 1; 03-28 cuti, 03-31 and 04-01 Idul Fitri, 04-02..04 and 04-07 cuti;
    # 04-08..11 = 2-5, 04-14..17 = 6-9, 04-18 Wafat Yesus Kristus, 04-21 = 10.
    [clock] = deadlines(kip(), received=date(2025, 3, 26))
    assert clock.due == date(2025, 4, 21)
    assert clock.label == "Pemberitahuan tertulis atas permintaan informasi"


def test_kip_extension_is_at_most_seven_working_days_with_a_written_reason() -> None:
    reason = Extension(7, "Informasi tersebar di beberapa unit kerja.")
    assert response_due(kip(), received=date(2025, 3, 26), extension=reason) == date(2025, 4, 30)
    with pytest.raises(ExportError) as excinfo:
        response_due(kip(), received=date(2025, 3, 26), extension=Extension(8, "Alasan."))
    assert code_of(excinfo) == "extension_over_cap"
    with pytest.raises(ExportError) as excinfo:
        response_due(kip(), received=date(2025, 3, 26), extension=Extension(3, ""))
    assert code_of(excinfo) == "notice_required"


def test_kip_objection_answer_in_30_and_komisi_informasi_in_14_working_days() -> None:
    clocks = deadlines(kip(), received=date(2025, 3, 26), objection_received=date(2025, 5, 2),
                       objection_answered=date(2025, 6, 20))
    due = {clock.id: clock.due for clock in clocks}
    # Objection skips Waisak 05-12, cuti 05-13, Kenaikan 05-29, cuti 05-30, Idul Adha 06-06, cuti 06-09.
    assert due["objection"] == date(2025, 6, 23)
    # Komisi Informasi skips Tahun Baru Islam 06-27.
    assert due["commission"] == date(2025, 7, 11)


def test_kip_refuses_an_answer_before_the_objection_and_a_federal_style_appeal() -> None:
    with pytest.raises(ExportError) as excinfo:
        deadlines(kip(), received=date(2025, 3, 26), objection_received=date(2025, 5, 2),
                  objection_answered=date(2025, 5, 1))
    assert code_of(excinfo) == "date_order"
    with pytest.raises(ExportError) as excinfo:
        deadlines(kip(), received=date(2025, 3, 26), appeal_received=date(2025, 5, 2))
    assert code_of(excinfo) == "not_applicable"


@pytest.mark.parametrize(("received", "year"), [(date(2026, 12, 20), 2027), (date(2023, 6, 1), 2023)])
def test_kip_refuses_a_year_without_a_calendar_file(received: date, year: int) -> None:
    with pytest.raises(ExportError) as excinfo:
        response_due(kip(), received=received)
    assert code_of(excinfo) == "calendar_missing"
    assert f"id-{year}.toml" in str(excinfo.value) and str(year) in str(excinfo.value)


def test_kip_counts_up_to_the_end_of_the_last_calendar_year() -> None:
    # From Fri 2026-12-11: 12-14..18 = 1-5, 12-21..23 = 6-8, 12-24 cuti, 12-25 Natal, 12-28 = 9, 12-29 = 10.
    assert response_due(kip(), received=date(2026, 12, 11)) == date(2026, 12, 29)


@pytest.mark.parametrize(("text", "problem"), [
    ("[jurisdiction]\nid = 'other'", "id must be 'broken'"),
    (_BROKEN_HEAD + "[[clock]]\nid='response'\nlabel='x'\ntrigger='received'\ndays=5\nunit='working'\nauthority='x'",
     "add a [calendar] table"),
    (_BROKEN_HEAD + "[[clock]]\nid='response'\nlabel='x'\ntrigger='sent'\ndays=5\nunit='working'\nauthority='x'",
     "trigger must be one of"),
    (_BROKEN_HEAD + "[[clock]]\nid='response'\nlabel='x'\ntrigger='received'\ndays=0\nunit='calendar'\nauthority='x'",
     "days must be a whole number"),
])
def test_a_broken_profile_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ExportError) as excinfo:
        _load("broken", text)
    assert code_of(excinfo) == "profile_invalid"
    assert problem in str(excinfo.value) and "broken.toml" in str(excinfo.value)
