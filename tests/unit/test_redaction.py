"""Redaction: suggestions find personal data, burning removes it everywhere and leaves a coded marker."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from export.errors import ExportError
from export.redaction import graphemes
from export.redaction.burn import (
    REDACTED_SCHEMA,
    WITHHELD_SCHEMA,
    assert_absent,
    burn,
    redacted_document,
    withheld_document,
)
from export.redaction.model import OriginalRef, Redaction
from export.redaction.suggest import SuggestionKind, plausible_nik, suggest

AT = "2025-03-01T12:00:00Z"
ORIGINAL = OriginalRef(record_id="a" * 20, version=2, content_sha256="c" * 64, envelope_sha256="e" * 64)
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man ZWJ woman ZWJ girl ZWJ boy


def red(start: int, end: int, code: str = "(b)(6)", field: str = "text", reason: str = "private email") -> Redaction:
    return Redaction(field=field, start=start, end=end, code=code, reason=reason, reviewer="pat", decided_at=AT)


def span_of(text: str, part: str, field: str = "text", code: str = "(b)(6)") -> Redaction:
    start = text.index(part)
    return red(start, start + len(part), code=code, field=field)


def found(text: str, **kwargs: Any) -> list[tuple[SuggestionKind, str]]:
    return [(s.kind, text[s.start:s.end]) for s in suggest(text, **kwargs)]


@pytest.fixture(params=["active", "fallback"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with the regex module's \\X (when installed) and with the unicodedata fallback."""
    if request.param == "fallback":
        monkeypatch.setattr(graphemes, "_CLUSTER", None)
    yield request.param


# --- suggestions -------------------------------------------------------------------------------------------


def test_email_offsets_are_code_points_after_astral_emoji() -> None:
    text = "\U0001f600\U0001f600 tulis ke budi.santoso@contoh.go.id \U0001f64f"
    [suggestion] = suggest(text)
    assert suggestion.kind is SuggestionKind.EMAIL
    assert (suggestion.start, suggestion.end) == (text.index("budi"), text.index(" \U0001f64f"))
    assert suggestion.text_preview == "budi.santoso@contoh.go.id"


@pytest.mark.parametrize("text, email", [
    ("\u0627\u062a\u0635\u0644 john@x.com \u0645\u0631\u062d\u0628\u0627", "john@x.com"),  # RTL around
    ("\u0645\u0631\u062d\u0628\u0627john@x.com\u200f", "john@x.com"),  # glued to Arabic, then an RLM
    ("https://example.org/?u=john@x.com&a=1", "john@x.com"),
    ("(mail: a.b-c+tag@sub.example.co.id).", "a.b-c+tag@sub.example.co.id"),
])
def test_email_is_found_among_rtl_text_and_urls(text: str, email: str) -> None:
    assert found(text) == [(SuggestionKind.EMAIL, email)]


