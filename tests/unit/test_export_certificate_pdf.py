"""Disposition certificates as PDF: NARA in English, JRA berita acara in Indonesian, read back with pypdf;
deterministic bytes, the record list capped with a count of the rest, and hostile text that never crashes."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from export.certificate_pdf import render_certificate_pdf
from export.errors import ExportError
from export.indonesian import terbilang
from export.pdf import find_fonts
from export.text import visible

SIGNATURE = "k3Vb0jQ9pZ7n1yX8w2aF5sR4tU6vW3xY0zA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1vW2xY3zA4bC5dE6fG7hI8jK+/Aw=="


def body(profile: str = "nara", action: str = "destroy", count: int = 3) -> dict[str, Any]:
    return {
        "schema": "arsip.disposition-certificate/1", "batch_id": "d-20250113-ab12cd", "profile": profile,
        "action": action, "archive_origin": "arsip.example.go.id/main", "agency": "Kementerian Contoh",
        "created_at": "2025-01-10T08:00:00Z", "executed_at": "2025-01-13T03:30:00Z", "executed_by": "cli:alice",
        "approvals": [{"by": "cli:bob", "role": "records_officer", "at": "2025-01-12T09:15:00Z",
                       "reference": "ANRI B-123/2025"}],
        "schedule_fingerprint": "5" * 64,
        "summary": {"records": count, "versions": count + 2, "objects_deleted": 2,
                    "by_item": [{"item": "nara-grs/6.4-020", "title": "Public comments not acted on",
                                 "authority": "DAA-GRS-2016-0005-0002", "records": count}]},
        "list": {"key": "disposition/d-20250113-ab12cd/records.jsonl", "sha256": "7" * 64, "count": count},
        "objects_deleted": [{"key": "warc/2024/run-1.warc.gz", "sha256": "8" * 64, "size": 123}],
        "objects_written": [],
        "log": {"size": 1234, "root": "9" * 64},
    }


def signed(**kwargs: Any) -> dict[str, Any]:
    return {"certificate": body(**kwargs), "key_id": "ed25519:3f2a9c", "signature": SIGNATURE}


def rows(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    for number in range(start, start + count):
        yield {"record_id": f"rec-{number:05d}", "platform": "mastodon", "platform_id": f"1100{number}",
               "kind": "comment", "account_id": "acct-1", "item": "nara-grs/6.4-020",
               "authority": "DAA-GRS-2016-0005-0002", "eligible_on": "2024-04-09", "posted_at": "2024-01-10T00:00:00Z",
               "versions": [{"number": 1, "log_index": number, "content_sha256": "ab" * 32, "leaf_sha256": "cd" * 32}]}


def text_of(pdf: bytes) -> str:
    """Extracted text with runs of whitespace collapsed, so wrapped phrases still match."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_nara_certificate_names_batch_authority_list_and_signature() -> None:
    pdf = render_certificate_pdf(signed(), rows(3))
    text = text_of(pdf)
    for expected in ("Certificate of Destruction", "d-20250113-ab12cd", "arsip.example.go.id/main",
                     "DAA-GRS-2016-0005-0002", "nara-grs/6.4-020", "cli:alice", "cli:bob", "records_officer",
                     "ANRI B-123/2025", "ed25519:3f2a9c", "disposition/d-20250113-ab12cd/records.jsonl", "7" * 64,
                     "9" * 64, "1234", "Monday, 13 January 2025 at 03:30:00 UTC", "rec-00000", "rec-00002",
                     "11002", "abababababababab"):
        assert expected in text, expected
    assert SIGNATURE in "".join(text.split())  # the signature wraps across lines in its column


def test_certificate_prints_the_hash_of_the_signed_canonical_body() -> None:
    import hashlib

    from archiver.integrity.envelope import canonical_json

    certificate = signed()
    digest = hashlib.sha256(canonical_json(certificate["certificate"])).hexdigest()
    assert digest in "".join(text_of(render_certificate_pdf(certificate, rows(3))).split())


@pytest.mark.parametrize(("action", "title"), [("transfer", "Certificate of Transfer"),
                                                ("accession", "Certificate of Accession")])
def test_nara_transfer_and_accession_have_their_own_titles(action: str, title: str) -> None:
    text = text_of(render_certificate_pdf(signed(action=action), rows(3)))
    assert title in text
    assert "Certificate of Destruction" not in text
    assert "tombstone" not in text


