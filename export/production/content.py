"""One record's releasable content: original documents when nothing is exempt, burned copies otherwise.

Redaction decisions name a span of one version's field. The exempt words must be gone from every
output, so each decided value is also burned wherever it recurs: in the other fields of that version
(``redacted_document`` propagates) and in every other version of the record (this module turns each
recurrence into a span of the same decision before burning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archiver.db.queries import RecordDetail, VersionDetail
from archiver.wiring import Archive
from export.redaction.burn import redacted_document, withheld_document
from export.redaction.model import OriginalRef, Redaction
from export.requests import documents
from export.requests.case import Case, RedactionDecision


@dataclass(frozen=True)
class ReleasedVersion:
    version: VersionDetail
    original: bytes | None  # the exact archived document, only when the record is released unredacted
    released: dict[str, Any]  # what the recipient gets: the document, its redacted copy or the withheld notice
    text: str  # the released text ("" when withheld)
    markers: tuple[tuple[int, int, str], ...] = field(default=())  # (start, end, code) of markers in ``text``


@dataclass(frozen=True)
class RecordContent:
    detail: RecordDetail
    status: str  # produced | redacted | withheld
    versions: tuple[ReleasedVersion, ...]
    secrets: tuple[str, ...]  # the exempt values, for the final leak check of every output


def record_content(archive: Archive, case: Case, detail: RecordDetail, status: str) -> RecordContent:
    versions = detail.versions
    if status == "withheld":
        held = case.withheld[detail.record.id]
        return RecordContent(detail, status, tuple(
            ReleasedVersion(v, None, withheld_document(_original(detail, v), held.code, held.reason, held.reviewer,
                                                       held.decided_at), "") for v in versions), ())
    raw = [documents.document_bytes(archive, v) for v in versions]
    if status == "produced":
        released = []
        for version, data in zip(versions, raw, strict=True):
            doc = documents.loads(data)
            released.append(ReleasedVersion(version, data, doc, str(doc.get("text") or "")))
        return RecordContent(detail, status, tuple(released), ())
    return _redacted(detail, raw, case.redactions_for(detail.record.id))


def _redacted(detail: RecordDetail, raw: Sequence[bytes], decisions: Sequence[RedactionDecision]) -> RecordContent:
    docs = [documents.loads(data) for data in raw]
    numbers = {v.number: i for i, v in enumerate(detail.versions)}
    secrets = [(d, documents.field_value(docs[numbers[d.version]], d.field)[d.start:d.end]) for d in decisions
               if d.version in numbers]
    released = []
    for version, doc in zip(detail.versions, docs, strict=True):
        spans: dict[str, list[Redaction]] = {}
        for decision, secret in secrets:
            if decision.version == version.number:
                spans.setdefault(decision.field, []).append(_redaction(decision, decision.start, decision.end))
                continue
            for start in documents.occurrences(documents.lookup(doc, decision.field), secret):
                spans.setdefault(decision.field, []).append(_redaction(decision, start, start + len(secret)))
        copy = redacted_document(doc, spans, original=_original(detail, version)) if spans else dict(doc)
        markers = tuple((int(m["output_start"]), int(m["output_end"]), str(m["code"]))
                        for m in copy.get("redactions", ()) if m.get("field") == "text")
        released.append(ReleasedVersion(version, None, copy, str(copy.get("text") or ""), markers))
    return RecordContent(detail, "redacted", tuple(released), tuple(s for _d, s in secrets if len(s.strip()) >= 3))


def _redaction(decision: RedactionDecision, start: int, end: int) -> Redaction:
    return Redaction(field=decision.field, start=start, end=end, code=decision.code, reason=decision.reason,
                     reviewer=decision.reviewer, decided_at=decision.decided_at)


def _original(detail: RecordDetail, version: VersionDetail) -> OriginalRef:
    return OriginalRef(record_id=detail.record.id, version=version.number, content_sha256=version.content_sha256,
                       envelope_sha256=version.envelope_sha256)