@pytest.mark.parametrize("text", ["user@localhost", "an @ sign", "john@x.c", "follow @warga@social.example"])
def test_things_that_are_not_email_addresses(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize("phone", [
    "+62 812-3456-7890", "+62812345678", "0812-3456-7890", "081234567890", "0812 3456 7890", "(021) 555-1234",
    "+1 (555) 123-4567", "+1 555 123 4567", "(555) 123-4567", "555-123-4567", "555.123.4567",
])
def test_phone_forms_are_found(phone: str) -> None:
    text = f"\U0001f4de hubungi {phone} \u05e9\u05dc\u05d5\u05dd"
    [suggestion] = suggest(text)
    assert suggestion.kind is SuggestionKind.PHONE
    assert text[suggestion.start:suggestion.end] == phone


def test_whatsapp_link_number_is_found_but_a_status_id_in_a_url_is_not() -> None:
    text = "https://x.com/dinas/status/1234567890123456789 dan https://wa.me/6281234567890"
    assert found(text) == [(SuggestionKind.PHONE, "6281234567890")]


@pytest.mark.parametrize("text", [
    "2024-01-10", "10/01/2024", "in 2024 and 2025", "12345678", "v1.2.3", "Rp 1.250.000", "0812-345",
    "192.168.100.1", "ISBN 978-602-1234-56-7", "at 10:30:45", "call 555-1234",
])
def test_dates_years_and_short_numbers_are_not_phones(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize("nik", ["3174052107950003", "3174054107950003", "1101017112000001", "9601011201990001"])
def test_plausible_nik_is_found_including_womens_day_plus_40(nik: str) -> None:
    assert found(f"NIK: {nik}.") == [(SuggestionKind.NIK, nik)]


@pytest.mark.parametrize("digits", [
    "4111111111111111",  # a test card number: province 41 does not exist
    "5500005555555559", "3174053207950003",  # day 32
    "3174057207950003",  # day 72 (women's days stop at 71)
    "3174054113950003",  # month 13
    "9974054107950003",  # province 99
    "3100054107950003",  # regency 00
    "3174054107950000",  # serial 0000
])
def test_sixteen_digits_without_nik_structure_are_refused(digits: str) -> None:
    assert not plausible_nik(digits)
    assert found(f"no {digits} here") == []


def test_nik_inside_a_longer_digit_run_is_not_a_nik() -> None:
    assert found("31740521079500031") == []


@pytest.mark.parametrize("address", [
    "123 Main Street", "42 Elm St", "7 Sunset Blvd", "1600 Pennsylvania Ave", "9 Old Mill Road", "12B Park Lane",
    "Jl. Merdeka Barat No. 12", "Jalan Sudirman No 5A", "jl. kenanga no.7 RT 02/RW 05", "Gg. Mawar III No. 3",
    "Gang Buntu RT.002/RW.005",
])
def test_street_addresses_are_found(address: str) -> None:
    assert found(f"tinggal di {address}, ok") == [(SuggestionKind.STREET_ADDRESS, address)]


@pytest.mark.parametrize("text", [
    "saya jalan ke pasar", "Jalan Sudirman macet pagi ini", "we walked 5 miles down the street",
    "the 3 of us met Dr Smith", "Stanford 12 Main Stanford",
])
def test_street_words_without_a_house_number_are_not_addresses(text: str) -> None:
    assert [kind for kind, _ in found(text)] == []


def test_flagged_minor_names_match_whole_words_case_insensitively() -> None:
    text = "BUDI dan budiman bertemu Siti  Aminah; \U0001f467budi\U0001f467"
    assert found(text, flagged_minor_names=["Budi", "siti aminah", "  "]) == [
        (SuggestionKind.MINOR_NAME, "BUDI"), (SuggestionKind.MINOR_NAME, "Siti  Aminah"),
        (SuggestionKind.MINOR_NAME, "budi")]


def test_overlapping_suggestions_keep_the_longest_and_come_sorted() -> None:
    text = "budi@sekolah.sch.id lalu 0812-3456-7890 dan Budi"
    assert found(text, flagged_minor_names=["Budi"]) == [
        (SuggestionKind.EMAIL, "budi@sekolah.sch.id"), (SuggestionKind.PHONE, "0812-3456-7890"),
        (SuggestionKind.MINOR_NAME, "Budi")]


def test_a_suggestion_is_only_a_proposal_until_a_reviewer_accepts_it() -> None:
    text = "email a.b@x.com"
    [suggestion] = suggest(text, jurisdiction="kip")
    assert suggestion.default_code_hint == "17(h)"
    redaction = suggestion.accept(reason="data pribadi", reviewer="ppid", decided_at=AT)
    assert (redaction.start, redaction.end, redaction.code, redaction.field) == (6, 15, "17(h)", "text")
    assert suggest(text)[0].default_code_hint == "(b)(6)"


# --- burning one text ---------------------------------------------------------------------------------------


def test_burn_replaces_the_span_with_its_code_at_the_place_of_deletion() -> None:
    text = "Call me at john@x.com now"
    result = burn(text, [span_of(text, "john@x.com")])
    assert result.text == "Call me at [REDACTED (b)(6)] now"
    [marker] = result.markers
    assert result.text[marker.start:marker.end] == "[REDACTED (b)(6)]"
    assert (marker.code, marker.chars_removed, marker.source_start) == ("(b)(6)", 10, 11)


def test_burn_offsets_count_astral_characters_as_one() -> None:
    text = "\U0001f600\U0001f600 a@b.co \U0001f600"
    result = burn(text, [red(3, 9)])
    assert result.text == "\U0001f600\U0001f600 [REDACTED (b)(6)] \U0001f600"
    assert result.markers[0].start == 3


def test_overlapping_and_adjacent_spans_with_one_code_become_one_marker() -> None:
    text = "0123456789abcdef"
    result = burn(text, [red(2, 5), red(4, 8), red(8, 10), red(12, 14)])
    assert result.text == "01[REDACTED (b)(6)]ab[REDACTED (b)(6)]ef"
    assert [(m.source_start, m.source_end, len(m.decisions)) for m in result.markers] == [(2, 10, 3), (12, 14, 1)]


def test_adjacent_spans_with_different_codes_keep_their_own_markers() -> None:
    result = burn("abcdefgh", [red(0, 3), red(3, 6, code="(b)(7)(C)")])
    assert result.text == "[REDACTED (b)(6)][REDACTED (b)(7)(C)]gh"
    assert [m.code for m in result.markers] == ["(b)(6)", "(b)(7)(C)"]


def test_overlapping_spans_with_different_codes_are_refused_naming_both() -> None:
    with pytest.raises(ExportError) as caught:
        burn("abcdefgh", [red(0, 4), red(3, 6, code="(b)(7)(C)")])
    assert caught.value.code == "redaction_overlap"
    assert "(b)(6) at text[0:4]" in str(caught.value) and "(b)(7)(C) at text[3:6]" in str(caught.value)


@pytest.mark.parametrize("start, end", [(0, 0), (5, 2), (-1, 3)])
def test_empty_inverted_or_negative_spans_are_refused(start: int, end: int) -> None:
    with pytest.raises(ExportError) as caught:
        red(start, end)
    assert caught.value.code == "redaction_span"


def test_a_span_past_the_end_of_the_text_is_refused() -> None:
    with pytest.raises(ExportError) as caught:
        burn("short", [red(2, 6)])
    assert caught.value.code == "redaction_span"


@pytest.mark.parametrize("change, code", [
    ({"reason": "  "}, "redaction_incomplete"), ({"reviewer": ""}, "redaction_incomplete"),
    ({"decided_at": "2025-03-01 12:00"}, "redaction_incomplete"), ({"decided_at": "yesterday"}, "redaction_incomplete"),
    ({"code": ""}, "redaction_code"), ({"code": "(b)(6)] [x"}, "redaction_code"), ({"field": ""}, "redaction_field"),
])
def test_a_decision_without_code_reason_reviewer_or_time_is_refused(change: dict[str, str], code: str) -> None:
    fields = {"field": "text", "start": 0, "end": 1, "code": "(b)(6)", "reason": "r", "reviewer": "pat",
              "decided_at": AT} | change
    with pytest.raises(ExportError) as caught:
        Redaction(**fields)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_burn_takes_the_redactions_of_one_field_only() -> None:
    with pytest.raises(ExportError) as caught:
        burn("abcdef", [red(0, 2), red(3, 4, field="author")])
    assert caught.value.code == "redaction_field"


@pytest.mark.parametrize("text, start, end, gone", [
    (f"hi {FAMILY}!", 5, 6, FAMILY),                        # half a ZWJ family
    ("caf" + "e\u0301" + " ok", 3, 4, "e\u0301"),             # the letter without its combining accent
    ("caf" + "e\u0301" + " ok", 4, 5, "e\u0301"),             # the accent without its letter
    ("\U0001f1ee\U0001f1e9\U0001f1fa\U0001f1f8", 1, 2, "\U0001f1ee\U0001f1e9"),  # half a flag
    ("wave \U0001f44b\U0001f3fd!", 5, 6, "\U0001f44b\U0001f3fd"),  # emoji without its skin tone
    ("1\ufe0f\u20e3 two", 0, 1, "1\ufe0f\u20e3"),            # keycap
    ("\u1100\u1161\u11a8x", 1, 2, "\u1100\u1161\u11a8"),     # conjoining Hangul jamo
])
def test_spans_widen_to_whole_grapheme_clusters(engine: str, text: str, start: int, end: int, gone: str) -> None:
    result = burn(text, [red(start, end)])
    [marker] = result.markers
    assert text[marker.source_start:marker.source_end] == gone
    assert result.text == text.replace(gone, "[REDACTED (b)(6)]", 1)


def test_fallback_clusters_agree_with_regex_on_social_media_text() -> None:
    if graphemes._CLUSTER is None:
        pytest.skip("the regex module is not installed")
    sample = (f"Hi {FAMILY} caf\u0065\u0301 \U0001f1ee\U0001f1e9\U0001f1fa\U0001f1f8 \U0001f44b\U0001f3fd 1\ufe0f\u20e3"
              "\r\n\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627 \u1100\u1161\u11a8 \uac00\u11a8 "
              "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f \u200f\u202e x\u0308\u0301")
    assert graphemes.fallback_boundaries(sample) == graphemes.boundaries(sample)


def test_spans_touching_one_grapheme_with_different_codes_overlap_after_widening() -> None:
    text = "ab" + "e\u0301" + "cd"
    with pytest.raises(ExportError) as caught:
        burn(text, [red(0, 3), red(3, 6, code="(b)(7)(C)")])
    assert caught.value.code == "redaction_overlap"


# --- properties of burn ----------------------------------------------------------------------------------------

# No combining marks, ZWJ or regional indicators: every index is a grapheme boundary, so the model below can
# compute the expected output without knowing UAX #29. Marker characters are in the alphabet on purpose.
SIMPLE = st.text(st.sampled_from("abcRED[]() \u00e9\u0645\u05e9\U0001f600\U0001f4a9"), min_size=1, max_size=40)
CODES = ["(b)(6)", "(b)(7)(C)"]


@st.composite
def redacted_texts(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    """A text cut at random points, with random pieces redacted under random codes (adjacent pieces too)."""
    text = draw(SIMPLE)
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), min_size=2)))
    spans = [(a, b, draw(st.sampled_from(CODES))) for a, b in zip(cuts, cuts[1:], strict=False)
             if draw(st.booleans())]
    return text, spans


