"""A signed disposition certificate and its record list, read into typed values for rendering."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.clock import parse_timestamp
from archiver.errors import ArchiverError
from archiver.integrity.envelope import canonical_json
from export.errors import ExportError

CERTIFICATE_SCHEMA = "arsip.disposition-certificate/1"
PROFILES = ("nara", "jra")
ACTIONS = ("destroy", "transfer", "accession")


@dataclass(frozen=True)
class Approval:
    by: str
    role: str
    at: str
    reference: str | None


@dataclass(frozen=True)
class ItemSummary:
    item: str
    title: str
    authority: str
    records: int


@dataclass(frozen=True)
class Certificate:
    """The fields a reader needs, plus the SHA-256 of the body's RFC 8785 bytes (what was signed)."""

    batch_id: str
    profile: str
    action: str
    archive_origin: str
    agency: str | None
    created_at: str
    executed_at: datetime
    executed_by: str
    approvals: tuple[Approval, ...]
    schedule_fingerprint: str
    records: int
    versions: int
    objects_deleted: int
    objects_written: int
    by_item: tuple[ItemSummary, ...]
    list_key: str
    list_sha256: str
    list_count: int
    log_size: int
    log_root: str
    key_id: str
    signature: str
    body_sha256: str


def parse_certificate(signed: Mapping[str, Any]) -> Certificate:
    """Read the signed wrapper; a missing or mistyped field is an ExportError naming it.

    The signature is not verified here (rendering has no key ring); it is printed so a reader
    can check it against the JSON, next to the hash of exactly the bytes it signs.
    """
    body = _mapping(signed, "certificate")
    if body.get("schema") != CERTIFICATE_SCHEMA:
        raise ExportError(f"unsupported certificate schema {body.get('schema')!r}; expected {CERTIFICATE_SCHEMA}",
                          code="certificate_schema")
    summary, listing, log = _mapping(body, "summary"), _mapping(body, "list"), _mapping(body, "log")
    return Certificate(
        batch_id=_str(body, "batch_id"), profile=_choice(body, "profile", PROFILES),
        action=_choice(body, "action", ACTIONS), archive_origin=_str(body, "archive_origin"),
        agency=_optional_str(body, "agency"), created_at=_str(body, "created_at"),
        executed_at=_time(body, "executed_at"), executed_by=_str(body, "executed_by"),
        approvals=tuple(_approval(a) for a in _list(body, "approvals")),
        schedule_fingerprint=_str(body, "schedule_fingerprint"),
        records=_int(summary, "records"), versions=_int(summary, "versions"),
        objects_deleted=_int(summary, "objects_deleted"), objects_written=len(_list(body, "objects_written", [])),
        by_item=tuple(_item(i) for i in _list(summary, "by_item")),
        list_key=_str(listing, "key"), list_sha256=_str(listing, "sha256"), list_count=_int(listing, "count"),
        log_size=_int(log, "size"), log_root=_str(log, "root"),
        key_id=_str(signed, "key_id"), signature=_str(signed, "signature"), body_sha256=_body_sha256(body))


def _body_sha256(body: Mapping[str, Any]) -> str:
    # A body RFC 8785 cannot serialize (e.g. a lone surrogate) cannot carry a valid signature either.
    try:
        return hashlib.sha256(canonical_json(body)).hexdigest()
    except (ArchiverError, UnicodeError) as exc:
        raise ExportError(f"certificate body cannot be canonicalized (RFC 8785), so no signature over it can "
                          f"verify: {exc}", code="certificate_format") from None


def _approval(value: Any) -> Approval:
    data = _as_mapping(value, "approvals[]")
    return Approval(by=_str(data, "by"), role=_str(data, "role"), at=_str(data, "at"),
                    reference=_optional_str(data, "reference"))


def _item(value: Any) -> ItemSummary:
    data = _as_mapping(value, "summary.by_item[]")
    return ItemSummary(item=_str(data, "item"), title=_str(data, "title"), authority=_str(data, "authority"),
                       records=_int(data, "records"))


def _fail(field: str, expected: str) -> ExportError:
    return ExportError(f"certificate field {field!r} is missing or not {expected}; render only certificates "
                       "written by Arsip's disposition", code="certificate_format")


def _as_mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(field, "an object")
    return value


def _mapping(data: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    return _as_mapping(data.get(field), field)


def _list(data: Mapping[str, Any], field: str, default: list[Any] | None = None) -> list[Any]:
    value = data.get(field, default)
    if not isinstance(value, list):
        raise _fail(field, "a list")
    return value


def _str(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str):
        raise _fail(field, "a string")
    return value


def _optional_str(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        raise _fail(field, "a string or null")
    return value


def _int(data: Mapping[str, Any], field: str) -> int:
    value = data.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _fail(field, "a non-negative integer")
    return value


def _choice(data: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> str:
    value = _str(data, field)
    if value not in allowed:
        raise _fail(field, f"one of {', '.join(allowed)}")
    return value


def _time(data: Mapping[str, Any], field: str) -> datetime:
    try:
        return parse_timestamp(_str(data, field))
    except ValueError:
        raise _fail(field, "an ISO 8601 UTC time") from None


@dataclass(frozen=True)
class ListedRecord:
    """One row of the record list as the certificate's table shows it (absent fields are None)."""

    record_id: Any
    platform_id: Any
    kind: Any
    item: Any
    eligible_on: Any
    versions: int | None
    first_content_sha256: Any


def listed_record(row: Any) -> ListedRecord:
    """Read one records.jsonl object leniently: the list is the signed evidence, so a surprising
    field is shown as it is rather than refused; only a row that is not an object is an error."""
    if not isinstance(row, Mapping):
        raise ExportError(f"record list row is a {type(row).__name__}, not a JSON object; pass the parsed lines "
                          "of the certificate's records.jsonl", code="record_list_format")
    data = row
    versions = data.get("versions")
    first = None
    if isinstance(versions, list) and versions and isinstance(versions[0], Mapping):
        first = versions[0].get("content_sha256")
    return ListedRecord(record_id=data.get("record_id"), platform_id=data.get("platform_id"),
                        kind=data.get("kind"), item=data.get("item"), eligible_on=data.get("eligible_on"),
                        versions=len(versions) if isinstance(versions, list) else None,
                        first_content_sha256=first)
