"""data/index.csv and data/package.json: every document row matches its folder, its envelopes and the bag."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from export.verify_package.report import Findings

INDEX = "data/index.csv"
PACKAGE_JSON = "data/package.json"
DOCUMENTS = "data/documents/"
PACKAGE_FORMAT = "arsip.production/1"
INDEX_COLUMNS = ("doc_id", "beg_bates", "end_bates", "record_id", "platform", "platform_id", "kind", "account",
                 "status", "versions", "pdf", "native", "text")


class DocumentStatus(StrEnum):
    PRODUCED = "produced"  # the archived bytes and their WARC records are in the package
    REDACTED = "redacted"  # only derived copies; the original content is exempt
    WITHHELD = "withheld"  # withheld in full; only a notice


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    doc_id: str
    beg_bates: str
    end_bates: str
    record_id: str
    status: DocumentStatus
    versions: int
    files: dict[str, str]  # column (pdf, native, text) -> bag path, only the non-empty ones


@dataclass
class Index:
    """The rows of index.csv, by document and by record; problems are reported by :func:`check_index`."""

    rows: list[Row] = field(default_factory=list)
    by_doc: dict[str, Row] = field(default_factory=dict)
    by_record: dict[str, Row] = field(default_factory=dict)
    problems: list[tuple[str, str, str]] = field(default_factory=list)

    def doc_for_path(self, path: str) -> str | None:
        if not path.startswith(DOCUMENTS):
            return None
        doc = path[len(DOCUMENTS):].split("/", 1)[0]
        return doc if doc in self.by_doc else None

    def doc_for_record(self, record_id: str) -> str | None:
        row = self.by_record.get(record_id)
        return row.doc_id if row else None

    def exempt_records(self) -> set[str]:
        return {r.record_id for r in self.rows if r.status is not DocumentStatus.PRODUCED}


def parse_index(data: bytes | None) -> Index:
    index = Index()
    if data is None:
        return index  # reported as a missing required file
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        header = next(reader, [])
        missing = [c for c in INDEX_COLUMNS if c not in header]
        if missing:
            index.problems.append(("index_malformed", INDEX, f"has no column {', '.join(missing)}"))
            return index
        columns = {name: header.index(name) for name in INDEX_COLUMNS}
        for values in reader:
            _add_row(index, reader.line_num, values, columns, len(header))
    except (UnicodeDecodeError, csv.Error) as exc:
        index.problems.append(("index_malformed", INDEX, f"is not a UTF-8 CSV file ({exc})"))
    return index


def _add_row(index: Index, line: int, values: list[str], columns: Mapping[str, int], width: int) -> None:
    subject = f"{INDEX} line {line}"
    if len(values) != width:
        index.problems.append(("index_row_invalid", subject, f"has {len(values)} fields, the header {width}"))
        return
    get = {name: values[i] for name, i in columns.items()}
    doc_id, status, versions = get["doc_id"], get["status"], get["versions"]
    if not doc_id or "/" in doc_id or doc_id in (".", "..") or status not in set(DocumentStatus) \
            or not versions.isdigit():
        index.problems.append(("index_row_invalid", subject, f"needs a doc_id without '/', a status of "
                               f"{', '.join(DocumentStatus)} and a number of versions; got {doc_id!r}, "
                               f"{status!r}, {versions!r}"))
        return
    if doc_id in index.by_doc or get["record_id"] in index.by_record:
        index.problems.append(("document_duplicate", subject, f"document {doc_id} or record {get['record_id']} "
                               "is listed twice"))
        return
    row = Row(line, doc_id, get["beg_bates"], get["end_bates"], get["record_id"], DocumentStatus(status),
              int(versions), {c: get[c] for c in ("pdf", "native", "text") if get[c]})
    index.rows.append(row)
    index.by_doc[doc_id] = row
    index.by_record[row.record_id] = row


def folders(names: Iterable[str]) -> dict[str, list[str]]:
    """``doc_id -> paths inside data/documents/<doc_id>/`` for every file of the package."""
    found: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if name.startswith(DOCUMENTS):
            doc, _, rest = name[len(DOCUMENTS):].partition("/")
            found[doc].append(rest)
    return found


def check_index(index: Index, names: Iterable[str], envelopes: Counter[str], findings: Findings) -> None:
    """Step 8: rows against folders and files, and against the envelopes of each record."""
    for code, subject, message in index.problems:
        findings.error(code, subject, message)
    present = set(names)
    by_doc = folders(present)
    for row in index.rows:
        _check_folder(row, by_doc.get(row.doc_id), present, findings)
        signed = envelopes.get(row.record_id, 0)
        if signed != row.versions:
            findings.error("version_count_mismatch", f"document {row.doc_id}",
                           f"index.csv says record {row.record_id} has {row.versions} versions, but "
                           f"data/proofs/envelopes.jsonl holds {signed} envelopes for it", docs=[row.doc_id])
    for record_id, count in sorted(envelopes.items()):
        if record_id not in index.by_record:
            findings.error("envelope_unindexed", f"record {record_id}",
                           f"{count} envelopes in data/proofs/envelopes.jsonl belong to no row of index.csv")
    for doc in sorted(set(by_doc) - set(index.by_doc)):
        findings.error("document_unindexed", f"{DOCUMENTS}{doc}/", "is a document folder with no row in index.csv")
    findings.count("documents", len(index.rows))


def _check_folder(row: Row, files: list[str] | None, present: set[str], findings: Findings) -> None:
    folder = f"{DOCUMENTS}{row.doc_id}/"
    if not files:
        findings.error("document_folder_missing", folder, f"index.csv lists {row.doc_id} ({row.status}) but the "
                       "package has no such folder", docs=[row.doc_id])
        return
    originals = [f for f in files if f.startswith("versions/")]
    if row.status is DocumentStatus.PRODUCED and len(originals) != row.versions:
        findings.error("document_files_mismatch", f"{folder}versions/", f"holds {len(originals)} files, but "
                       f"index.csv says {row.versions} versions", docs=[row.doc_id])
    elif row.status is not DocumentStatus.PRODUCED and originals:
        findings.error("exempt_content_present", f"{folder}versions/", f"holds the original archived content of a "
                       f"{row.status} document ({len(originals)} files)", docs=[row.doc_id])
    if row.status is DocumentStatus.REDACTED and not any(f.startswith("redacted/") for f in files):
        findings.error("document_files_mismatch", f"{folder}redacted/", "is missing: a redacted document carries "
                       "its redacted copies", docs=[row.doc_id])
    if row.status is DocumentStatus.WITHHELD and "withheld.json" not in files:
        findings.error("document_files_mismatch", f"{folder}withheld.json", "is missing: a withheld document "
                       "carries a withholding notice", docs=[row.doc_id])
    for column, path in sorted(row.files.items()):
        if path not in present or not path.startswith(folder):
            findings.error("document_file_missing", path, f"index.csv names it as the {column} of {row.doc_id}, "
                           f"but the package has no such file in {folder}", docs=[row.doc_id])


def check_package_json(data: bytes | None, index: Index, bag_info: Mapping[str, str | None],
                       checkpoint_size: int | None, findings: Findings) -> None:
    """package.json agrees with bag-info.txt, index.csv and the checkpoint the proofs use."""
    if data is None:
        return  # reported as a missing required file
    try:
        meta: Any = json.loads(data)
    except ValueError as exc:
        findings.error("package_json_invalid", PACKAGE_JSON, f"is not JSON ({exc})")
        return
    if not isinstance(meta, dict) or meta.get("format") != PACKAGE_FORMAT:
        findings.error("package_json_invalid", PACKAGE_JSON, f"is not an {PACKAGE_FORMAT} description")
        return
    bates: dict[str, Any] = meta["bates"] if isinstance(meta.get("bates"), dict) else {}
    expected: list[tuple[str, Any, Any, str]] = [
        ("request", meta.get("request"), bag_info.get("External-Identifier"), "bag-info.txt External-Identifier"),
        ("production", meta.get("production"), bag_info.get("Arsip-Production-Id"), "bag-info.txt Arsip-Production-Id"),
        ("documents", meta.get("documents"), len(index.rows), "the rows of index.csv"),
    ]
    if index.rows:
        expected += [("bates.first", bates.get("first"), index.rows[0].beg_bates, "index.csv's first beg_bates"),
                     ("bates.last", bates.get("last"), index.rows[-1].end_bates, "index.csv's last end_bates")]
    if "checkpoint_size" in meta and checkpoint_size is not None:
        expected.append(("checkpoint_size", meta["checkpoint_size"], checkpoint_size, "data/proofs/checkpoint.note"))
    for what, declared, actual, source in expected:
        if declared != actual:
            findings.error("package_metadata_mismatch", PACKAGE_JSON, f"{what} is {declared!r}, but {source} "
                           f"says {actual!r}")
