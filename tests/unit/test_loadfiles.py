"""Load files: exact DAT/OPT/EDRM bytes, hostile values read back by independent readers, streaming memory."""

from __future__ import annotations

import dataclasses
import tracemalloc
import xml.etree.ElementTree as ET
import xml.sax
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from export.errors import ExportError
from export.production.loadfiles import (
    DAT_FIELDS,
    EdrmRelationship,
    LoadDocument,
    LoadFiles,
    LoadFileWriter,
    OptLine,
    read_dat,
    read_edrm,
    read_edrm_relationships,
    read_opt,
)

SHA = "ab" * 32
HEADER = (
    "BEGBATES ENDBATES BEGATTACH ENDATTACH CUSTODIAN AUTHOR PLATFORM KIND RECORDID STATE DATECREATED DATECAPTURED "
    "SHA256 NATIVEPATH TEXTPATH IMAGEPATH PAGECOUNT REDACTED WITHHELD"
).split()


def bates(n: int) -> str:
    return f"ABC{n:06d}"


def make_doc(
    n: int, pages: int = 1, *, parent: int | None = None, family_end: int | None = None, **changes: Any
) -> tuple[LoadDocument, list[str]]:
    """A document starting at Bates ``n``; returns it with its page Bates numbers."""
    first, last = bates(n), bates(n + max(pages, 1) - 1)
    doc = LoadDocument(
        doc_id=first,
        beg_bates=first,
        end_bates=last,
        beg_attach=bates(parent) if parent is not None else first,
        end_attach=bates(family_end) if family_end is not None else last,
        parent_doc_id=bates(parent) if parent is not None else None,
        pages=pages,
        custodian="@kominfo",
        author="Humas Kominfo",
        platform="mastodon",
        kind="post",
        record_id=f"rec-{n}",
        state="active",
        date_created="2025-03-01T12:00:00Z",
        date_captured="2025-03-02T08:30:00Z",
        sha256=SHA,
        native_path=f"records/{first}/record.json",
        text_path=f"records/{first}/record.txt",
        image_path=f"records/{first}/record.pdf",
        native_bytes=1234,
        text_bytes=321,
        image_bytes=45678,
        redacted=False,
        withheld=False,
    )
    doc = dataclasses.replace(doc, **changes)
    return doc, [bates(n + i) for i in range(doc.pages)]


def write(directory: Path, *docs: tuple[LoadDocument, list[str]]) -> LoadFiles:
    with LoadFileWriter(directory, name="PROD001") as writer:
        for doc, pages in docs:
            writer.add(doc, pages)
    return writer.close()


# --- DAT ---------------------------------------------------------------------------------------------------------


def test_dat_fields_are_the_documented_columns_in_order():
    assert tuple(HEADER) == DAT_FIELDS


def test_dat_header_is_exact_bytes_with_bom_dc4_thorn_and_crlf(tmp_path: Path):
    files = write(tmp_path)
    expected = b"\xef\xbb\xbf" + "\x14".join(f"\u00fe{name}\u00fe" for name in HEADER).encode() + b"\r\n"
    assert files.dat.read_bytes() == expected
    assert files.dat.read_bytes().startswith(b"\xef\xbb\xbf\xc3\xbeBEGBATES\xc3\xbe\x14\xc3\xbeENDBATES")


def test_dat_record_line_is_exact(tmp_path: Path):
    files = write(tmp_path, make_doc(1, pages=3))
    record = files.dat.read_bytes().split(b"\r\n")[1].decode()
    values = [
        "ABC000001", "ABC000003", "ABC000001", "ABC000003", "@kominfo", "Humas Kominfo", "mastodon", "post", "rec-1",
        "active", "2025-03-01T12:00:00Z", "2025-03-02T08:30:00Z", SHA, "records/ABC000001/record.json",
        "records/ABC000001/record.txt", "records/ABC000001/record.pdf", "3", "N", "N",
    ]  # fmt: skip
    assert record == "\x14".join(f"\u00fe{v}\u00fe" for v in values)


