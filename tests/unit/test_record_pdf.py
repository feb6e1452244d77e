"""Record PDFs read back with pypdf: a Bates number on every page, gap-free; redactions as boxes with nothing
under them; hidden and deleted items labelled; hostile text and hostile images never crash; same bytes twice."""

from __future__ import annotations

import io
import struct
import time
import zlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject

from export.errors import ExportError
from export.pdf import MAX_IMAGE_PIXELS, decode_image, find_fonts
from export.production.record_pdf import (
    MEDIA_NOT_CAPTURED,
    MEDIA_WITHHELD,
    BatesFormat,
    Marker,
    RecordView,
    ThreadItem,
    Thumb,
    VersionLine,
    render_record,
)

FONTS = find_fonts()
BATES = BatesFormat("ARS", 6)
SECRET = "0812-5550-1234"
MARKER = "[REDACTED (b)(6)]"
BURNED = f"Please call Budi at {MARKER} before Friday."


def marked(text: str, code: str = "(b)(6)") -> tuple[Marker, ...]:
    start = text.index(MARKER)
    return (Marker(start, start + len(MARKER), code),)


def item(depth: int = 1, text: str = "Terima kasih, min.", **kwargs: object) -> ThreadItem:
    fields: dict[str, object] = {"depth": depth, "author": "@warga", "posted_at": "2024-03-01 10:00 UTC",
                                 "text": text, "markers": (), "state": "present", "reason": None}
    fields.update(kwargs)
    return ThreadItem(**fields)  # type: ignore[arg-type]


def view(*comments: ThreadItem, post: ThreadItem | None = None) -> RecordView:
    return RecordView(
        doc_id="ARS000041", record_id="rec-7f3a", platform="mastodon", platform_id="110022", kind="post",
        account="@kemenkes@mastodon.go.id", url="https://mastodon.go.id/@kemenkes/110022",
        thread=(post or item(0, "Jadwal vaksinasi gratis minggu ini di puskesmas terdekat."), *comments),
        versions=(VersionLine(1, "present", "2024-03-01T10:00:00Z", "first capture", ()),
                  VersionLine(2, "edited", "2024-03-02T08:00:00Z", BURNED, marked(BURNED))),
        provenance=(("Capture run", "run-2024-03-01"), ("WARC", "warc/2024/run-1.warc.gz @ 81920"),
                    ("Envelope SHA-256", "ab" * 32)),
        request_number="FOIA-2025-0012", production_id="PROD-0003", created=datetime(2025, 1, 13, 3, 30, tzinfo=UTC))


def render(record: RecordView, first_page: int = 41, bates: BatesFormat = BATES) -> tuple[bytes, list[str]]:
    rendered = render_record(record, bates=bates, first_page=first_page, fonts=FONTS)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(rendered.data)).pages]
    assert len(pages) == rendered.pages
    return rendered.data, pages