@settings(max_examples=300, deadline=None)
@given(redacted_texts())
def test_no_redacted_text_survives_except_what_the_remainder_also_says(case: tuple[str, list]) -> None:
    text, spans = case
    result = burn(text, [red(a, b, code=code) for a, b, code in spans])

    # The model: adjacent pieces with one code are one deletion; each deletion leaves exactly one marker.
    deletions: list[list[Any]] = []
    for a, b, code in spans:
        if deletions and deletions[-1][1] == a and deletions[-1][2] == code:
            deletions[-1][1] = b
        else:
            deletions.append([a, b, code])
    assert [(m.source_start, m.source_end, m.code) for m in result.markers] == [tuple(d) for d in deletions]
    for m in result.markers:
        assert result.text[m.start:m.end] == f"[REDACTED {m.code}]"

    # Blank each marker to one character the alphabet lacks, so marker text ("RED", "[") cannot count as
    # surviving text, nor join kept text on either side into something that was redacted.
    blanked, position = [], 0
    for m in result.markers:
        blanked.append(result.text[position:m.start] + "\x00")
        position = m.end
    blanked.append(result.text[position:])
    output = "".join(blanked)
    remainder, position = [], 0
    for a, b, _ in deletions:
        remainder.append(text[position:a] + "\x00")
        position = b
    remainder.append(text[position:])
    assert output == "".join(remainder)
    # A redacted substring may still be read in the output only where the unredacted remainder says it too.
    for a, b, _ in deletions:
        for i in range(a, b - 2):
            window = text[i:i + 3]
            assert window not in output or window in "".join(remainder)


