"""Read what a request works on from the archive: a record's versions and their signed JSON documents."""

from __future__ import annotations

import json
from typing import Any

from archiver.db.queries import RecordDetail, VersionDetail, find_record_id, record_detail
from archiver.errors import ArchiverError
from archiver.warc.reader import read_record_at
from archiver.wiring import Archive
from export.errors import ExportError


def record(archive: Archive, ref: str) -> RecordDetail:
    """The catalog's view of a record, by id or ``platform:platform_id``."""
    try:
        with archive.catalog.read() as conn:
            return record_detail(conn, find_record_id(conn, ref))
    except ArchiverError as exc:
        raise ExportError(str(exc), code=exc.code) from None


def record_id(archive: Archive, ref: str) -> str:
    """A record's id from its id or ``platform:platform_id`` (it must exist)."""
    try:
        with archive.catalog.read() as conn:
            return find_record_id(conn, ref)
    except ArchiverError as exc:
        raise ExportError(str(exc), code=exc.code) from None


def version_field(archive: Archive, ref: str, version: int, path: str) -> tuple[str, str]:
    """(record id, the text at ``path`` of that version's document)."""
    detail = record(archive, ref)
    matching = [v for v in detail.versions if v.number == version]
    if not matching:
        raise ExportError(f"record {ref} has no version {version}", code="version_unknown")
    return detail.record.id, field_value(document(archive, matching[0]), path)


def document_bytes(archive: Archive, version: VersionDetail) -> bytes:
    """A version's JSON document exactly as archived (the payload its envelope's content digest covers)."""
    try:
        found = read_record_at(archive.store, version.warc_key, version.warc_offset, version.warc_length)
    except ArchiverError as exc:
        raise ExportError(f"version document at {version.warc_key} offset {version.warc_offset}: {exc}; run "
                          "`arsip verify --archive`", code="document_unreadable") from None
    if found.digest_problems or found.payload is None:
        raise ExportError(f"version document at {version.warc_key} offset {version.warc_offset} fails its digest; "
                          "run `arsip verify --archive`", code="document_altered")
    return found.payload


def document(archive: Archive, version: VersionDetail) -> dict[str, Any]:
    return loads(document_bytes(archive, version))


def loads(data: bytes) -> dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ExportError("a version document is not a JSON object; run `arsip verify --archive`",
                          code="document_format")
    return value


def lookup(doc: dict[str, Any], path: str) -> str | None:
    """The string at a dotted ``path`` of a document (``text``, ``content.spoiler_text``), if there is one."""
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


def field_value(doc: dict[str, Any], path: str) -> str:
    """:func:`lookup`, for a field that must be there."""
    value = lookup(doc, path)
    if value is None:
        raise ExportError(f"the document has no text field {path!r}; redact a text field such as 'text'",
                          code="redaction_field")
    return value


def occurrences(value: str | None, text: str) -> list[int]:
    """Where ``text`` starts in ``value``, left to right, without overlaps."""
    found: list[int] = []
    if not value or not text:
        return found
    at = value.find(text)
    while at >= 0:
        found.append(at)
        at = value.find(text, at + len(text))
    return found
