"""Render a signed disposition certificate as PDF: a NARA certificate or a JRA berita acara with its list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from archiver.clock import parse_timestamp
from export.certificate_model import Certificate, listed_record, parse_certificate
from export.certificate_wording import Wording, statement, wording
from export.errors import ExportError
from export.pdf import SIGNATURE_ROW, PdfDocument
from export.text import visible

LIST_COLUMNS = (9.0, 34.0, 30.0, 16.0, 30.0, 21.0, 14.0, 26.0)  # mm; sums to the A4 text width
SHA_PREFIX = 16


def render_certificate_pdf(signed: Mapping[str, Any], records: Iterable[Mapping[str, Any]], *,
                           max_listed: int = 2000) -> bytes:
    """PDF bytes for ``signed`` (``{"certificate", "key_id", "signature"}``) and its record list.

    ``records`` (the parsed lines of records.jsonl) is streamed: the first ``max_listed`` rows are
    tabulated, the rest only counted. The PDF's creation date is the certificate's ``executed_at``
    and nothing else varies, so the same input always renders to the same bytes.
    """
    if max_listed < 0:
        raise ExportError("max_listed must be zero or more", code="invalid_argument")
    cert = parse_certificate(signed)
    words = wording(cert)
    batch = visible(cert.batch_id, limit=80)
    doc = PdfDocument(title=f"{words.title} {batch}", subject=f"Arsip disposition certificate {batch}",
                      author=visible(cert.archive_origin, limit=200), created=cert.executed_at,
                      language=words.language, footer=f"{words.title} {batch} \u00b7 {words.page_footer}")
    _opening(doc, cert, words)
    _approvals(doc, cert, words)
    _summary(doc, cert, words)
    _integrity(doc, cert, words)
    if words.closing:
        doc.paragraph(words.closing)
    _signatures(doc, cert, words)
    _record_list(doc, cert, words, records, max_listed)
    return doc.to_bytes()


def _opening(doc: PdfDocument, cert: Certificate, words: Wording) -> None:
    doc.heading(words.title.upper() if words.language == "id" else words.title, size=15)
    doc.paragraph(words.intro, size=7.5)
    at = cert.executed_at
    values = (cert.batch_id, cert.archive_origin, cert.agency, f"{cert.profile} / {cert.action}",
              _when(cert.created_at), f"{at:%Y-%m-%d %H:%M:%S} UTC", cert.executed_by, cert.schedule_fingerprint)
    for label, value in zip(words.fields, values, strict=True):
        doc.field(label, visible(value), mono=label == words.fields[-1])
    doc.space()
    for text in statement(cert):
        doc.paragraph(text)


def _approvals(doc: PdfDocument, cert: Certificate, words: Wording) -> None:
    doc.heading(words.approvals)
    if not cert.approvals:
        doc.paragraph(words.no_approvals)
    for number, approval in enumerate(cert.approvals, start=1):
        line = f"{number}. {visible(approval.by)} \u2014 {visible(approval.role)} \u2014 {_when(approval.at)}"
        if approval.reference:
            line += f" \u2014 {words.reference} {visible(approval.reference)}"
        doc.paragraph(line)


def _summary(doc: PdfDocument, cert: Certificate, words: Wording) -> None:
    doc.heading(words.summary)
    for item in cert.by_item:
        doc.paragraph(words.item_line.format(item=visible(item.item), title=visible(item.title),
                                             authority=visible(item.authority), records=item.records))
    counts = (cert.records, cert.versions, cert.objects_deleted, cert.objects_written)
    for label, count in zip(words.totals, counts, strict=True):
        doc.field(label, str(count))


def _integrity(doc: PdfDocument, cert: Certificate, words: Wording) -> None:
    heading, *labels = words.integrity
    doc.heading(heading)
    values = (str(cert.log_size), cert.log_root, cert.list_key, cert.list_sha256, str(cert.list_count),
              cert.body_sha256, cert.key_id, cert.signature)
    for label, value in zip(labels, values, strict=True):
        doc.field(label, visible(value, limit=1000), mono=True)
    doc.space(2)
    doc.paragraph(words.verify_note, size=7.5)


def _signatures(doc: PdfDocument, cert: Certificate, words: Wording) -> None:
    doc.heading(words.signatures, keep=SIGNATURE_ROW)
    blocks = [(words.executed_heading, "", visible(cert.executed_by, limit=120),
               words.signed_note.format(at=f"{cert.executed_at:%Y-%m-%d %H:%M:%S} UTC"))]
    blocks += [(words.approved_heading, visible(a.role, limit=120), visible(a.by, limit=120),
                words.signed_note.format(at=_when(a.at))) for a in cert.approvals]
    doc.signature_grid(blocks)


def _record_list(doc: PdfDocument, cert: Certificate, words: Wording, records: Iterable[Mapping[str, Any]],
                 max_listed: int) -> None:
    doc.new_page()
    doc.heading(words.list_title)
    doc.field(words.integrity[3], visible(cert.list_key), mono=True)
    doc.field(words.integrity[4], visible(cert.list_sha256), mono=True)
    doc.space(2)
    table = doc.table(words.columns, LIST_COLUMNS, mono_columns=(7,))
    listed = 0
    for row in records:
        listed += 1
        if listed <= max_listed:
            table.add(_cells(listed, row))
    if listed > max_listed:
        doc.space(2)
        doc.paragraph(words.more.format(count=listed - max_listed, key=visible(cert.list_key)), bold=True)
    if listed != cert.list_count:
        doc.paragraph(words.mismatch.format(listed=listed, count=cert.list_count), bold=True)


def _when(text: str) -> str:
    """A recorded time as 'YYYY-MM-DD hh:mm:ss UTC'; text that is not a time is shown as it is."""
    try:
        return f"{parse_timestamp(text):%Y-%m-%d %H:%M:%S} UTC"
    except ValueError:
        return visible(text, limit=60)


def _cells(number: int, row: Mapping[str, Any]) -> list[str]:
    record = listed_record(row)
    sha = record.first_content_sha256
    return [str(number), visible(record.record_id, limit=200), visible(record.platform_id, limit=200),
            visible(record.kind, limit=60), visible(record.item, limit=100), visible(record.eligible_on, limit=40),
            visible(record.versions), visible(sha[:SHA_PREFIX] if isinstance(sha, str) else sha, limit=40)]