# (written value, what a Concordance reader gets back) — the DAT convention decides the second column.
DAT_HOSTILE = [
    ("thorn þ inside", "thorn þ inside"),
    ("þ", "þ"),
    ("þþ and þ at the end þ", "þþ and þ at the end þ"),
    ("CRLF\r\nCR\rLF\nend", "CRLF\nCR\nLF\nend"),
    ("\r\n\r\n", "\n\n"),
    ("literal ® sign", "literal \n sign"),
    ("DC4 \x14 inside", "DC4   inside"),
    ("NUL\x00byte", "NUL\ufffdbyte"),
    ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ("emoji 🇮🇩👩🏽‍💻", "emoji 🇮🇩👩🏽‍💻"),
    ("RTL \u202egnp.exe", "RTL \u202egnp.exe"),
    ("line sep \u2028 para \u2029 nel \x85 vt \x0b ff \x0c", "line sep \u2028 para \u2029 nel \x85 vt \x0b ff \x0c"),
    ('bom \ufeff; semi;colon, comma "quote"', 'bom \ufeff; semi;colon, comma "quote"'),
    ("x" * 1_000_000 + "þ\r\n", "x" * 1_000_000 + "þ\n"),
]


@pytest.mark.parametrize(("value", "read_back"), DAT_HOSTILE, ids=range(len(DAT_HOSTILE)))
def test_hostile_text_keeps_dat_rows_intact_and_reads_back_by_convention(tmp_path: Path, value: str, read_back: str):
    files = write(tmp_path, make_doc(1, author=value, state=value), make_doc(2))
    rows = list(read_dat(files.dat))
    assert [row["BEGBATES"] for row in rows] == ["ABC000001", "ABC000002"]
    assert rows[0]["AUTHOR"] == read_back
    assert rows[0]["STATE"] == read_back
    assert rows[0]["RECORDID"] == "rec-1"  # the fields after the hostile one did not shift
    assert rows[1]["AUTHOR"] == "Humas Kominfo"
    assert files.dat.read_bytes().count(b"\r\n") == 3  # header and two records, nothing else breaks a line


def test_read_dat_reads_back_every_field(tmp_path: Path):
    files = write(tmp_path, make_doc(1, pages=2, redacted=True, date_created=""))
    (row,) = read_dat(files.dat)
    assert row["ENDBATES"] == "ABC000002"
    assert row["PAGECOUNT"] == "2"
    assert row["REDACTED"] == "Y"
    assert row["WITHHELD"] == "N"
    assert row["DATECREATED"] == ""
    assert row["NATIVEPATH"] == "records/ABC000001/record.json"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("\u00feA\u00fe\r\n", "byte order mark"),
        ("\ufeff\u00feA\u00fe\x14\u00feB\u00fe\r\n\u00fe1\u00fe\x14\u00fe2\u00fe\n", "CRLF"),
        ("\ufeff\u00feA\u00fe\x14\u00feB\u00fe\r\n\u00fe1\u00fe\r\n", "1 fields"),
        ("\ufeff\u00feA\u00fe\x14\u00feB\u00fe\r\n\u00fe1\u00fe\x14unquoted\r\n", "qualified"),
        ("\ufeff\u00feA\u00fe\r\n\u00fe1\u00fe\u00fe\r\n", "separator"),
        ("\ufeff\u00feA\u00fe\x14\u00feB\u00fe\r\n\u00fe1\u00fe,\u00fe2\u00fe\r\n", "separator"),
    ],
    ids=["no-bom", "lf-ending", "short-row", "unqualified", "stray-thorn", "comma-separator"],
)
def test_read_dat_refuses_malformed_files(tmp_path: Path, content: str, problem: str):
    path = tmp_path / "bad.dat"
    path.write_bytes(content.encode())
    with pytest.raises(ExportError, match=problem) as caught:
        list(read_dat(path))
    assert caught.value.code == "loadfile_format"


# --- OPT ---------------------------------------------------------------------------------------------------------


