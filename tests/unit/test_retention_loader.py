"""Schedule files: every bad input is refused with a stable code and a message naming file, item and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.loader import builtin_schedule_dir, builtin_schedules, load_schedules
from retention_policies.model import Action, CommentScope, CutoffKind, Framework
from retention_policies.period import Period
from tests.unit.test_retention_helpers import MINIMAL_ITEM, write_schedule

SHIPPED = ("nara-grs", "state-sample", "jra-example")


def item(**fields: str) -> str:
    """A minimal valid item with some lines replaced (value None-like "" removes the line)."""
    lines = dict(line.split(" = ", 1) for line in MINIMAL_ITEM.splitlines()[1:])
    lines.update(fields)
    return "[[item]]\n" + "".join(f"{key} = {value}\n" for key, value in lines.items() if value)


BAD_ITEMS = [
    # (id, item text, code, field named in the message)
    ("typo", item(retension='"P1Y"'), ErrorCode.UNKNOWN_FIELD, "field retension"),
    ("missing title", item(title=""), ErrorCode.MISSING_FIELD, "field title"),
    ("missing retention", item(retention=""), ErrorCode.MISSING_FIELD, "field retention"),
    ("missing action", item(action=""), ErrorCode.MISSING_FIELD, "field action"),
    ("empty authority", item(authority='"  "'), ErrorCode.BAD_VALUE, "field authority"),
    ("words duration", item(retention='"3 years"'), ErrorCode.BAD_DURATION, "field retention"),
    ("time duration", item(retention='"PT12H"'), ErrorCode.BAD_DURATION, "field retention"),
    ("fractional duration", item(retention='"P1.5Y"'), ErrorCode.BAD_DURATION, "field retention"),
    ("negative duration", item(retention='"-P1Y"'), ErrorCode.BAD_DURATION, "field retention"),
    ("bad inactive", item(inactive='"P"'), ErrorCode.BAD_DURATION, "field inactive"),
    ("number duration", item(retention="3"), ErrorCode.BAD_TYPE, "field retention"),
    ("bad action", item(action='"shred"'), ErrorCode.BAD_VALUE, "field action"),
    ("bad cutoff", item(cutoff='"monthly"'), ErrorCode.BAD_VALUE, "field cutoff"),
    ("bad age_from", item(age_from='"created"'), ErrorCode.BAD_VALUE, "field age_from"),
    ("bad comments", item(kinds='["comment"]', comments='"ignored"'), ErrorCode.BAD_VALUE, "field comments"),
    ("fiscal month 13", item(cutoff='"fiscal_year"', fiscal_year_start_month="13"), ErrorCode.BAD_VALUE,
     "field fiscal_year_start_month"),
    ("fiscal month 0", item(cutoff='"fiscal_year"', fiscal_year_start_month="0"), ErrorCode.BAD_VALUE,
     "field fiscal_year_start_month"),
    ("fiscal month text", item(cutoff='"fiscal_year"', fiscal_year_start_month='"10"'), ErrorCode.BAD_TYPE,
     "field fiscal_year_start_month"),
    ("fiscal month without fiscal cutoff", item(cutoff='"calendar_year"', fiscal_year_start_month="7"),
     ErrorCode.BAD_VALUE, "field fiscal_year_start_month"),
    ("event cutoff without event", item(cutoff='"event"'), ErrorCode.MISSING_FIELD, "field cutoff_event"),
    ("event name without event cutoff", item(cutoff_event='"final_action"'), ErrorCode.BAD_VALUE,
     "field cutoff_event"),
    ("unknown kind", item(kinds='["comments"]'), ErrorCode.BAD_VALUE, "field kinds"),
    ("kinds not a list", item(kinds='"post"'), ErrorCode.BAD_TYPE, "field kinds"),
    ("platforms with a number", item(platforms='["x", 3]'), ErrorCode.BAD_TYPE, "field platforms"),
    ("comment scope on posts only", item(kinds='["post"]', comments='"no_action"'), ErrorCode.BAD_VALUE,
     "field comments"),
    ("tag both required and excluded", item(account_tags='["a"]', excluded_account_tags='["a"]'),
     ErrorCode.BAD_VALUE, "field excluded_account_tags"),
    ("vital as text", item(vital='"yes"'), ErrorCode.BAD_TYPE, "field vital"),
    ("bad code", item(code='"6.4 020"'), ErrorCode.BAD_VALUE, "field code"),
]


@pytest.mark.parametrize(("text", "code", "field"), [case[1:] for case in BAD_ITEMS], ids=[c[0] for c in BAD_ITEMS])
def test_a_bad_item_is_refused_naming_file_item_and_field(tmp_path: Path, text: str, code: str, field: str) -> None:
    path = write_schedule(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        load_schedules([path])
    message = str(raised.value)
    assert raised.value.code == code, message
    assert message.startswith(f"{path}: item "), message
    assert f": {field}: " in message, message
    assert "\n" not in message and "; " in message, "one line that says what to do"


BAD_FILES = [
    ("not toml", 'this is = = not toml', ErrorCode.BAD_TOML, "not valid TOML"),
    ("unknown top-level table", MINIMAL_ITEM + "[extras]\nx = 1\n", ErrorCode.UNKNOWN_FIELD, "field extras"),
    ("no items", "", ErrorCode.MISSING_FIELD, "field item"),
    ("single brackets", MINIMAL_ITEM.replace("[[item]]", "[item]"), ErrorCode.BAD_TYPE, "double brackets"),
    ("duplicate code", MINIMAL_ITEM + MINIMAL_ITEM, ErrorCode.DUPLICATE_ID, "field code"),
]


@pytest.mark.parametrize(("text", "code", "fragment"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_bad_file_is_refused_naming_the_file(tmp_path: Path, text: str, code: str, fragment: str) -> None:
    path = write_schedule(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        load_schedules([path])
    assert raised.value.code == code, str(raised.value)
    assert str(raised.value).startswith(str(path)) and fragment in str(raised.value)


@pytest.mark.parametrize(("header", "code", "field"), [
    ('title = "t"\nframework = "nara"\n', ErrorCode.MISSING_FIELD, "field id"),
    ('id = "Bad Id"\ntitle = "t"\nframework = "nara"\n', ErrorCode.BAD_VALUE, "field id"),
    ('id = "s"\ntitle = "t"\nframework = "eu"\n', ErrorCode.BAD_VALUE, "field framework"),
    ('id = "s"\ntitle = "t"\nframework = "nara"\nowner = "me"\n', ErrorCode.UNKNOWN_FIELD, "field owner"),
])
def test_a_bad_schedule_header_is_refused(tmp_path: Path, header: str, code: str, field: str) -> None:
    path = tmp_path / "plan.toml"
    path.write_text("[schedule]\n" + header + "\n" + MINIMAL_ITEM, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_schedules([path])
    assert raised.value.code == code
    assert str(raised.value).startswith(f"{path}: schedule: {field}: ")


def test_an_item_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('item = ["x"]\n[schedule]\nid = "s"\ntitle = "t"\nframework = "agency"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_schedules([path])
    assert raised.value.code == ErrorCode.BAD_TYPE and str(raised.value).startswith(f"{path}: item #1: ")


def test_a_file_without_schedule_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(MINIMAL_ITEM, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_schedules([path])
    assert raised.value.code == ErrorCode.MISSING_FIELD and "field schedule" in str(raised.value)


def test_an_unknown_field_suggests_the_intended_one(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="did you mean retention"):
        load_schedules([write_schedule(tmp_path, item(retension='"P1Y"'))])


@pytest.mark.parametrize(("text", "code", "field"), [
    (item(action='"destroy"', keterangan='"musnah"', security_class='"Biasa/Terbuka"'), ErrorCode.UNKNOWN_FIELD,
     "field action"),
    (item(action="", keterangan='"hapus"', security_class='"Biasa/Terbuka"'), ErrorCode.BAD_VALUE,
     "field keterangan"),
    (item(action="", keterangan='"musnah"'), ErrorCode.MISSING_FIELD, "field security_class"),
])
def test_a_jra_file_speaks_keterangan_and_needs_a_security_class(tmp_path: Path, text: str, code: str,
                                                                 field: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_schedules([write_schedule(tmp_path, text, framework="jra")])
    assert raised.value.code == code and f": {field}: " in str(raised.value), str(raised.value)


def test_jra_keterangan_maps_to_actions(tmp_path: Path) -> None:
    body = "".join(item(code=f'"K-{n}"', action="", keterangan=f'"{word}"', security_class='"Terbatas"',
                        record_ids=f'["r{n}"]')
                   for n, word in enumerate(["musnah", "permanen", "dinilai kembali"]))
    loaded = load_schedules([write_schedule(tmp_path, body, framework="jra")])
    assert [i.action for i in loaded.items] == [Action.DESTROY, Action.ACCESSION, Action.REVIEW]
    assert {i.framework for i in loaded.items} == {Framework.JRA}


def test_the_same_item_id_in_two_files_is_refused_naming_both(tmp_path: Path) -> None:
    first = write_schedule(tmp_path, item(platforms='["x"]'), name="a.toml")
    second = write_schedule(tmp_path, item(platforms='["bluesky"]'), name="b.toml")
    with pytest.raises(PolicyError) as raised:
        load_schedules([first, second])
    assert raised.value.code == ErrorCode.DUPLICATE_ID
    assert str(raised.value).startswith(f"{second}: item A-1: field code:") and str(first) in str(raised.value)


@pytest.mark.parametrize("paths", [[], [Path("/nonexistent/plan.toml")]])
def test_missing_files_are_refused(paths: list[Path]) -> None:
    with pytest.raises(PolicyError) as raised:
        load_schedules(paths)
    assert raised.value.code == ErrorCode.UNREADABLE_FILE


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no .toml") as raised:
        load_schedules([tmp_path])
    assert raised.value.code == ErrorCode.UNREADABLE_FILE


def test_a_directory_loads_every_toml_file_in_it(tmp_path: Path) -> None:
    write_schedule(tmp_path, item(platforms='["x"]'), name="a.toml", schedule_id="a")
    write_schedule(tmp_path, item(platforms='["bluesky"]'), name="b.toml", schedule_id="b")
    (tmp_path / "notes.txt").write_text("not a schedule", encoding="utf-8")
    assert [i.id for i in load_schedules([tmp_path]).items] == ["a/A-1", "b/A-1"]


def test_an_item_reads_every_field(tmp_path: Path) -> None:
    text = item(inactive='"P1Y6M"', cutoff='"fiscal_year"', fiscal_year_start_month="7", age_from='"captured"',
                security_class='"internal"', vital="true", platforms='["x"]', account_tags='["press"]',
                excluded_account_tags='["transitory"]', kinds='["comment", "reply"]', comments='"acted_on"',
                record_ids='["r1"]')
    loaded = load_schedules([write_schedule(tmp_path, text, schedule_id="agency-plan")]).item("agency-plan/A-1")
    assert (loaded.retention, loaded.inactive) == (Period(years=1), Period(years=1, months=6))
    assert (loaded.cutoff.kind, loaded.cutoff.fiscal_year_start_month) == (CutoffKind.FISCAL_YEAR, 7)
    assert (loaded.age_from, loaded.security_class, loaded.vital) == ("captured", "internal", True)
    scope = loaded.applies_to
    assert (scope.platforms, scope.account_tags, scope.excluded_account_tags) == ({"x"}, {"press"}, {"transitory"})
    assert (scope.kinds, scope.comments, scope.record_ids) == ({"comment", "reply"}, CommentScope.ACTED_ON, {"r1"})


# -- shipped sets and fingerprints -------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_set_loads(name: str) -> None:
    loaded = builtin_schedules([name])
    assert loaded.items and all(i.id.startswith(f"{name}/") for i in loaded.items)
    assert len(loaded.fingerprint) == 64


def test_the_shipped_directory_holds_exactly_the_documented_sets() -> None:
    assert sorted(p.stem for p in builtin_schedule_dir().glob("*.toml")) == sorted(SHIPPED)


def test_an_unknown_shipped_set_is_refused() -> None:
    with pytest.raises(PolicyError, match="nara-grs") as raised:
        builtin_schedules(["nara"])
    assert raised.value.code == ErrorCode.UNREADABLE_FILE


def test_nara_items_cite_their_disposition_authorities() -> None:
    authorities = {i.code: i.authority for i in builtin_schedules(["nara-grs"]).items}
    assert "DAA-GRS-2016-0005-0001" in authorities["6.4-010"]
    assert "DAA-GRS-2016-0005-0002" in authorities["6.4-020"]
    assert "DAA-GRS-2022-0009-0001" in authorities["5.2-010"]
    assert "DAA-GRS-2016-0002-0001" in authorities["4.2-020"]


def test_the_fingerprint_ignores_formatting_and_file_order(tmp_path: Path) -> None:
    one = write_schedule(tmp_path, item(platforms='["x"]'), name="a.toml", schedule_id="a")
    two = write_schedule(tmp_path, item(platforms='["bluesky"]'), name="b.toml", schedule_id="b")
    before = load_schedules([one, two]).fingerprint
    text = one.read_text(encoding="utf-8")
    one.write_text("# a comment\n" + text.replace(" = ", "   =   "), encoding="utf-8")
    assert load_schedules([two, one]).fingerprint == before


def test_the_fingerprint_changes_when_a_rule_changes(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, item())
    before = load_schedules([path]).fingerprint
    path.write_text(path.read_text(encoding="utf-8").replace('"P1Y"', '"P2Y"'), encoding="utf-8")
    assert load_schedules([path]).fingerprint != before