def test_jra_berita_acara_is_in_indonesian_with_anri_approval_and_signature_blocks() -> None:
    text = text_of(render_certificate_pdf(signed(profile="jra"), rows(3)))
    for expected in ("BERITA ACARA PEMUSNAHAN ARSIP",
                     "Pada hari Senin, tanggal tiga belas bulan Januari tahun dua ribu dua puluh lima (13-01-2025), "
                     "pukul 03.30 UTC, telah dilaksanakan pemusnahan arsip media sosial milik Kementerian Contoh",
                     "Daftar Arsip yang Dimusnahkan", "Persetujuan Kepala ANRI nomor ANRI B-123/2025",
                     "Pelaksana,", "Menyetujui,", "( cli:alice )", "( cli:bob )",
                     "Dasar kewenangan DAA-GRS-2016-0005-0002",
                     "Demikian Berita Acara ini dibuat dengan sebenarnya", "d-20250113-ab12cd", "rec-00001"):
        assert expected in text, expected
    assert "Certificate" not in text


def test_jra_without_an_anri_reference_does_not_mention_one() -> None:
    certificate = signed(profile="jra")
    certificate["certificate"]["approvals"][0]["reference"] = None
    text = text_of(render_certificate_pdf(certificate, rows(3)))
    assert "Kepala ANRI" not in text
    assert "cli:bob" in text


@pytest.mark.parametrize(("action", "title", "listing"), [
    ("transfer", "BERITA ACARA PEMINDAHAN ARSIP", "Daftar Arsip yang Dipindahkan"),
    ("accession", "BERITA ACARA PENYERAHAN ARSIP", "Daftar Arsip yang Diserahkan")])
def test_jra_transfer_and_accession_use_pemindahan_and_penyerahan(action: str, title: str, listing: str) -> None:
    text = text_of(render_certificate_pdf(signed(profile="jra", action=action), rows(3)))
    assert title in text and listing in text
    assert "pemusnahan" not in text.lower()


def test_rows_past_max_listed_are_counted_not_printed() -> None:
    pdf = render_certificate_pdf(signed(count=25), rows(25), max_listed=10)
    text = text_of(pdf)
    assert "rec-00009" in text
    assert "rec-00010" not in text
    assert ("... and 15 more records, listed in the signed record list "
            "disposition/d-20250113-ab12cd/records.jsonl") in text


def test_default_cap_is_two_thousand_rows() -> None:
    text = text_of(render_certificate_pdf(signed(count=2003), rows(2003)))
    assert "rec-01999" in text
    assert "rec-02000" not in text
    assert "and 3 more records" in text


def test_jra_states_the_rest_in_indonesian() -> None:
    text = text_of(render_certificate_pdf(signed(profile="jra", count=5), rows(5), max_listed=2))
    assert "... dan 3 arsip lainnya tercantum dalam daftar arsip bertanda tangan" in text


def test_a_list_that_disagrees_with_the_certificate_count_is_flagged() -> None:
    text = text_of(render_certificate_pdf(signed(count=3), rows(2)))
    assert "2 records were supplied for this listing, but the certificate states 3" in text


def test_two_renders_are_byte_identical_and_dated_by_execution() -> None:
    first = render_certificate_pdf(signed(), rows(40))
    second = render_certificate_pdf(copy.deepcopy(signed()), rows(40))
    assert first == second
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None
    assert metadata.creation_date == datetime(2025, 1, 13, 3, 30, tzinfo=UTC)
    assert metadata.title == "Certificate of Destruction d-20250113-ab12cd"


HOSTILE = ["\u202egpj.exe", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
           "\U0001f600\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f3f3\ufe0f\u200d\U0001f308", "x" * 10_000,
           "a\x00b\x1b[31mc\r\nd\x7f", "\ud800lone",
           "\u4e2d\u6587 \ud55c\uad6d\uc5b4 \u0928\u092e\u0938\u094d\u0924\u0947",
           "|../../etc/passwd", "\ufeff\u200b\u2028\u2029"]