def test_opt_lines_for_a_three_page_document_are_exact(tmp_path: Path):
    files = write(tmp_path, make_doc(1, pages=3), make_doc(4))
    assert files.opt.read_bytes() == (
        b"ABC000001,VOL001,records\\ABC000001\\record.pdf,Y,,,3\r\n"
        b"ABC000002,VOL001,records\\ABC000001\\record.pdf,,,,\r\n"
        b"ABC000003,VOL001,records\\ABC000001\\record.pdf,,,,\r\n"
        b"ABC000004,VOL001,records\\ABC000004\\record.pdf,Y,,,1\r\n"
    )


def test_read_opt_reads_breaks_and_page_counts(tmp_path: Path):
    files = write(tmp_path, make_doc(1, pages=2))
    assert list(read_opt(files.opt)) == [
        OptLine("ABC000001", "VOL001", "records\\ABC000001\\record.pdf", True, False, False, 2),
        OptLine("ABC000002", "VOL001", "records\\ABC000001\\record.pdf", False, False, False, None),
    ]


def test_document_without_a_pdf_gets_no_opt_lines_but_stays_in_dat_and_edrm(tmp_path: Path):
    files = write(tmp_path, make_doc(1, pages=2, image_path="", image_bytes=0), make_doc(3))
    assert [line.image_key for line in read_opt(files.opt)] == ["ABC000003"]
    assert [row["IMAGEPATH"] for row in read_dat(files.dat)] == ["", "records/ABC000003/record.pdf"]
    first = next(read_edrm(files.xml))
    assert [f["FileType"] for f in first.files] == ["Native", "Text"]


def test_volume_is_written_on_every_page(tmp_path: Path):
    with LoadFileWriter(tmp_path, name="P", volume="VOL07") as writer:
        writer.add(*make_doc(1, pages=2))
    assert {line.volume for line in read_opt(writer.close().opt)} == {"VOL07"}


@pytest.mark.parametrize(
    "content", ["A,V,p,Y,,\r\n", "A,V,p,Y,,,3\n", "A,V,p,yes,,,3\r\n", "A,V,p,Y,,,three\r\n", "A,V,p,Y,,,,3\r\n"]
)
def test_read_opt_refuses_malformed_lines(tmp_path: Path, content: str):
    path = tmp_path / "bad.opt"
    path.write_bytes(content.encode())
    with pytest.raises(ExportError) as caught:
        list(read_opt(path))
    assert caught.value.code == "loadfile_format"


# --- EDRM --------------------------------------------------------------------------------------------------------

# EDRM keeps CR/LF exactly (as character references); only what XML 1.0 cannot hold becomes U+FFFD.
EDRM_HOSTILE = [
    ("þ and þþ", "þ and þþ"),
    ("literal ® sign", "literal ® sign"),
    ("CRLF\r\nCR\rLF\nTAB\tend", "CRLF\r\nCR\rLF\nTAB\tend"),
    ("DC4 \x14 BEL \x07 ESC \x1b", "DC4 \ufffd BEL \ufffd ESC \ufffd"),
    ("NUL\x00byte", "NUL\ufffdbyte"),
    ("lone \ud800 and \udfff surrogates", "lone \ufffd and \ufffd surrogates"),
    ("non-characters \ufffe \uffff", "non-characters \ufffd \ufffd"),
    ("emoji 🇮🇩👩🏽‍💻", "emoji 🇮🇩👩🏽‍💻"),
    ("RTL \u202egnp.exe", "RTL \u202egnp.exe"),
    ("markup <b>&amp;</b> \"q\" 'a' ]]> <!--", "markup <b>&amp;</b> \"q\" 'a' ]]> <!--"),
    ("x" * 1_000_000 + "\r\n", "x" * 1_000_000 + "\r\n"),
]