@pytest.mark.parametrize("fallback", [False, True])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_text_burns_whole_clusters_and_puts_back_together(fallback: bool, data: st.DataObject) -> None:
    text = data.draw(st.text(min_size=1, max_size=40))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text))), max_size=5))
    spans = [(min(p), max(p)) for p in pairs if p[0] != p[1]]
    with pytest.MonkeyPatch.context() as patch:
        if fallback:
            patch.setattr(graphemes, "_CLUSTER", None)
        result = burn(text, [red(a, b) for a, b in spans])
        bounds = set(graphemes.boundaries(text))
    covered = set().union(*(range(m.source_start, m.source_end) for m in result.markers))
    assert all(set(range(a, b)) <= covered for a, b in spans)
    assert all(m.source_start in bounds and m.source_end in bounds for m in result.markers)
    restored, position = [], 0
    for m in result.markers:
        restored.append(result.text[position:m.start] + text[m.source_start:m.source_end])
        position = m.end
    assert "".join(restored) + result.text[position:] == text


# --- redacted documents -----------------------------------------------------------------------------------------


def version_document() -> dict[str, Any]:
    return {
        "schema": "arsip.version/1",
        "record": {"id": "a" * 20, "platform": "mastodon", "platform_id": "1100", "account": "acct-1",
                   "kind": "comment", "url": "https://social.example/@warga/1100", "posted_at": AT},
        "version": {"number": 2, "state": "present", "change": "edited", "captured_at": AT},
        "author": "Warga O'Brien",
        "lang": "id",
        "text": "Tolong hubungi saya di siti@contoh.id atau 0812-3456-7890 \U0001f64f",
        "media": ["https://files.example/a.png?owner=siti%40contoh.id"],
        "content": {"html": "<p>Tolong hubungi <a href=\"mailto:siti@contoh.id\">siti@contoh.id</a></p>",
                    "spoiler_text": "kontak O&#x27;Brien \u2014 Warga O'Brien", "poll": None, "sensitive": False,
                    "reply_count": 3},
        "fingerprint": "f" * 64,
    }


