"""PDF writing, the one home of fpdf2 (and of Pillow, its image decoder) in Arsip: Unicode fonts,
deterministic bytes, a few layout blocks."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, ResourceAccessPolicy, WrapMode, XPos, YPos
from PIL import Image

from archiver.clock import utc
from export.errors import ExportError
from export.text import ELLIPSIS, escaped, visible

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
# Images are untrusted bytes: only these formats, and only this big, are ever decoded. Pillow reads the
# declared size from the header, so a "decompression bomb" is refused before any pixel is decoded.
IMAGE_FORMATS = ("PNG", "JPEG", "GIF")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
THUMB_PIXELS = 600  # longest side kept: a slot is 38 mm wide, ~450 px at 300 dpi
THUMB_SLOT = (38.0, 28.0)  # mm


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


@dataclass(frozen=True)
class Box:
    """Text drawn white on a solid black box inside flowing text, e.g. a redaction's exemption code."""

    label: str


@dataclass(frozen=True)
class Picture:
    """An image slot: ``data`` (untrusted bytes) or, when it is None, ``missing`` shown in its place."""

    caption: str
    data: bytes | None
    missing: str


class _Fpdf(FPDF):
    footer_text = ""
    page_numbers = "{page}/{pages}"
    stamp: Callable[[int], str] | None = None
    footer_padding = 1.0

    def footer(self) -> None:
        # A page can break inside a flow, which sets the cell padding to zero; the footer keeps its own.
        padding, self.c_margin = self.c_margin, self.footer_padding
        try:
            self._footer()
        finally:
            self.c_margin = padding

    def _footer(self) -> None:
        self.set_y(-12)
        self.set_font(SANS, size=7)
        before, _, after = self.page_numbers.partition("{pages}")
        numbers = before.replace("{page}", str(self.page_no()))
        line = drawable(self, f"{self.footer_text} {numbers}") + PAGE_COUNT + drawable(self, after)
        if self.stamp is None:
            self.cell(0, 5, line, align="C")
            return
        self.set_font(SANS, "B", 10)
        stamp = drawable(self, self.stamp(self.page_no()))
        width = self.get_string_width(stamp) + 2 * self.c_margin
        self.set_x(self.w - self.r_margin - width)
        self.cell(width, 5, stamp, align="R")
        self.set_xy(self.l_margin, -12)
        self.set_font(SANS, size=7)
        self.cell(self.epw - width, 5, line, align="L")