def png(width: int = 24, height: int = 16) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` pixels, followed by almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def all_stream_bytes(pdf: bytes) -> bytes:
    """The file plus every stream decompressed: what a reader of the raw file could find."""
    reader = PdfReader(io.BytesIO(pdf))
    found = [pdf]
    for generation, entries in reader.xref.items():
        for number in entries:
            obj = IndirectObject(number, generation, reader).get_object()
            if isinstance(obj, StreamObject):
                found.append(obj.get_data())
    for number in reader.xref_objStm:
        obj = IndirectObject(number, 0, reader).get_object()
        if isinstance(obj, StreamObject):
            found.append(obj.get_data())
    return b"".join(found)


def test_every_page_carries_its_own_bates_number_gap_free() -> None:
    comments = [item(1 + number % 3, f"Komentar nomor {number}: kapan jadwalnya di kelurahan kami?")
                for number in range(200)]
    rendered = render_record(view(*comments), bates=BATES, first_page=41, fonts=FONTS)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(rendered.data)).pages]
    assert rendered.pages == len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert BATES.number(40 + number) in text
        assert f"page {number} of {len(pages)}" in text
        assert "Request FOIA-2025-0012 \u00b7 Production PROD-0003" in text
        assert BATES.number(39 + number) not in text and BATES.number(41 + number) not in text
    assert (rendered.first_bates, rendered.last_bates) == ("ARS000041", BATES.number(40 + len(pages)))


def test_one_page_record_starts_and_ends_on_the_same_bates_number() -> None:
    rendered = render_record(view(item()), bates=BatesFormat("X", 3), first_page=7, fonts=FONTS)
    assert (rendered.pages, rendered.first_bates, rendered.last_bates) == (1, "X007", "X007")


def test_redaction_is_a_box_with_the_code_and_nothing_under_it() -> None:
    pdf, pages = render(view(item(1, BURNED, markers=marked(BURNED))))
    text = " ".join(pages)
    assert "Please call Budi at (b)(6) before Friday." in " ".join(text.split())
    assert MARKER not in text  # the marker string is replaced by the box, never drawn


def test_text_under_a_marker_span_never_reaches_the_file() -> None:
    # Even if a caller passed unredacted text, the span a marker covers is not drawn: only the box is.
    leaky = f"Please call Budi at {SECRET} before Friday."
    start = leaky.index(SECRET)
    record = view(item(1, leaky, markers=(Marker(start, start + len(SECRET), "(b)(6)"),)))
    pdf, pages = render(record)
    assert SECRET not in " ".join(pages) and "(b)(6)" in " ".join(pages)
    assert SECRET.encode() not in all_stream_bytes(pdf)


def test_burned_in_secret_is_absent_from_text_and_decompressed_streams() -> None:
    pdf, pages = render(view(item(1, BURNED, markers=marked(BURNED))))
    assert SECRET not in " ".join(pages)
    assert SECRET.encode() not in all_stream_bytes(pdf)


def test_item_withheld_in_full_shows_only_its_box() -> None:
    withheld = item(1, "nama dan alamat lengkap saya", author="@orang_pribadi", withheld_code="(b)(7)(C)")
    text = " ".join(render(view(withheld))[1])
    assert "WITHHELD IN FULL \u2014 (b)(7)(C)" in text
    assert "nama dan alamat" not in text and "@orang_pribadi" not in text


def test_hidden_and_deleted_items_are_labelled_and_keep_their_archived_text() -> None:
    text = " ".join(render(view(item(1, "hidden words", state="hidden", reason="agency_removed"),
                                item(2, "deleted words", state="deleted", reason="author_deleted"),
                                item(1, "lost words", state="deleted", reason=None)))[1])
    for expected in ("Hidden by the page \u2014 agency removed", "hidden words", "Deleted \u2014 author deleted",
                     "deleted words", "Deleted \u2014 reason not recorded", "lost words"):
        assert expected in text, expected


def test_card_versions_and_provenance_are_shown() -> None:
    text = " ".join(" ".join(render(view(item()))[1]).split())
    for expected in ("Record ARS000041", "rec-7f3a", "110022", "Mastodon \u00b7 @kemenkes@mastodon.go.id",
                     "Jadwal vaksinasi gratis", "Comments (1)", "Versions", "first capture", "2024-03-02T08:00:00Z",
                     "Provenance", "run-2024-03-01", "warc/2024/run-1.warc.gz @ 81920", "ab" * 32):
        assert expected in text, expected


def test_hostile_text_renders_as_visible_escapes() -> None:
    hostile = "abc\u202edcba nul\x00here " + "W" * 10_000 + " \U0001f600\U0001fae0 \u0645\u0631\u062d\u0628\u0627"
    pdf, pages = render(view(item(1, hostile, author="\u202eevil"), item(60, "very deep reply")))
    text = "".join("".join(pages).split())
    assert "abc\\u202edcba" in text and "nul\\u0000here" in text and "\\u202eevil" in text
    assert "W" * 1000 in text.replace("\n", "")
    assert "\\U0001fae0" in text  # an emoji the font has no glyph for is shown as its code point
    assert "\u202e" not in text and "\x00" not in text
    assert "veryde" in text


def test_valid_png_jpeg_and_gif_are_embedded() -> None:
    jpeg, gif = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (30, 20), (0, 90, 200)).save(jpeg, "JPEG")
    Image.new("P", (10, 10), 3).save(gif, "GIF")
    thumbs = (Thumb("photo.png", png(), "image/png"), Thumb("photo.jpg", jpeg.getvalue(), "image/jpeg"),
              Thumb("anim.gif", gif.getvalue(), "image/gif"))
    data = render_record(view(post=item(0, "three pictures", thumbs=thumbs)), bates=BATES, first_page=1,
                         fonts=FONTS).data
    assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 3


def test_corrupt_and_oversized_images_become_placeholders_quickly() -> None:
    thumbs = (Thumb("broken", png()[:60], "image/png"), Thumb("bomb", png_header_only(100_000, 100_000), "image/png"),
              Thumb("too-big", png_header_only(7_000, 7_000), "image/png"), Thumb("svg", b"<svg/>", "image/svg+xml"),
              Thumb(MEDIA_WITHHELD, None, "image/jpeg"), Thumb(MEDIA_NOT_CAPTURED, None, "video/mp4"))
    started = time.monotonic()
    data = render_record(view(post=item(0, "hostile media", thumbs=thumbs)), bates=BATES, first_page=1,
                         fonts=FONTS).data
    assert time.monotonic() - started < 20
    page = PdfReader(io.BytesIO(data)).pages[0]
    text = " ".join(page.extract_text().split())
    assert len(page.images) == 0
    assert text.count("[image not rendered:") == 4
    assert "[media withheld]" in text and "[media not captured]" in text


def test_image_decoder_refuses_bombs_before_decoding() -> None:
    started = time.monotonic()
    assert decode_image(png_header_only(100_000, 100_000)) == "declared size is over the limit"
    assert decode_image(png_header_only(7_000, 7_000)) == "7000x7000 pixels is over the limit"
    assert time.monotonic() - started < 2
    assert MAX_IMAGE_PIXELS < 7_000 * 7_000
    assert decode_image(b"GIF89a\x00") == "not a PNG, JPEG or GIF"
    assert decode_image(b"\xff\xd8\xff\xe0 truncated jpeg") == "corrupt data (OSError)"
    assert decode_image(png()[:60]).startswith("corrupt data")


def test_bates_number_pads_and_refuses_overflow() -> None:
    assert BatesFormat("ABC", 6).number(12) == "ABC000012"
    with pytest.raises(ExportError) as error:
        BatesFormat("ABC", 3).number(1000)
    assert error.value.code == "bates_overflow"
    with pytest.raises(ExportError) as error:
        BatesFormat("A B", 3)
    assert error.value.code == "bates_format"


def test_record_running_past_the_last_bates_number_is_refused() -> None:
    with pytest.raises(ExportError) as error:
        render_record(view(*[item(1, f"komentar {n}") for n in range(200)]), bates=BatesFormat("A", 1),
                      first_page=8, fonts=FONTS)
    assert error.value.code == "bates_overflow"
    with pytest.raises(ExportError) as error:
        render_record(view(item()), bates=BatesFormat("A", 1), first_page=10, fonts=FONTS)
    assert error.value.code == "bates_overflow"


def test_marker_outside_the_text_is_refused() -> None:
    with pytest.raises(ExportError) as error:
        render_record(view(item(1, "short", markers=(Marker(3, 40, "(b)(6)"),))), bates=BATES, first_page=1,
                      fonts=FONTS)
    assert error.value.code == "record_view"
    with pytest.raises(ExportError) as error:
        render_record(replace(view(), thread=()), bates=BATES, first_page=1, fonts=FONTS)
    assert error.value.code == "record_view"


def test_same_view_renders_to_identical_bytes() -> None:
    picture = (Thumb("p", png(), "image/png"),)
    record = view(item(1, BURNED, markers=marked(BURNED)), post=item(0, "pic", thumbs=picture))
    first = render_record(record, bates=BATES, first_page=5, fonts=FONTS).data
    assert render_record(record, bates=BATES, first_page=5, fonts=FONTS).data == first