def string_values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from string_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_values(item)
    elif isinstance(value, str):
        yield value


def by_field(*redactions: Redaction) -> dict[str, list[Redaction]]:
    grouped: dict[str, list[Redaction]] = {}
    for r in redactions:
        grouped.setdefault(r.field, []).append(r)
    return grouped


def test_redacted_copy_burns_the_field_and_leaves_the_original_alone() -> None:
    document = version_document()
    before = copy.deepcopy(document)
    result = redacted_document(document, by_field(span_of(document["text"], "0812-3456-7890")), original=ORIGINAL)
    assert document == before
    assert result["text"] == "Tolong hubungi saya di siti@contoh.id atau [REDACTED (b)(6)] \U0001f64f"
    assert result["schema"] == REDACTED_SCHEMA
    assert result["derived_from"] == {"record_id": "a" * 20, "version": 2, "content_sha256": "c" * 64,
                                      "envelope_sha256": "e" * 64}
    [entry] = result["redactions"]
    start = result["text"].index("[REDACTED")
    assert entry == {"field": "text", "code": "(b)(6)", "output_start": start, "output_end": start + 17,
                     "chars_removed": 14, "reason": "private email", "reviewer": "pat", "decided_at": AT,
                     "propagated": False}


def test_a_redacted_value_is_burned_everywhere_it_recurs_in_the_document() -> None:
    document = version_document()
    email = "siti@contoh.id"
    result = redacted_document(document, by_field(span_of(document["text"], email)), original=ORIGINAL)
    assert_absent([json.dumps(result), json.dumps(result, ensure_ascii=False)], [email, "siti%40contoh.id"])
    assert result["content"]["html"] == ('<p>Tolong hubungi <a href="mailto:[REDACTED (b)(6)]">'
                                         "[REDACTED (b)(6)]</a></p>")
    assert result["media"] == ["https://files.example/a.png?owner=[REDACTED (b)(6)]"]
    log = {(e["field"], e["output_start"]): e for e in result["redactions"]}
    assert [e["field"] for e in result["redactions"]] == ["text", "media.0", "content.html", "content.html"]
    propagated = log[("content.html", result["content"]["html"].index("["))]
    assert propagated["propagated"] is True and propagated["source_field"] == "text"
    assert propagated["code"] == "(b)(6)" and propagated["reason"] == "private email"
    assert log[("text", result["text"].index("["))]["propagated"] is False


