"""PDF writing, the one home of fpdf2 in Arsip: Unicode fonts, deterministic bytes, a few layout blocks."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode, XPos, YPos

from archiver.clock import utc
from export.errors import ExportError
from export.text import ELLIPSIS, escaped

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts",
             Path("/Library/Fonts"), Path("/System/Library/Fonts"))
# Families with Latin, Latin Extended, Greek and Cyrillic coverage and a matching bold and mono face,
# in order of preference. A face missing from a family is replaced by its regular face.
FONT_FAMILIES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSansMono-Regular.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationMono-Regular.ttf"),
    ("FreeSans.ttf", "FreeSansBold.ttf", "FreeMono.ttf"),
)
SANS, MONO = "arsip-sans", "arsip-mono"
LINE = 4.2  # mm per line at body size
SIGNATURE_ROW = 40.0  # mm: heading, role, room to sign, name, note
# fpdf2 replaces its page-count alias in *every* string written, so the default "{nb}" inside an
# archived record id would print as a number. This alias uses a private-use character that
# drawable() always escapes, so no text but the footer can ever contain it.
PAGE_COUNT_MARK = "\U0010fffd"
PAGE_COUNT = f"{PAGE_COUNT_MARK}nb{PAGE_COUNT_MARK}"


@dataclass(frozen=True)
class FontSet:
    """TrueType files for body text, headings and digests."""

    regular: Path
    bold: Path
    mono: Path


def find_fonts(directories: Iterable[Path] = FONT_DIRS) -> FontSet:
    """The first known Unicode font family installed under ``directories``.

    PDF core fonts only cover Latin-1, so rendering Indonesian or any archived text with them
    fails; there is deliberately no fallback to them.
    """
    dirs = tuple(directories)
    found = _index_fonts(dirs)
    for regular, bold, mono in FONT_FAMILIES:
        if regular in found:
            return FontSet(regular=found[regular], bold=found.get(bold, found[regular]),
                           mono=found.get(mono, found[regular]))
    wanted = ", ".join(family[0] for family in FONT_FAMILIES)
    raise ExportError(f"no Unicode TrueType font found under {', '.join(map(str, dirs))} (looked for {wanted}); "
                      "install one, e.g. `apt-get install fonts-dejavu-core`", code="pdf_font_missing")


@lru_cache(maxsize=8)
def _index_fonts(directories: tuple[Path, ...]) -> dict[str, Path]:
    wanted = {name for family in FONT_FAMILIES for name in family}
    found: dict[str, Path] = {}
    for directory in directories:
        for root, dirnames, filenames in os.walk(directory):
            dirnames.sort()
            for name in sorted(filenames):
                if name in wanted and name not in found:
                    found[name] = Path(root) / name
    return found


class _Fpdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(SANS, size=7)
        self.cell(0, 5, drawable(self, f"{self.footer_text} {self.page_no()}/") + PAGE_COUNT, align="C")


class PdfDocument:
    """An A4 document with Unicode fonts whose bytes depend only on what is written into it.

    The creation date is the caller's (e.g. when the recorded event happened), never the wall
    clock, so rendering the same input twice gives byte-identical files.
    """

    def __init__(self, *, title: str, subject: str, author: str, created: datetime, language: str,
                 footer: str, fonts: FontSet | None = None) -> None:
        fonts = fonts or find_fonts()
        pdf = _Fpdf(format="A4")
        pdf.alias_nb_pages(PAGE_COUNT)
        pdf.footer_text = footer
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(True, margin=18)
        pdf.add_font(SANS, "", str(fonts.regular))
        pdf.add_font(SANS, "B", str(fonts.bold))
        pdf.add_font(MONO, "", str(fonts.mono))
        pdf.set_title(title)
        pdf.set_subject(subject)
        pdf.set_author(author)
        pdf.set_creator("Arsip")
        pdf.set_lang(language)
        pdf.set_creation_date(utc(created))
        pdf.add_page()
        self.pdf = pdf

    def heading(self, text: str, *, size: float = 11, keep: float = 3 * LINE) -> None:
        """A bold heading, moved to the next page unless ``keep`` mm fit under it."""
        self.pdf.set_font(SANS, "B", size)
        if self.pdf.will_page_break(size * 0.5 + keep):
            self.pdf.add_page()
        self.pdf.ln(2)
        self.pdf.multi_cell(0, size * 0.5, drawable(self.pdf, text), align="L", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)
        self.pdf.ln(1)

    def paragraph(self, text: str, *, size: float = 9, bold: bool = False, align: str = "L") -> None:
        self.pdf.set_font(SANS, "B" if bold else "", size)
        self.pdf.multi_cell(0, LINE, drawable(self.pdf, text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)

    def field(self, label: str, value: str, *, mono: bool = False, label_width: float = 55) -> None:
        """``label`` in a left column and ``value`` wrapped beside it (digests break anywhere)."""
        pdf = self.pdf
        pdf.set_font(SANS, "B", 8.5)
        label = drawable(pdf, label)
        wrapped = pdf.multi_cell(label_width, LINE, label, dry_run=True, output=MethodReturnValue.LINES)
        label_lines = len(wrapped) if isinstance(wrapped, list) else 1
        if pdf.will_page_break(label_lines * LINE):
            pdf.add_page()  # never leave a label at the foot of a page with its value on the next
        top, page = pdf.get_y(), pdf.page
        pdf.multi_cell(label_width, LINE, label, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(MONO if mono else SANS, "", 8 if mono else 8.5)
        pdf.multi_cell(0, LINE, drawable(pdf, value), align="L",
                       wrapmode=WrapMode.CHAR if mono else WrapMode.WORD, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if pdf.page == page and pdf.get_y() < top + label_lines * LINE:
            pdf.set_y(top + label_lines * LINE)  # a label that wrapped further than its value

    def space(self, height: float = 3) -> None:
        self.pdf.ln(height)

    def new_page(self) -> None:
        self.pdf.add_page()

    def signature_grid(self, blocks: Sequence[tuple[str, str, str, str]]) -> None:
        """Blocks of (heading, role, name, note), two per row, each with room for a wet signature."""
        pdf, width = self.pdf, (self.pdf.epw - 10) / 2
        for start in range(0, len(blocks), 2):
            if pdf.will_page_break(SIGNATURE_ROW):
                pdf.add_page()
            top = pdf.get_y()
            for column, block in enumerate(blocks[start:start + 2]):
                pdf.set_xy(pdf.l_margin + column * (width + 10), top)
                self._signature_block(block, width)
            pdf.set_xy(pdf.l_margin, top + SIGNATURE_ROW)

    def _signature_block(self, block: tuple[str, str, str, str], width: float) -> None:
        heading, role, name, note = block
        pdf, left = self.pdf, self.pdf.get_x()
        pdf.set_font(SANS, "", 8.5)
        pdf.cell(width, LINE, fit(pdf, heading, width), new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.cell(width, LINE, fit(pdf, role, width), new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_y(pdf.get_y() + 14)
        pdf.set_x(left)
        pdf.set_font(SANS, "B", 8.5)
        pdf.cell(width, LINE, fit(pdf, f"( {name} )", width), border="T", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(SANS, "", 7)
        pdf.cell(width, LINE, fit(pdf, note, width))

    def table(self, header: Sequence[str], widths: Sequence[float], *, mono_columns: Sequence[int] = ()) -> Table:
        return Table(self, header, widths, mono_columns)

    def to_bytes(self) -> bytes:
        return bytes(self.pdf.output())


class Table:
    """Single-line rows with fixed column widths; the header repeats on every page and a value too
    wide for its column is cut with an ellipsis (the full value is in the source being rendered)."""

    SIZE = 6.8
    HEIGHT = 4.0

    def __init__(self, doc: PdfDocument, header: Sequence[str], widths: Sequence[float],
                 mono_columns: Sequence[int]) -> None:
        self.pdf, self.header, self.widths, self.mono = doc.pdf, list(header), list(widths), set(mono_columns)
        self._row(self.header, bold=True)

    def add(self, cells: Sequence[str]) -> None:
        if self.pdf.will_page_break(self.HEIGHT):
            self.pdf.add_page()
            self._row(self.header, bold=True)
        self._row(cells, bold=False)

    def _row(self, cells: Sequence[str], *, bold: bool) -> None:
        pdf = self.pdf
        for column, (text, width) in enumerate(zip(cells, self.widths, strict=True)):
            mono = column in self.mono and not bold
            pdf.set_font(MONO if mono else SANS, "B" if bold else "", self.SIZE)
            pdf.cell(width, self.HEIGHT, fit(pdf, text, width), border=1, fill=False)
        pdf.ln(self.HEIGHT)


def drawable(pdf: FPDF, text: str) -> str:
    """``text`` with each character the current font has no glyph for written as a ``\\u`` escape,
    so a record id in a script the font lacks prints as code points instead of vanishing."""
    cmap = getattr(pdf.current_font, "cmap", None) or {}
    if PAGE_COUNT_MARK not in text and all(ord(ch) in cmap for ch in text):
        return text
    return "".join(ch if ch == "\n" or (ord(ch) in cmap and ch != PAGE_COUNT_MARK) else escaped(ch) for ch in text)


def fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` made drawable and cut with an ellipsis to fit a cell ``width`` wide in the current font."""
    text = drawable(pdf, text)
    room = width - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    low, high = 0, min(len(text), 400)  # a cell never shows more than a few hundred characters
    while low < high:
        middle = (low + high + 1) // 2
        if pdf.get_string_width(text[:middle] + ELLIPSIS) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low] + ELLIPSIS
