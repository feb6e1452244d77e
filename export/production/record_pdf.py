"""One archived record as a Bates-stamped PDF: the post as the platform showed it, its thread, versions and provenance.

Everything handed in is already redacted ("burned in"): the withheld text is gone and a marker string
such as ``[REDACTED (b)(6)]`` stands in its place, its span given by a :class:`Marker`. Each marker
is drawn as a solid black box with the exemption code in white, where the deletion was; the marker
string itself is never drawn, so nothing under a box is in the file. Every page carries its own
Bates number, gap-free from ``first_page``, and the bytes depend only on the view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from archiver.model import Platform, VersionState
from export.errors import ExportError
from export.pdf import Box, FontSet, PdfDocument, Picture
from export.text import visible

MEDIA_WITHHELD = "media withheld"
MEDIA_NOT_CAPTURED = "media not captured"
INDENT = 6.0  # mm per level of reply
MAX_INDENT_LEVELS = 6  # deeper replies stay at this indent, with their depth written out
VERSION_COLUMNS = (10.0, 18.0, 40.0)  # mm: number, state, captured; the summary takes the rest
_PLATFORM_NAMES: dict[str, str] = {Platform.X: "X", Platform.YOUTUBE: "YouTube", Platform.RSS: "RSS"}
_BATES_PREFIX = re.compile(r"[A-Za-z0-9._-]{0,40}")


@dataclass(frozen=True)
class Marker:
    """Where a redaction marker sits in already-redacted text, and the exemption it applies."""

    start: int
    end: int
    code: str


@dataclass(frozen=True)
class Thumb:
    """A media item: image bytes (untrusted) or None, when ``label`` (e.g. ``MEDIA_WITHHELD``) says why.

    The image format is read from the bytes; ``media_type`` is what the platform claimed and is not trusted.
    """

    label: str
    data: bytes | None
    media_type: str


@dataclass(frozen=True)
class ThreadItem:
    """A post or comment as the platform showed it; ``depth`` 0 is the post, 1 a comment, 2 a reply..."""

    depth: int
    author: str
    posted_at: str
    text: str
    markers: tuple[Marker, ...]
    state: str  # a VersionState
    reason: str | None  # a DisappearanceReason when deleted or hidden
    thumbs: tuple[Thumb, ...] = ()
    withheld_code: str | None = None  # withheld in full: only a box with this code is shown


@dataclass(frozen=True)
class VersionLine:
    number: int
    state: str
    captured_at: str
    summary: str
    markers: tuple[Marker, ...]


@dataclass(frozen=True)
class RecordView:
    doc_id: str
    record_id: str
    platform: str
    platform_id: str
    kind: str
    account: str
    url: str
    thread: tuple[ThreadItem, ...]  # the record itself first, then its comment thread
    versions: tuple[VersionLine, ...]
    provenance: tuple[tuple[str, str], ...]  # (label, value): capture run, WARC file and offset, digests
    request_number: str
    production_id: str
    created: datetime


@dataclass(frozen=True)
class BatesFormat:
    """Bates numbers as ``prefix`` followed by the page number zero-padded to ``width`` digits."""

    prefix: str
    width: int

    def __post_init__(self) -> None:
        if not _BATES_PREFIX.fullmatch(self.prefix) or not 1 <= self.width <= 12:
            raise ExportError(f"Bates format {self.prefix!r}/{self.width} is not usable: use a prefix of at most 40 "
                              "letters, digits, '.', '_' or '-' and a width of 1 to 12 digits", code="bates_format")

    def number(self, n: int) -> str:
        digits = str(n)
        if n < 1 or len(digits) > self.width:
            raise ExportError(f"page number {n} does not fit {self.width} Bates digits after {self.prefix!r}: "
                              "start a new prefix or use a wider format", code="bates_overflow")
        return self.prefix + digits.zfill(self.width)


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int
    first_bates: str
    last_bates: str


def render_record(view: RecordView, *, bates: BatesFormat, first_page: int,
                  fonts: FontSet | None = None) -> RenderedPdf:
    """The PDF of ``view``, its pages numbered ``bates.number(first_page)`` onwards.

    Raises ``ExportError`` ``bates_overflow`` when a page number does not fit the format, and
    ``record_view`` when the view has no thread or a marker that does not lie inside its text.
    """
    if not view.thread:
        raise ExportError(f"record {view.record_id!r} has no post to render: pass the record as thread[0]",
                          code="record_view")
    first = bates.number(first_page)
    doc = PdfDocument(title=visible(view.doc_id, limit=80), subject=f"Production {visible(view.production_id)} for "
                      f"request {visible(view.request_number)}", author="Arsip", created=view.created, language="en",
                      footer=f"Request {visible(view.request_number, limit=40)} \u00b7 Production "
                      f"{visible(view.production_id, limit=40)} \u00b7", page_numbers="page {page} of {pages}",
                      stamp=lambda page: bates.number(first_page + page - 1), fonts=fonts)
    _identity(doc, view)
    _card(doc, view, view.thread[0])
    _comments(doc, view.thread[1:], base=view.thread[0].depth)
    _versions(doc, view.versions)
    _provenance(doc, view.provenance)
    data = doc.to_bytes()
    return RenderedPdf(data=data, pages=doc.pages, first_bates=first,
                       last_bates=bates.number(first_page + doc.pages - 1))


def runs(text: str, markers: Sequence[Marker]) -> list[str | Box]:
    """``text`` split around its markers, each marker replaced by a box with its exemption code."""
    pieces: list[str | Box] = []
    at = 0
    for marker in sorted(markers, key=lambda m: m.start):
        if not at <= marker.start < marker.end <= len(text):
            raise ExportError(f"marker {marker.start}-{marker.end} ({marker.code!r}) is not inside the text or "
                              "overlaps another: markers must be ordered spans of the redacted text",
                              code="record_view")
        pieces += [text[at:marker.start], Box(marker.code)]
        at = marker.end
    pieces.append(text[at:])
    return pieces


def _identity(doc: PdfDocument, view: RecordView) -> None:
    doc.heading(f"Record {visible(view.doc_id, limit=80)}", size=13)
    for label, value, mono in (("Record id", view.record_id, True), ("Platform id", view.platform_id, True),
                               ("Kind", view.kind, False), ("URL", view.url, True)):
        doc.field(label, visible(value, limit=2000), mono=mono, label_width=30)
    doc.space(3)


def _card(doc: PdfDocument, view: RecordView, item: ThreadItem) -> None:
    name = _PLATFORM_NAMES.get(view.platform, view.platform.capitalize())
    doc.band(f"{visible(name, limit=40)} \u00b7 {visible(view.account, limit=200)}")
    doc.space(1)
    _item(doc, item, indent=2)
    doc.rule()
    doc.space(3)


def _comments(doc: PdfDocument, items: Sequence[ThreadItem], *, base: int) -> None:
    if not items:
        return
    doc.heading(f"Comments ({len(items)})")
    for item in items:
        level = max(0, item.depth - base - 1)
        _item(doc, item, indent=2 + INDENT * min(level, MAX_INDENT_LEVELS),
              depth_note=f" \u00b7 depth {item.depth}" if level > MAX_INDENT_LEVELS else "")
        doc.space(1.5)


def _item(doc: PdfDocument, item: ThreadItem, *, indent: float, depth_note: str = "") -> None:
    """An author line, a state label when the item is not plainly present, the text and its media."""
    if item.withheld_code is not None:
        # Withholding in full covers who wrote it and when, too: only the box is shown.
        doc.flow([Box(f"WITHHELD IN FULL \u2014 {item.withheld_code}")], indent=indent)
        return
    doc.flow([f"{item.author}  \u00b7  {item.posted_at}{depth_note}"], indent=indent, size=8, grey=True)
    label = _state_label(item.state, item.reason)
    if label:
        doc.flow([label], indent=indent, size=8, grey=True)
    doc.flow(runs(item.text, item.markers), indent=indent)
    if item.thumbs:
        doc.space(1)
        doc.pictures([Picture(caption=thumb.label if thumb.data is not None else "", data=thumb.data,
                              missing=f"[{thumb.label}]") for thumb in item.thumbs], indent=indent)


def _state_label(state: str, reason: str | None) -> str:
    why = reason.replace("_", " ") if reason else "reason not recorded"
    if state == VersionState.HIDDEN:
        return f"Hidden by the page \u2014 {why}"
    if state == VersionState.DELETED:
        return f"Deleted \u2014 {why}"
    if state == VersionState.EDITED:
        return "Edited"
    return "" if state == VersionState.PRESENT else f"State: {state}"


def _versions(doc: PdfDocument, versions: Sequence[VersionLine]) -> None:
    doc.heading("Versions")
    if not versions:
        doc.paragraph("No versions recorded.")
        return
    summary_indent = sum(VERSION_COLUMNS)
    doc.cells(("#", "State", "Captured", "Summary"), (*VERSION_COLUMNS, 0), bold=True, next_line=True)
    doc.rule()
    for version in versions:
        doc.cells((str(version.number), visible(version.state, limit=40), visible(version.captured_at, limit=60)),
                  VERSION_COLUMNS)
        doc.flow(runs(version.summary, version.markers), indent=summary_indent, size=8)
        doc.rule()
    doc.space(2)


def _provenance(doc: PdfDocument, rows: Sequence[tuple[str, str]]) -> None:
    doc.heading("Provenance")
    for label, value in rows:
        doc.field(visible(label, limit=200), visible(value, limit=4000), mono=True, label_width=45)