def test_html_escaped_recurrences_are_burned_too() -> None:
    document = version_document()
    result = redacted_document(document, by_field(span_of(document["author"], "O'Brien", field="author")),
                               original=ORIGINAL)
    assert result["author"] == "Warga [REDACTED (b)(6)]"
    assert result["content"]["spoiler_text"] == "kontak [REDACTED (b)(6)] \u2014 Warga [REDACTED (b)(6)]"


def test_nested_fields_are_addressed_with_dots_and_list_items_by_index() -> None:
    document = version_document()
    spoiler, media = document["content"]["spoiler_text"], document["media"][0]
    result = redacted_document(document, {
        "content.spoiler_text": [span_of(spoiler, "kontak", "content.spoiler_text")],
        "record.url": [red(8, 22, field="record.url")],
        "media.0": [span_of(media, "files.example", "media.0")],
    }, original=ORIGINAL)
    assert result["content"]["spoiler_text"] == "[REDACTED (b)(6)] O&#x27;Brien \u2014 Warga O'Brien"
    assert result["record"]["url"] == "https://[REDACTED (b)(6)]/@warga/1100"
    assert result["media"][0] == "https://[REDACTED (b)(6)]/a.png?owner=siti%40contoh.id"
    assert {e["field"] for e in result["redactions"]} == {"content.spoiler_text", "record.url", "media.0"}


def test_a_number_containing_a_redacted_value_becomes_burned_text() -> None:
    document = version_document() | {"text": "my id 5551234567", "context": {"caller": 5551234567}}
    result = redacted_document(document, by_field(red(6, 16)), original=ORIGINAL)
    assert result["context"]["caller"] == "[REDACTED (b)(6)]"
    assert result["content"]["reply_count"] == 3 and result["content"]["sensitive"] is False


def test_a_recurrence_inside_text_burned_under_another_code_is_not_a_conflict() -> None:
    document = version_document() | {"author": "siti"}
    text = document["text"]
    result = redacted_document(document, by_field(span_of(text, "siti@contoh.id", code="(b)(7)(C)"),
                                                  red(0, 4, field="author")), original=ORIGINAL)
    assert result["author"] == "[REDACTED (b)(6)]"
    assert result["text"].startswith("Tolong hubungi saya di [REDACTED (b)(7)(C)] atau")
    # Values only: the key "sensitive" contains "siti" and keys are structure, never burned.
    assert not [value for value in string_values(result) if "siti" in value]


def test_the_log_never_holds_the_redacted_text_and_can_hide_the_amount() -> None:
    document = version_document()
    redactions = by_field(span_of(document["text"], "0812-3456-7890"))
    result = redacted_document(document, redactions, original=ORIGINAL, show_amount=False)
    assert "chars_removed" not in result["redactions"][0]
    assert_absent([json.dumps(result["redactions"])], ["0812-3456-7890"])


def test_merged_decisions_are_all_kept_in_the_log() -> None:
    document = version_document() | {"text": "abcdefghij"}
    second = Redaction(field="text", start=3, end=6, code="(b)(6)", reason="home town", reviewer="lee",
                       decided_at="2025-03-02T09:00:00Z")
    result = redacted_document(document, {"text": [red(0, 4), second]}, original=ORIGINAL)
    [entry] = result["redactions"]
    assert entry["reviewer"] == "pat"
    assert entry["merged"] == [{"field": "text", "reason": "home town", "reviewer": "lee",
                                "decided_at": "2025-03-02T09:00:00Z"}]