class PdfDocument:
    """An A4 document with Unicode fonts whose bytes depend only on what is written into it.

    The creation date is the caller's (e.g. when the recorded event happened), never the wall
    clock, so rendering the same input twice gives byte-identical files.
    """

    def __init__(self, *, title: str, subject: str, author: str, created: datetime, language: str,
                 footer: str, fonts: FontSet | None = None, page_numbers: str = "{page}/{pages}",
                 stamp: Callable[[int], str] | None = None) -> None:
        """``page_numbers`` follows ``footer`` on every page, with ``{page}`` and ``{pages}`` filled in;
        ``stamp(page)``, if given, is printed bold at the bottom right of each page (a Bates number)
        and the footer moves to the left."""
        fonts = fonts or find_fonts()
        pdf = _Fpdf(format="A4")
        pdf.alias_nb_pages(PAGE_COUNT)
        pdf.footer_text = footer
        pdf.page_numbers = page_numbers
        pdf.stamp = stamp
        pdf.footer_padding = pdf.c_margin
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

    def flow(self, runs: Sequence[str | Box], *, indent: float = 0, size: float = 9, grey: bool = False) -> None:
        """Text and boxes wrapped word by word from ``indent`` mm right of the margin to the right margin.

        Newlines break lines; other hidden characters, and characters the font lacks, are shown as
        escapes. A word too long for a line is broken between characters.
        """
        pdf = self.pdf
        left = pdf.l_margin + min(indent, pdf.epw - 20)
        _Flow(pdf, left, pdf.w - pdf.r_margin, size, 160 if grey else 0).write(runs)

    def pictures(self, pictures: Sequence[Picture], *, indent: float = 0) -> None:
        """Images side by side, each fitted into a slot above its caption. Missing data, and data that is
        not a PNG, JPEG or GIF within the size limits, show as a placeholder saying why."""
        pdf, (width, height), gap = self.pdf, THUMB_SLOT, 4.0
        per_row = max(1, int((pdf.epw - indent + gap) // (width + gap)))
        for start in range(0, len(pictures), per_row):
            if pdf.will_page_break(height + 6):
                pdf.add_page()
            top = pdf.get_y()
            for column, picture in enumerate(pictures[start:start + per_row]):
                _picture(pdf, picture, pdf.l_margin + indent + column * (width + gap), top)
            pdf.set_xy(pdf.l_margin, top + height + 6)

    def cells(self, texts: Sequence[str], widths: Sequence[float], *, bold: bool = False, size: float = 8,
              next_line: bool = False) -> None:
        """One line of borderless cells (a width of 0 reaches the margin), each cut to fit. The position
        stays on this line, so a :meth:`flow` can continue it, unless ``next_line``."""
        pdf = self.pdf
        if pdf.will_page_break(LINE):
            pdf.add_page()
        pdf.set_font(SANS, "B" if bold else "", size)
        for text, width in zip(texts, widths, strict=True):
            pdf.cell(width, LINE, fit(pdf, text, width or pdf.w - pdf.r_margin - pdf.get_x()))
        if next_line:
            pdf.ln(LINE)
        else:
            pdf.set_x(pdf.l_margin)

    def rule(self) -> None:
        """A thin grey line across the text width."""
        pdf = self.pdf
        pdf.set_draw_color(190)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.set_draw_color(0)

    def band(self, text: str, *, size: float = 9) -> None:
        """One bold line on a light grey band across the text width, e.g. the top of a card."""
        pdf = self.pdf
        if pdf.will_page_break(3 * LINE):
            pdf.add_page()
        pdf.set_font(SANS, "B", size)
        pdf.set_fill_color(230)
        pdf.cell(0, LINE + 2, fit(pdf, text, pdf.epw), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_fill_color(255)

    @property
    def pages(self) -> int:
        return self.pdf.pages_count

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


_SPACES = re.compile(r"( +)")


class _Flow:
    """Inline layout for :meth:`PdfDocument.flow`: words gathered into one cell per line, boxes drawn
    as filled cells, and a new line (or page) whenever the next piece would pass ``right``."""

    def __init__(self, pdf: FPDF, left: float, right: float, size: float, grey: int) -> None:
        self.pdf, self.left, self.right, self.size, self.grey = pdf, left, right, size, grey
        if pdf.will_page_break(LINE):
            pdf.add_page()
        self.x = self.start = left
        self.y = pdf.get_y()
        self.parts: list[str] = []
        self.widths: dict[str, float] = {}  # of pieces in the text font; spaces and words recur

    def _width(self, piece: str) -> float:
        width = self.widths.get(piece)
        if width is None:
            width = self.widths[piece] = self.pdf.get_string_width(piece)
        return width

    def write(self, runs: Sequence[str | Box]) -> None:
        pdf, margin = self.pdf, self.pdf.c_margin
        pdf.c_margin = 0  # positions are computed here; the cell padding would add up along a line
        try:
            self._font()
            for run in runs:
                if isinstance(run, Box):
                    self._box(run.label)
                else:
                    self._text(run)
            self._flush()
        finally:
            pdf.c_margin = margin
            pdf.set_text_color(0)
        pdf.set_xy(pdf.l_margin, self.y + LINE)

    def _font(self) -> None:
        self.pdf.set_font(SANS, "", self.size)
        self.pdf.set_text_color(self.grey)

    def _text(self, text: str) -> None:
        for number, line in enumerate(text.replace("\r\n", "\n").split("\n")):
            if number:
                self._newline()
            for piece in _SPACES.split(drawable(self.pdf, visible(line, limit=len(line)))):
                if not piece:
                    continue
                width = self._width(piece)
                if piece[0] == " ":
                    if self.x > self.left:
                        self.parts.append(piece)
                        self.x += width
                elif width <= self.right - self.left:
                    self._word(piece, width)
                else:
                    self._long_word(piece)

    def _word(self, word: str, width: float) -> None:
        if self.x + width > self.right and self.x > self.left:
            self._newline()
        self.parts.append(word)
        self.x += width

    def _long_word(self, word: str) -> None:
        for ch in word:
            self._word(ch, self._width(ch))

    def _box(self, label: str) -> None:
        pdf = self.pdf
        self._flush()
        pdf.set_font(SANS, "B", self.size - 1)
        label = drawable(pdf, visible(label, limit=60))
        width = min(pdf.get_string_width(label) + 3, self.right - self.left)
        if self.x + width > self.right and self.x > self.left:
            self._newline()
        pdf.set_fill_color(0)
        pdf.rect(self.x, self.y + 0.2, width, LINE - 0.4, style="F")
        pdf.set_text_color(255)
        pdf.set_xy(self.x, self.y)
        pdf.cell(width, LINE, fit(pdf, label, width), align="C")
        pdf.set_fill_color(255)
        self._font()
        self.x = self.start = self.x + width

    def _flush(self) -> None:
        if self.parts:
            self.pdf.set_xy(self.start, self.y)
            self.pdf.cell(self.x - self.start, LINE, "".join(self.parts))
            self.parts = []
        self.start = self.x

    def _newline(self) -> None:
        self._flush()
        self.y += LINE
        if self.y + LINE > self.pdf.page_break_trigger:
            self.pdf.add_page()
            self.y = self.pdf.get_y()
        self.x = self.start = self.left


def _picture(pdf: FPDF, picture: Picture, x: float, y: float) -> None:
    width, height = THUMB_SLOT
    image = decode_image(picture.data) if picture.data is not None else None
    if isinstance(image, Image.Image):
        scale = min(width / image.width, height / image.height)
        w, h = image.width * scale, image.height * scale
        pdf.image(image, x=x + (width - w) / 2, y=y + (height - h) / 2, w=w, h=h,
                  resource_access_policy=ResourceAccessPolicy.NONE)
    else:
        pdf.set_fill_color(240)
        pdf.set_draw_color(150)
        pdf.rect(x, y, width, height, style="DF")
        pdf.set_fill_color(255)
        pdf.set_draw_color(0)
        pdf.set_font(SANS, "", 7)
        pdf.set_xy(x + 1, y + height / 2 - 4)
        note = picture.missing if image is None else f"[image not rendered: {image}]"
        pdf.multi_cell(width - 2, 3.2, drawable(pdf, visible(note, limit=120)), align="C")
    pdf.set_font(SANS, "", 7)
    pdf.set_xy(x, y + height + 0.5)
    pdf.cell(width, 3.5, fit(pdf, visible(picture.caption, limit=200), width))


def decode_image(data: bytes) -> Image.Image | str:
    """``data`` decoded as a PNG, JPEG or GIF within the limits and shrunk to a thumbnail, or the reason not.

    The declared size is checked before any pixel is decoded, so a small file claiming a huge image
    costs nothing. The result is a new image with no link to the original bytes.
    """
    if len(data) > MAX_IMAGE_BYTES:
        return f"larger than {MAX_IMAGE_BYTES // 2**20} MB"
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return f"{image.width}x{image.height} pixels is over the limit"
            image.draft("RGB", (THUMB_PIXELS, THUMB_PIXELS))  # JPEG only: decode at a reduced scale
            alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            thumb = image.convert("RGBA" if alpha else "RGB")
    except Image.DecompressionBombError:
        return "declared size is over the limit"
    except Image.UnidentifiedImageError:
        return "not a PNG, JPEG or GIF"
    except Exception as error:  # Pillow's decoders raise many types (SyntaxError, struct.error...) on bad input
        return f"corrupt data ({type(error).__name__})"
    thumb.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
    return thumb


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