def test_hostile_text_anywhere_renders_without_crashing() -> None:
    certificate = signed(profile="jra", count=len(HOSTILE))
    cert = certificate["certificate"]
    cert["batch_id"], cert["executed_by"], cert["agency"] = HOSTILE[0], HOSTILE[3], HOSTILE[2]
    cert["approvals"].append({"by": HOSTILE[4], "role": HOSTILE[1], "at": HOSTILE[7], "reference": HOSTILE[6]})
    cert["summary"]["by_item"][0]["title"] = HOSTILE[8]
    hostile_rows = [{"record_id": value, "platform_id": HOSTILE[-1 - i], "kind": value[:50], "item": 7,
                     "eligible_on": None, "versions": "not a list"} for i, value in enumerate(HOSTILE)]
    text = text_of(render_certificate_pdf(certificate, hostile_rows))
    assert "\\u202egpj.exe" in text  # the bidi override is shown, not obeyed
    assert "\\u0000b" in text and "\\ud800lone" in text
    assert "[10000 characters]" in text  # the long value is cut and says so
    assert "\\u4e2d\\u6587" in text  # no glyph in the font: printed as code points, not dropped


def test_page_count_placeholders_in_archived_text_print_literally() -> None:
    certificate = signed(count=1)
    certificate["certificate"]["agency"] = "\U0010fffdnb\U0010fffd"
    text = text_of(render_certificate_pdf(certificate, [{"record_id": "{nb}", "kind": "comment"}]))
    assert "{nb}" in text and "\\U0010fffdnb\\U0010fffd" in text
    assert "Page 2/2" in text  # the footer's own count is still filled in


def test_visible_escapes_controls_and_bidi_but_keeps_indonesian_and_emoji() -> None:
    assert visible("Kementerian P\u00e9kerjaan \U0001f600") == "Kementerian P\u00e9kerjaan \U0001f600"
    assert visible("a\u202eb\x00") == "a\\u202eb\\u0000"
    assert visible(None) == "\u2014"
    assert visible("x" * 12, limit=5) == "xxxxx\u2026 [12 characters]"


@pytest.mark.parametrize("mutate", [
    lambda c: c["certificate"].pop("batch_id"),
    lambda c: c["certificate"].update(schema="arsip.disposition-certificate/2"),
    lambda c: c["certificate"].update(profile="dod"),
    lambda c: c["certificate"].update(executed_at="yesterday"),
    lambda c: c["certificate"]["summary"].update(records=-1),
    lambda c: c["certificate"].update(approvals="cli:bob"),
    lambda c: c.pop("signature"),
    lambda c: c["certificate"].update(agency="\ud800"),  # no RFC 8785 bytes, so nothing can have signed it
])
def test_a_malformed_certificate_is_refused_with_a_code(mutate: Any) -> None:
    certificate = signed()
    mutate(certificate)
    with pytest.raises(ExportError) as raised:
        render_certificate_pdf(certificate, rows(3))
    assert raised.value.code in ("certificate_format", "certificate_schema")


def test_a_record_list_row_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ExportError) as raised:
        render_certificate_pdf(signed(), [["rec-1"]])  # type: ignore[list-item]
    assert raised.value.code == "record_list_format"


def test_no_unicode_font_is_an_error_not_a_latin1_fallback(tmp_path: Path) -> None:
    (tmp_path / "fonts").mkdir()
    with pytest.raises(ExportError) as raised:
        find_fonts([tmp_path / "fonts"])
    assert raised.value.code == "pdf_font_missing"
    assert "fonts-dejavu" in str(raised.value)


def test_fonts_are_found_in_a_nested_directory(tmp_path: Path) -> None:
    installed = find_fonts()
    nested = tmp_path / "truetype" / "dejavu"
    nested.mkdir(parents=True)
    (nested / "DejaVuSans.ttf").write_bytes(installed.regular.read_bytes())
    found = find_fonts([tmp_path])
    assert found.regular == nested / "DejaVuSans.ttf"
    assert found.bold == found.regular == found.mono  # a family's missing faces fall back to its regular


@pytest.mark.parametrize(("number", "words"), [
    (0, "nol"), (1, "satu"), (11, "sebelas"), (13, "tiga belas"), (20, "dua puluh"), (31, "tiga puluh satu"),
    (100, "seratus"), (111, "seratus sebelas"), (1000, "seribu"),
    (1999, "seribu sembilan ratus sembilan puluh sembilan"),
    (2025, "dua ribu dua puluh lima"), (11000, "sebelas ribu")])
def test_terbilang_spells_numbers_as_a_berita_acara_does(number: int, words: str) -> None:
    assert terbilang(number) == words