@pytest.mark.parametrize("field", ["content.missing", "content.reply_count", "media.7", "content", "text.x", "schema"])
def test_redacting_a_field_that_is_not_text_is_refused(field: str) -> None:
    with pytest.raises(ExportError) as caught:
        redacted_document(version_document(), {field: [red(0, 1, field=field)]}, original=ORIGINAL)
    assert caught.value.code == "redaction_field"


def test_a_redaction_filed_under_another_field_is_refused() -> None:
    with pytest.raises(ExportError) as caught:
        redacted_document(version_document(), {"author": [red(0, 1)]}, original=ORIGINAL)
    assert caught.value.code == "redaction_field"


def test_a_reason_that_quotes_the_redacted_value_is_refused() -> None:
    document = version_document()
    start = document["text"].index("siti@")
    leaky = Redaction(field="text", start=start, end=start + 14, code="(b)(6)", reason="siti@contoh.id is private",
                      reviewer="pat", decided_at=AT)
    with pytest.raises(ExportError) as caught:
        redacted_document(document, {"text": [leaky]}, original=ORIGINAL)
    assert caught.value.code == "redaction_leak"
    other = Redaction(field="author", start=0, end=5, code="(b)(6)", reason="name of siti@contoh.id's owner",
                      reviewer="pat", decided_at=AT)
    with pytest.raises(ExportError) as caught:
        redacted_document(document, {"text": [span_of(document["text"], "siti@contoh.id")], "author": [other]},
                          original=ORIGINAL)
    assert caught.value.code == "redaction_leak"
    assert "siti" not in str(caught.value)


# --- withheld in full -------------------------------------------------------------------------------------------


def test_a_record_withheld_in_full_keeps_its_identity_and_no_content() -> None:
    result = withheld_document(ORIGINAL, "(b)(7)(A)", "would interfere with an open investigation", "pat", AT)
    assert result == {"schema": WITHHELD_SCHEMA, "derived_from": ORIGINAL.to_json(),
                      "withheld": {"code": "(b)(7)(A)", "reason": "would interfere with an open investigation",
                                   "reviewer": "pat", "decided_at": AT}}
    assert_absent([json.dumps(result)], ["Tolong hubungi", "Warga O'Brien"])


def test_withholding_in_full_needs_a_harm_rationale() -> None:
    with pytest.raises(ExportError) as caught:
        withheld_document(ORIGINAL, "(b)(6)", " ", "pat", AT)
    assert caught.value.code == "redaction_incomplete"


# --- the leak guard ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output", [
    "plain Zo\u00eb Tan here",
    b"bytes " + "Zo\u00eb Tan".encode(),
    json.dumps({"name": "Zo\u00eb Tan"}),  # \u00eb
    '{"name": "Zo\\u00EB Tan"}',  # upper-case hex, as some writers spell it
])
def test_assert_absent_catches_a_secret_raw_or_json_escaped(output: str | bytes) -> None:
    with pytest.raises(ExportError) as caught:
        assert_absent(["nothing here", output], ["xy", "Zo\u00eb Tan"])
    assert caught.value.code == "redaction_leak"
    assert "#1" in str(caught.value) and "output 1" in str(caught.value)
    assert "Zo" not in str(caught.value)


def test_assert_absent_catches_astral_secrets_as_surrogate_escapes_and_names_outputs() -> None:
    secret = "kode \U0001f511 rahasia"
    with pytest.raises(ExportError) as caught:
        assert_absent({"load.dat": b"ok", "doc.json": json.dumps([secret]).encode()}, [secret])
    assert "doc.json" in str(caught.value)


def test_assert_absent_ignores_short_secrets_and_is_case_sensitive() -> None:
    assert_absent(["Jo and JOHN@X.COM", b"12"], ["Jo", "12", "john@x.com"])


def test_assert_absent_passes_clean_outputs() -> None:
    assert_absent([json.dumps({"text": "[REDACTED (b)(6)]"}), b"\x00\xff"], ["siti@contoh.id"])


def test_marker_shape_is_stable() -> None:
    assert re.fullmatch(r"\[REDACTED \(b\)\(6\)\]", burn("abc", [red(0, 3)]).text)
