"""Step 7: the signed envelopes against the WARC records and version files the package actually holds.

A produced document's version document (a ``resource`` record) and the exchanges it came from
(``evidence``) must all be present with the block digests the envelopes signed, and its
``versions/vNNNN.json`` must be the signed content. A redacted or withheld document's records must be
absent: their presence discloses exempt content. An exchange shared by a produced and an exempt
document is exempt content too; leaving it out is reported as a warning on the produced document,
whose own version record and content still verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from archiver.integrity.envelope import WarcRef
from export.verify_package.bagcheck import Hashed
from export.verify_package.indexcheck import DOCUMENTS, DocumentStatus, Index, Row
from export.verify_package.proofs import SignedVersion
from export.verify_package.report import Findings
from export.verify_package.warcscan import WarcIndex, WarcRecord

WARC_DIR = "data/warc/"
_VERSION_URI = "urn:arsip:record:"


def version_path(doc_id: str, version: int) -> str:
    return f"{DOCUMENTS}{doc_id}/versions/v{version:04d}.json"


@dataclass
class _Refs:
    """Which documents point at each WARC record id."""

    produced: dict[str, list[str]]
    exempt: dict[str, Row]


def _collect(versions: list[SignedVersion], index: Index) -> _Refs:
    refs = _Refs({}, {})
    for signed in versions:
        row = index.by_record.get(signed.record_id)
        if row is None:
            continue
        for ref in (signed.version_ref, *signed.evidence):
            if row.status is DocumentStatus.PRODUCED:
                refs.produced.setdefault(ref.record_id, []).append(row.doc_id)
            else:
                refs.exempt.setdefault(ref.record_id, row)
    return refs


def check_evidence(versions: list[SignedVersion], warcs: WarcIndex, hashed: Mapping[str, Hashed], index: Index,
                   findings: Findings) -> None:
    refs = _collect(versions, index)
    for problem in warcs.problems:
        docs = refs.produced.get(problem.record_id, []) if problem.record_id else []
        findings.error(problem.code, problem.subject, problem.message, docs=sorted(set(docs)))
    for signed in versions:
        row = index.by_record.get(signed.record_id)
        if row is not None and row.status is DocumentStatus.PRODUCED:
            _check_produced(signed, row, warcs.records, hashed, refs, findings)
    _check_exempt(warcs.records, refs, index, findings)
    unreferenced = sorted(r for r, seen in warcs.records.items()
                          if seen.warc_type != "warcinfo" and r not in refs.produced and r not in refs.exempt)
    if unreferenced:
        first = warcs.records[unreferenced[0]]
        more = f" ({len(unreferenced)} records in all)" if len(unreferenced) > 1 else ""
        findings.warning("warc_record_unreferenced", f"{first.file} (record {first.record_id})",
                         f"no envelope in the package refers to this {first.warc_type} record{more}")
    findings.count("warc_records", len(warcs.records))
    if warcs.duplicates:
        findings.count("warc_records_copied_twice", warcs.duplicates)


def _check_produced(signed: SignedVersion, row: Row, records: Mapping[str, WarcRecord], hashed: Mapping[str, Hashed],
                    refs: _Refs, findings: Findings) -> None:
    docs = [row.doc_id]
    document = _find(signed, "version document", signed.version_ref, records, findings, docs)
    expected = f"sha256:{signed.content_sha256}"
    if document is not None and document.warc_type != "resource":
        findings.error("warc_record_altered", signed.subject, f"its version document {document.record_id} in "
                       f"{document.file} is a {document.warc_type} record, not a resource record", docs=docs)
    elif document is not None and (document.payload_digest or document.block_digest) != expected:
        findings.error("version_content_mismatch", signed.subject, f"WARC record {document.record_id} in "
                       f"{document.file} holds content {document.payload_digest or document.block_digest}, "
                       f"but the envelope signed {expected}", docs=docs)
    for ref in signed.evidence:
        if ref.record_id not in records and ref.record_id in refs.exempt:
            exempt = refs.exempt[ref.record_id]
            findings.warning("shared_evidence_withheld", signed.subject, f"source record {ref.record_id} is left out: "
                             f"it also captured {exempt.status} document {exempt.doc_id}")
            continue
        _find(signed, "source record", ref, records, findings, docs)
    path = version_path(row.doc_id, signed.version)
    stored = hashed.get(path)
    if stored is None:
        findings.error("version_file_missing", path, f"is missing: {signed.subject} is produced", docs=docs)
    elif stored.sha256 != signed.content_sha256:
        findings.error("version_content_mismatch", path, f"hashes to {stored.sha256}, but the envelope of "
                       f"{signed.subject} signed content {signed.content_sha256}", docs=docs)
    else:
        findings.count("version_files")


def _find(signed: SignedVersion, what: str, ref: WarcRef, records: Mapping[str, WarcRecord], findings: Findings,
          docs: list[str]) -> WarcRecord | None:
    """The record ``ref`` names, if present with the block digest the envelope signed."""
    found = records.get(ref.record_id)
    if found is None:
        findings.error("warc_record_missing", signed.subject, f"its {what}, WARC record {ref.record_id}, is not in "
                       f"{WARC_DIR}", docs=docs)
        return None
    if found.block_digest != ref.digest:
        findings.error("warc_record_altered", signed.subject, f"its {what}, WARC record {ref.record_id} in "
                       f"{found.file}, has block digest {found.block_digest}, but the envelope signed {ref.digest}",
                       docs=docs)
        return None
    return found


def _check_exempt(records: Mapping[str, WarcRecord], refs: _Refs, index: Index, findings: Findings) -> None:
    """Exempt documents' records, by the ids their envelopes name or by a version URI naming the record."""
    exempt_records = {r.record_id: r for r in index.rows if r.status is not DocumentStatus.PRODUCED}
    for found in records.values():
        row = refs.exempt.get(found.record_id)
        if row is None and found.target_uri and found.target_uri.startswith(_VERSION_URI):
            row = exempt_records.get(found.target_uri[len(_VERSION_URI):].rsplit(":version:", 1)[0])
        if row is None:
            continue
        shared = refs.produced.get(found.record_id)
        also = f"; produced document {shared[0]} refers to it too" if shared else ""
        findings.error("exempt_content_present", f"{found.file} (record {found.record_id})",
                       f"is a {found.warc_type} record of {row.status} document {row.doc_id} (record "
                       f"{row.record_id}): exempt content must not be in the package{also}", docs=[row.doc_id])
