"""E-discovery load files (Concordance DAT, Opticon OPT, EDRM XML 1.2), streamed, with independent readers.

A production of 100,000 documents is written one document at a time: nothing grows with the
production except the files on disk. The three files are written as ``<name>.<ext>.part`` and renamed
when :meth:`LoadFileWriter.close` succeeds; a failure inside ``with`` (or a failed write) deletes them,
so a load file that exists is complete. Nothing in them depends on the clock, so the same documents
always give the same bytes.

Archived text is hostile, so every value is made safe for its format rather than trusted:

* **DAT** (UTF-8 with BOM, CRLF records, DC4 U+0014 between fields, þ U+00FE around every value):
  CRLF, CR and LF inside a value become ® U+00AE, which review tools read back as a line break. A þ
  inside a value is doubled (þþ), as CSV doubles its quote: the qualifier is what a reader looks for,
  so doubling is the one escape that keeps every row splittable, and :func:`read_dat` undoes it.
  A DC4 inside a value becomes a space (it would split the row), NUL and lone surrogates become
  U+FFFD (C-based loaders end a string at NUL; UTF-8 cannot carry a lone surrogate). A literal ®
  is written as it is and therefore reads back as a line break, in review tools and here: the format
  has no escape for it, and the native JSON (NATIVEPATH) keeps the exact value. No field is
  multi-valued, so ``;`` is never a separator in these files.
* **OPT** (UTF-8 without BOM, since a BOM would corrupt the first image key; CRLF lines): one line per
  page. Images are one PDF per document, so every page line of a document names the same PDF, with
  ``\\`` separators as review tools expect; the first page carries DocBreak ``Y`` and the page count.
* **EDRM XML 1.2**: written with :class:`xml.sax.saxutils.XMLGenerator`, never as a tree. Characters
  XML 1.0 does not allow (controls other than tab/CR/LF, lone surrogates, U+FFFE/U+FFFF) become
  U+FFFD; CR, LF and tab survive exactly (as character references). Empty values get no Tag. Family
  relationships belong after all documents, so they are spooled to an anonymous temporary file rather
  than kept in memory. ``Hash`` on the native file is its SHA-256 (also in the SHA256 tag).

Ids and Bates numbers are checked, not cleaned: a bad one is a numbering bug and is refused with
``ExportError`` code ``loadfile_value``. The writer does not check that ids are unique or that a
parent is in the production (that would need memory proportional to the production); Bates
numbering guarantees both.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from export.errors import ExportError

DAT_FIELDS: tuple[str, ...] = (
    "BEGBATES",
    "ENDBATES",
    "BEGATTACH",
    "ENDATTACH",
    "CUSTODIAN",
    "AUTHOR",
    "PLATFORM",
    "KIND",
    "RECORDID",
    "STATE",
    "DATECREATED",
    "DATECAPTURED",
    "SHA256",
    "NATIVEPATH",
    "TEXTPATH",
    "IMAGEPATH",
    "PAGECOUNT",
    "REDACTED",
    "WITHHELD",
)
_EDRM_TYPES = {
    "DATECREATED": "DateTime",
    "DATECAPTURED": "DateTime",
    "PAGECOUNT": "Integer",
    "REDACTED": "Boolean",
    "WITHHELD": "Boolean",
}
# EDRM tags (name, TagDataType): the DAT fields except the paths, which EDRM carries as <File> elements.
EDRM_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (name, _EDRM_TYPES.get(name, "Text")) for name in DAT_FIELDS if not name.endswith("PATH")
)

BOM = "\ufeff"
CRLF = "\r\n"
DC4 = "\x14"
QUOTE = "\u00fe"
NEWLINE_MARK = "\u00ae"
REPLACEMENT = "\ufffd"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DAT_VALUE = re.compile(f"{QUOTE}([^{QUOTE}]*(?:{QUOTE}{QUOTE}[^{QUOTE}]*)*){QUOTE}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Fast paths for the ids and paths Arsip makes; anything else gets the character-by-character check.
_PLAIN = re.compile(r"[A-Za-z0-9._-]+")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class LoadDocument:
    """One produced document as the load files describe it; paths are bag-relative with ``/``."""

    doc_id: str  # the control number, equal to beg_bates
    beg_bates: str
    end_bates: str
    beg_attach: str  # family range: a post and its comments; a lone document's own range
    end_attach: str
    parent_doc_id: str | None
    pages: int
    custodian: str  # the agency account
    author: str
    platform: str
    kind: str
    record_id: str
    state: str
    date_created: str  # ISO 8601 UTC, or ""
    date_captured: str
    sha256: str  # of the native (JSON) file
    native_path: str
    text_path: str
    image_path: str  # the document's PDF, or "" when no PDFs were rendered
    native_bytes: int
    text_bytes: int
    image_bytes: int
    redacted: bool
    withheld: bool
    mime_type: str = "application/json"


@dataclass(frozen=True)
class LoadFiles:
    """The finished load files and what they hold."""

    dat: Path
    opt: Path
    xml: Path
    documents: int
    pages: int


@dataclass(frozen=True)
class OptLine:
    """One page line of an Opticon file."""

    image_key: str
    volume: str
    image_path: str
    doc_break: bool
    folder_break: bool
    box_break: bool
    page_count: int | None


@dataclass(frozen=True)
class EdrmDocument:
    """One EDRM ``<Document>``: its tags by name and its files (File and ExternalFile attributes merged)."""

    doc_id: str
    tags: dict[str, str]
    files: list[dict[str, str]]
    doc_type: str = ""
    mime_type: str = ""


@dataclass(frozen=True)
class EdrmRelationship:
    """One EDRM ``<Relationship>``."""

    type: str
    parent_doc_id: str
    child_doc_id: str


def _refuse(what: str, value: object, fix: str) -> ExportError:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return ExportError(f"{what} {shown} cannot go in a load file: {fix}", code="loadfile_value")


def _check_id(what: str, value: str) -> None:
    if _PLAIN.fullmatch(value):
        return
    if not value or any(c in ",þ®" or c.isspace() or unicodedata.category(c)[0] == "C" for c in value):
        raise _refuse(what, value, "use a non-empty id without commas, þ, ®, spaces or control characters")


def _check_path(what: str, value: str, *, comma_ok: bool = True) -> None:
    if not value or (_PLAIN_PATH.fullmatch(value) and ".." not in value.split("/")):
        return
    if (
        value.startswith("/")
        or "\\" in value
        or ".." in value.split("/")
        or (not comma_ok and "," in value)
        or any(unicodedata.category(c)[0] == "C" for c in value)
    ):
        commas = "" if comma_ok else ", commas"
        raise _refuse(what, value, f"use a bag-relative path with '/' and no '..', '\\'{commas} or control characters")


def _check_document(doc: LoadDocument, page_bates: Sequence[str]) -> None:
    for what, value in (
        ("doc_id", doc.doc_id),
        ("beg_bates", doc.beg_bates),
        ("end_bates", doc.end_bates),
        ("beg_attach", doc.beg_attach),
        ("end_attach", doc.end_attach),
    ):
        _check_id(what, value)
    if doc.doc_id != doc.beg_bates:
        raise _refuse("doc_id", doc.doc_id, f"the control number must equal beg_bates {doc.beg_bates!r}")
    if doc.parent_doc_id is not None:
        _check_id("parent_doc_id", doc.parent_doc_id)
        if doc.parent_doc_id == doc.doc_id:
            raise _refuse("parent_doc_id", doc.parent_doc_id, "a document is not its own parent; pass None")
    if min(doc.pages, doc.native_bytes, doc.text_bytes, doc.image_bytes) < 0:
        raise _refuse("page or byte count of", doc.doc_id, "counts cannot be negative")
    if len(page_bates) != doc.pages:
        raise _refuse(f"{len(page_bates)} page Bates numbers for", doc.doc_id, f"give one per page ({doc.pages})")
    for bates in page_bates:
        _check_id("page Bates number", bates)
    if page_bates and (page_bates[0] != doc.beg_bates or page_bates[-1] != doc.end_bates):
        raise _refuse("page Bates numbers of", doc.doc_id, "the first and last must equal beg_bates and end_bates")
    if doc.image_path and not doc.pages:
        raise _refuse("image_path of", doc.doc_id, "a rendered PDF has at least one page; give its page count")
    if doc.sha256 and not _SHA256.fullmatch(doc.sha256):
        raise _refuse("sha256", doc.sha256, "give 64 lowercase hex digits, or '' if unknown")
    for what, stamp in (("date_created", doc.date_created), ("date_captured", doc.date_captured)):
        if stamp and not _is_utc_iso(stamp):
            raise _refuse(what, stamp, "give an ISO 8601 UTC time such as 2025-03-01T12:00:00Z, or ''")
    _check_path("native_path", doc.native_path)
    _check_path("text_path", doc.text_path)
    _check_path("image_path", doc.image_path, comma_ok=False)


def _is_utc_iso(stamp: str) -> bool:
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return parsed.utcoffset() == timedelta(0)


def _dat_value(value: str) -> str:
    value = _LINE_BREAK.sub(NEWLINE_MARK, value).replace(DC4, " ").replace("\x00", REPLACEMENT)
    value = _SURROGATE.sub(REPLACEMENT, value)
    return QUOTE + value.replace(QUOTE, QUOTE + QUOTE) + QUOTE


def _dat_row(values: Sequence[str]) -> str:
    return DC4.join(_dat_value(v) for v in values) + CRLF


def _flag(value: bool) -> str:
    return "Y" if value else "N"


def _fields(doc: LoadDocument) -> dict[str, str]:
    return {
        "BEGBATES": doc.beg_bates,
        "ENDBATES": doc.end_bates,
        "BEGATTACH": doc.beg_attach,
        "ENDATTACH": doc.end_attach,
        "CUSTODIAN": doc.custodian,
        "AUTHOR": doc.author,
        "PLATFORM": doc.platform,
        "KIND": doc.kind,
        "RECORDID": doc.record_id,
        "STATE": doc.state,
        "DATECREATED": doc.date_created,
        "DATECAPTURED": doc.date_captured,
        "SHA256": doc.sha256,
        "NATIVEPATH": doc.native_path,
        "TEXTPATH": doc.text_path,
        "IMAGEPATH": doc.image_path,
        "PAGECOUNT": str(doc.pages),
        "REDACTED": _flag(doc.redacted),
        "WITHHELD": _flag(doc.withheld),
    }


def _opt_lines(doc: LoadDocument, page_bates: Sequence[str], volume: str) -> str:
    if not doc.image_path:
        return ""
    path = doc.image_path.replace("/", "\\")
    return "".join(
        f"{bates},{volume},{path},{'Y' if i == 0 else ''},,,{doc.pages if i == 0 else ''}{CRLF}"
        for i, bates in enumerate(page_bates)
    )


def _xml(value: str) -> str:
    return _NOT_XML.sub(REPLACEMENT, value)


class _EdrmStream:
    """EDRM XML 1.2 written element by element; only the open elements are held."""

    def __init__(self, out: io.TextIOBase) -> None:
        # A text stream is used as it is (buffered, strict UTF-8); a binary one would get an unbuffered
        # wrapper that turns every tag and attribute into a separate write.
        self._gen = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
        self._gen.startDocument()
        self._start(0, "Root", MajorVersion="1", MinorVersion="2", DataInterchangeType="Update")
        self._start(1, "Fields")
        for name, data_type in EDRM_FIELDS:
            self._empty(2, "Field", FieldID=name, Name=name, DataType=data_type)
        self._end(1, "Fields")
        self._start(1, "Batch")
        self._start(2, "Documents")

    def _start(self, depth: int, tag: str, **attrs: str) -> None:
        self._gen.ignorableWhitespace("\n" + "  " * depth if depth else "")
        self._gen.startElement(tag, AttributesImpl({k: _xml(v) for k, v in attrs.items()}))

    def _end(self, depth: int, tag: str) -> None:
        self._gen.ignorableWhitespace("\n" + "  " * depth)
        self._gen.endElement(tag)

    def _empty(self, depth: int, tag: str, **attrs: str) -> None:
        self._start(depth, tag, **attrs)
        self._gen.endElement(tag)

    def document(self, doc: LoadDocument) -> None:
        self._start(3, "Document", DocID=doc.doc_id, DocType="File", MimeType=doc.mime_type)
        self._start(4, "Tags")
        fields = _fields(doc)
        fields.update(REDACTED=str(doc.redacted).lower(), WITHHELD=str(doc.withheld).lower())
        for name, data_type in EDRM_FIELDS:
            if fields[name]:
                self._empty(5, "Tag", TagName=name, TagDataType=data_type, TagValue=fields[name])
        self._end(4, "Tags")
        self._start(4, "Files")
        for file_type, path, size, digest in (
            ("Native", doc.native_path, doc.native_bytes, doc.sha256),
            ("Text", doc.text_path, doc.text_bytes, ""),
            ("Image", doc.image_path, doc.image_bytes, ""),
        ):
            if path:
                self._start(5, "File", FileType=file_type)
                directory, name = posixpath.split(path)
                extra = {"Hash": digest} if digest else {}
                self._empty(6, "ExternalFile", FilePath=directory, FileName=name, FileSize=str(size), **extra)
                self._end(5, "File")
        self._end(4, "Files")
        self._end(3, "Document")

    def finish(self, relationships: Iterable[str]) -> None:
        self._end(2, "Documents")
        self._start(2, "Relationships")
        for line in relationships:
            parent, child = line.rstrip("\n").split("\t")
            self._empty(3, "Relationship", Type="Attachment", ParentDocID=parent, ChildDocID=child)
        self._end(2, "Relationships")
        self._end(1, "Batch")
        self._end(0, "Root")
        self._gen.ignorableWhitespace("\n")
        self._gen.endDocument()


class LoadFileWriter:
    """Writes ``<name>.dat``, ``<name>.opt`` and ``<name>.xml`` in ``directory``, one document per :meth:`add`."""

    def __init__(self, directory: Path, *, name: str, volume: str = "VOL001") -> None:
        if not _FILE_NAME.fullmatch(name):
            raise _refuse("load file name", name, "use letters, digits, '.', '_' or '-', starting with a letter/digit")
        _check_id("volume", volume)
        self._volume = volume
        self._final = {ext: directory / f"{name}.{ext}" for ext in ("dat", "opt", "xml")}
        existing = [str(p) for p in self._final.values() if p.exists()]
        if existing:
            raise ExportError(
                f"load file {existing[0]} already exists: remove it or choose another name", code="loadfile_exists"
            )
        self._parts = {ext: path.with_name(path.name + ".part") for ext, path in self._final.items()}
        self._stack = ExitStack()
        self._result: LoadFiles | None = None
        self._aborted = False
        self._documents = 0
        self._pages = 0
        try:
            self._dat = self._stack.enter_context(self._parts["dat"].open("w", encoding="utf-8", newline=""))
            self._opt = self._stack.enter_context(self._parts["opt"].open("w", encoding="utf-8", newline=""))
            self._xml_out = self._stack.enter_context(self._parts["xml"].open("w", encoding="utf-8", newline="\n"))
            self._spool: IO[str] = self._stack.enter_context(
                tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115 (the ExitStack closes it)
            )
            self._dat.write(BOM + _dat_row(DAT_FIELDS))
            self._edrm = _EdrmStream(self._xml_out)
        except BaseException:
            self.abort()
            raise

    def add(self, doc: LoadDocument, page_bates: Sequence[str]) -> None:
        """Append one document; a refused document writes nothing, a failed write deletes all three files."""
        if self._result is not None or self._aborted:
            raise ExportError("the load files are already closed: start a new LoadFileWriter", code="loadfile_closed")
        _check_document(doc, page_bates)
        try:
            fields = _fields(doc)
            self._dat.write(_dat_row([fields[name] for name in DAT_FIELDS]))
            self._opt.write(_opt_lines(doc, page_bates, self._volume))
            self._edrm.document(doc)
            if doc.parent_doc_id is not None:
                self._spool.write(f"{doc.parent_doc_id}\t{doc.doc_id}\n")
        except BaseException:
            self.abort()
            raise
        self._documents += 1
        self._pages += doc.pages

    def close(self) -> LoadFiles:
        """Finish the three files and move them into place; calling it again returns the same result."""
        if self._result is not None:
            return self._result
        if self._aborted:
            raise ExportError("the load files were abandoned after an error: write them again", code="loadfile_closed")
        try:
            self._spool.seek(0)
            self._edrm.finish(self._spool)
            for handle in (self._dat, self._opt, self._xml_out):
                handle.flush()
                os.fsync(handle.fileno())
            self._stack.close()
        except BaseException:
            self.abort()
            raise
        moved: list[Path] = []
        try:
            for ext, part in self._parts.items():
                part.replace(self._final[ext])
                moved.append(self._final[ext])
        except BaseException:
            # Half a set of load files is worse than none: take back the ones already moved.
            for final in moved:
                final.unlink(missing_ok=True)
            self.abort()
            raise
        self._result = LoadFiles(
            self._final["dat"], self._final["opt"], self._final["xml"], self._documents, self._pages
        )
        return self._result

    def abort(self) -> None:
        """Close and delete whatever was written; the writer cannot be used afterwards."""
        self._aborted = True
        try:
            self._stack.close()
        finally:
            for part in self._parts.values():
                part.unlink(missing_ok=True)

    def __enter__(self) -> LoadFileWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        elif self._result is None:
            self.abort()


def _format_error(path: Path, line: int, problem: str) -> ExportError:
    return ExportError(f"{path} line {line}: {problem}; regenerate the load file", code="loadfile_format")


def read_dat(path: Path) -> Iterator[dict[str, str]]:
    """Read a Concordance DAT from its conventions alone: BOM, þ qualifiers, DC4 separators, þþ, ® as newline."""
    with path.open("r", encoding="utf-8", newline="") as stream:
        first = stream.readline()
        if not first.startswith(BOM):
            raise _format_error(path, 1, "no UTF-8 byte order mark")
        header = _dat_fields(path, 1, first[len(BOM) :])
        for number, line in enumerate(stream, start=2):
            values = _dat_fields(path, number, line)
            if len(values) != len(header):
                raise _format_error(path, number, f"{len(values)} fields where the header has {len(header)}")
            yield dict(zip(header, values, strict=True))


def _dat_fields(path: Path, number: int, line: str) -> list[str]:
    if not line.endswith(CRLF):
        raise _format_error(path, number, "a record must end with CRLF")
    body, values, pos = line[: -len(CRLF)], [], 0
    while True:
        match = _DAT_VALUE.match(body, pos)
        if match is None:
            raise _format_error(path, number, f"no þ-qualified value at character {pos}")
        values.append(match.group(1).replace(QUOTE + QUOTE, QUOTE).replace(NEWLINE_MARK, "\n"))
        pos = match.end()
        if pos == len(body):
            return values
        if body[pos] != DC4:
            raise _format_error(path, number, f"expected the DC4 separator at character {pos}")
        pos += 1


def read_opt(path: Path) -> Iterator[OptLine]:
    """Read an Opticon OPT: seven comma-separated fields per CRLF line."""
    with path.open("r", encoding="utf-8", newline="") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.endswith(CRLF):
                raise _format_error(path, number, "a line must end with CRLF")
            fields = line[: -len(CRLF)].split(",")
            if len(fields) != 7:
                raise _format_error(path, number, f"{len(fields)} fields where Opticon has 7")
            key, volume, image, doc_break, folder_break, box_break, count = fields
            if any(flag not in ("", "Y") for flag in (doc_break, folder_break, box_break)):
                raise _format_error(path, number, "a break flag must be 'Y' or empty")
            if count and not count.isdigit():
                raise _format_error(path, number, f"page count {count!r} is not a number")
            yield OptLine(
                key,
                volume,
                image,
                doc_break == "Y",
                folder_break == "Y",
                box_break == "Y",
                int(count) if count else None,
            )


def read_edrm(path: Path) -> Iterator[EdrmDocument]:
    """Stream the documents of an EDRM XML file; a tag that no ``<Field>`` declares is refused."""
    declared: set[str] = set()
    for element in _edrm_elements(path, ("Field", "Document")):
        if element.tag == "Field":
            declared.add(element.get("Name", ""))
            continue
        tags = {}
        for tag in element.iter("Tag"):
            name = tag.get("TagName", "")
            if name not in declared:
                raise ExportError(
                    f"{path}: tag {name!r} has no <Field>; regenerate the load file", code="loadfile_format"
                )
            tags[name] = tag.get("TagValue", "")
        files = []
        for file in element.iter("File"):
            external = file.find("ExternalFile")
            files.append({"FileType": file.get("FileType", ""), **(external.attrib if external is not None else {})})
        yield EdrmDocument(
            element.get("DocID", ""), tags, files, element.get("DocType", ""), element.get("MimeType", "")
        )


def read_edrm_relationships(path: Path) -> Iterator[EdrmRelationship]:
    """Stream the ``<Relationship>`` elements of an EDRM XML file."""
    for element in _edrm_elements(path, ("Relationship",)):
        yield EdrmRelationship(element.get("Type", ""), element.get("ParentDocID", ""), element.get("ChildDocID", ""))


def _edrm_elements(path: Path, wanted: tuple[str, ...]) -> Iterator[ET.Element]:
    # Each wanted element is handed out complete and then detached, so memory stays bounded.
    open_elements: list[ET.Element] = []
    try:
        for event, element in ET.iterparse(str(path), events=("start", "end")):
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            if element.tag in wanted:
                yield element
                if open_elements:
                    open_elements[-1].remove(element)
    except ET.ParseError as exc:
        raise ExportError(
            f"{path} is not well-formed XML ({exc}); regenerate the load file", code="loadfile_format"
        ) from None