@pytest.mark.parametrize(("value", "read_back"), EDRM_HOSTILE, ids=range(len(EDRM_HOSTILE)))
def test_hostile_text_stays_well_formed_in_edrm_and_reads_back(tmp_path: Path, value: str, read_back: str):
    files = write(tmp_path, make_doc(1, author=value, mime_type=value), make_doc(2))
    ET.parse(files.xml)  # well-formed, whole-tree parser
    xml.sax.parse(str(files.xml), xml.sax.ContentHandler())  # and a second, event parser
    first, second = read_edrm(files.xml)
    assert first.tags["AUTHOR"] == read_back
    assert first.mime_type == read_back
    assert first.tags["RECORDID"] == "rec-1"
    assert second.doc_id == "ABC000002"


def test_edrm_document_carries_tags_and_files(tmp_path: Path):
    files = write(tmp_path, make_doc(1, pages=3, withheld=True, date_created=""))
    (doc,) = read_edrm(files.xml)
    assert (doc.doc_id, doc.doc_type, doc.mime_type) == ("ABC000001", "File", "application/json")
    assert doc.tags == {
        "BEGBATES": "ABC000001", "ENDBATES": "ABC000003", "BEGATTACH": "ABC000001", "ENDATTACH": "ABC000003",
        "CUSTODIAN": "@kominfo", "AUTHOR": "Humas Kominfo", "PLATFORM": "mastodon", "KIND": "post",
        "RECORDID": "rec-1", "STATE": "active", "DATECAPTURED": "2025-03-02T08:30:00Z", "SHA256": SHA,
        "PAGECOUNT": "3", "REDACTED": "false", "WITHHELD": "true",
    }  # fmt: skip
    assert doc.files == [
        {"FileType": "Native", "FilePath": "records/ABC000001", "FileName": "record.json", "FileSize": "1234",
         "Hash": SHA},
        {"FileType": "Text", "FilePath": "records/ABC000001", "FileName": "record.txt", "FileSize": "321"},
        {"FileType": "Image", "FilePath": "records/ABC000001", "FileName": "record.pdf", "FileSize": "45678"},
    ]  # fmt: skip


def test_edrm_structure_is_root_fields_then_batch_with_documents_and_relationships(tmp_path: Path):
    files = write(tmp_path, make_doc(1), make_doc(2, parent=1))
    text = files.xml.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
    root = ET.parse(files.xml).getroot()
    assert root.tag == "Root"
    assert root.attrib == {"MajorVersion": "1", "MinorVersion": "2", "DataInterchangeType": "Update"}
    assert [child.tag for child in root] == ["Fields", "Batch"]
    assert [child.tag for child in root.find("Batch")] == ["Documents", "Relationships"]  # type: ignore[union-attr]
    fields = root.findall("Fields/Field")
    assert {f.get("Name") for f in fields} == set(DAT_FIELDS) - {"NATIVEPATH", "TEXTPATH", "IMAGEPATH"}
    assert all(set(f.attrib) == {"FieldID", "Name", "DataType"} for f in fields)
    assert {f.get("Name"): f.get("DataType") for f in fields}["DATECREATED"] == "DateTime"
    assert len(root.findall("Batch/Documents/Document")) == 2


def test_family_of_a_post_and_its_comments_is_linked_as_parent_and_children(tmp_path: Path):
    files = write(
        tmp_path,
        make_doc(1, pages=3, family_end=5),
        make_doc(4, parent=1, family_end=5, kind="comment"),
        make_doc(5, parent=1, family_end=5, kind="comment"),
        make_doc(6),
    )
    assert list(read_edrm_relationships(files.xml)) == [
        EdrmRelationship("Attachment", "ABC000001", "ABC000004"),
        EdrmRelationship("Attachment", "ABC000001", "ABC000005"),
    ]
    rows = list(read_dat(files.dat))
    assert [(r["BEGATTACH"], r["ENDATTACH"]) for r in rows] == [("ABC000001", "ABC000005")] * 3 + [
        ("ABC000006", "ABC000006")
    ]
    docs = {d.doc_id: d for d in read_edrm(files.xml)}
    assert docs["ABC000005"].tags["BEGATTACH"] == "ABC000001"


def test_read_edrm_refuses_a_tag_without_a_field(tmp_path: Path):
    path = tmp_path / "bad.xml"
    path.write_text(
        '<Root><Fields><Field FieldID="A" Name="A" DataType="Text"/></Fields><Batch><Documents>'
        '<Document DocID="X"><Tags><Tag TagName="B" TagDataType="Text" TagValue="1"/></Tags></Document>'
        "</Documents></Batch></Root>",
        encoding="utf-8",
    )
    with pytest.raises(ExportError, match="'B'") as caught:
        list(read_edrm(path))
    assert caught.value.code == "loadfile_format"


def test_read_edrm_refuses_xml_that_is_not_well_formed(tmp_path: Path):
    path = tmp_path / "bad.xml"
    path.write_text('<Root><Batch><Documents><Document DocID="X"></Documents>', encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        list(read_edrm(path))
    assert caught.value.code == "loadfile_format"


# --- validation and failure -------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", [2, 4, 0])
def test_page_bates_that_do_not_match_the_page_count_are_refused(tmp_path: Path, given: int):
    doc, _ = make_doc(1, pages=3)
    with LoadFileWriter(tmp_path, name="P") as writer:
        with pytest.raises(ExportError, match="one per page") as caught:
            writer.add(doc, [bates(1 + i) for i in range(given)])
        assert caught.value.code == "loadfile_value"


def test_page_bates_must_start_and_end_at_the_document_range(tmp_path: Path):
    doc, _ = make_doc(1, pages=2)
    with LoadFileWriter(tmp_path, name="P") as writer, pytest.raises(ExportError, match="first and last"):
        writer.add(doc, ["ABC000001", "ABC000009"])


def test_comma_in_image_path_is_refused(tmp_path: Path):
    doc, pages = make_doc(1, image_path="records/ABC000001/a,b.pdf")
    with LoadFileWriter(tmp_path, name="P") as writer, pytest.raises(ExportError, match="commas") as caught:
        writer.add(doc, pages)
    assert caught.value.code == "loadfile_value"


@pytest.mark.parametrize(
    "bad_id", ["", "ABC,001", "ABC\n001", "ABC\r001", "ABC\x14001", " ABC001", "ABC\u202e001", "ABCþ001", "ABC®001"]
)
def test_unusable_ids_and_bates_numbers_are_refused_on_one_line(tmp_path: Path, bad_id: str):
    doc, _ = make_doc(1)
    doc = dataclasses.replace(doc, doc_id=bad_id, beg_bates=bad_id, beg_attach=bad_id)
    with LoadFileWriter(tmp_path, name="P") as writer, pytest.raises(ExportError) as caught:
        writer.add(doc, [bad_id])
    assert caught.value.code == "loadfile_value"
    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"doc_id": "ABC000002"},
        {"parent_doc_id": "ABC000001"},
        {"sha256": "NOTHEX"},
        {"date_created": "2025-03-01T12:00:00+07:00"},
        {"date_captured": "yesterday"},
        {"native_path": "/etc/passwd"},
        {"text_path": "records/../../x.txt"},
        {"image_path": "records\\ABC000001\\record.pdf"},
        {"native_bytes": -1},
    ],
)
def test_inconsistent_documents_are_refused(tmp_path: Path, changes: dict[str, Any]):
    doc, pages = make_doc(1, **changes)
    with LoadFileWriter(tmp_path, name="P") as writer, pytest.raises(ExportError) as caught:
        writer.add(doc, pages)
    assert caught.value.code == "loadfile_value"


def test_a_refused_document_writes_nothing_and_the_writer_goes_on(tmp_path: Path):
    with LoadFileWriter(tmp_path, name="P") as writer:
        writer.add(*make_doc(1))
        with pytest.raises(ExportError):
            writer.add(make_doc(2)[0], [])
        writer.add(*make_doc(3))
    files = writer.close()
    assert (files.documents, files.pages) == (2, 2)
    assert [row["BEGBATES"] for row in read_dat(files.dat)] == ["ABC000001", "ABC000003"]
    assert [line.image_key for line in read_opt(files.opt)] == ["ABC000001", "ABC000003"]
    assert [d.doc_id for d in read_edrm(files.xml)] == ["ABC000001", "ABC000003"]


def test_a_failure_inside_with_leaves_no_files(tmp_path: Path):
    with pytest.raises(RuntimeError), LoadFileWriter(tmp_path, name="P") as writer:
        writer.add(*make_doc(1))
        writer.add(*make_doc(2, parent=1))
        raise RuntimeError("rendering failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError) as caught:
        writer.close()
    assert caught.value.code == "loadfile_closed"


class FullDisk:
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_failed_write_deletes_the_files_even_outside_with(tmp_path: Path):
    writer = LoadFileWriter(tmp_path, name="P")
    writer.add(*make_doc(1))
    writer._opt = FullDisk()  # type: ignore[assignment]
    with pytest.raises(OSError, match="No space"):
        writer.add(*make_doc(2))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError) as caught:
        writer.close()
    assert caught.value.code == "loadfile_closed"


def test_files_exist_only_as_parts_until_close(tmp_path: Path):
    writer = LoadFileWriter(tmp_path, name="P")
    writer.add(*make_doc(1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P.dat.part", "P.opt.part", "P.xml.part"]
    files = writer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P.dat", "P.opt", "P.xml"]
    assert writer.close() == files
    with pytest.raises(ExportError) as caught:
        writer.add(*make_doc(2))
    assert caught.value.code == "loadfile_closed"


def test_existing_load_files_are_not_overwritten(tmp_path: Path):
    (tmp_path / "P.opt").write_text("keep me")
    with pytest.raises(ExportError) as caught:
        LoadFileWriter(tmp_path, name="P")
    assert caught.value.code == "loadfile_exists"
    assert [p.name for p in tmp_path.iterdir()] == ["P.opt"]
    assert (tmp_path / "P.opt").read_text() == "keep me"


@pytest.mark.parametrize("name", ["", "../P", "a/b", ".hidden", "P Q"])
def test_unusable_load_file_names_are_refused(tmp_path: Path, name: str):
    with pytest.raises(ExportError) as caught:
        LoadFileWriter(tmp_path, name=name)
    assert caught.value.code == "loadfile_value"
    assert list(tmp_path.iterdir()) == []


def test_same_documents_give_the_same_bytes(tmp_path: Path):
    docs = [make_doc(1, pages=2), make_doc(3, parent=1)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = write(tmp_path / "a", *docs), write(tmp_path / "b", *docs)
    for x, y in ((a.dat, b.dat), (a.opt, b.opt), (a.xml, b.xml)):
        assert x.read_bytes() == y.read_bytes()


# --- streaming ---------------------------------------------------------------------------------------------------


def many_documents(count: int) -> Iterator[tuple[LoadDocument, list[str]]]:
    # A post with two comments, repeated: every third document starts a family of three.
    for i in range(count):
        n = 1 + i * 2
        head = n - 2 * (i % 3)
        yield make_doc(n, pages=2, parent=head if i % 3 else None, family_end=head + 5, author="a" * 200)


@pytest.mark.slow
def test_writing_20000_documents_keeps_memory_bounded(tmp_path: Path):
    # 20,000 (not the production bound of 100,000) keeps the suite fast under tracemalloc; the writer holds
    # no per-document state, so a flat peak here is the same flat peak at any count.
    tracemalloc.start()
    try:
        with LoadFileWriter(tmp_path, name="P") as writer:
            for doc, pages in many_documents(20_000):
                writer.add(doc, pages)
        files = writer.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert (files.documents, files.pages) == (20_000, 40_000)
    assert files.dat.stat().st_size > 8 * 1024 * 1024  # the output is far larger than the memory used
    assert sum(1 for _ in read_edrm_relationships(files.xml)) == 13_333
