"""The normalized version document stored in WARC, and the catalog row derived from it.

Live capture and `arsip rebuild` both derive catalog rows with :func:`version_row`, from the same
document bytes and envelope, so a rebuilt catalog cannot drift from the original.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from archiver.clock import isoformat_z, parse_timestamp
from archiver.db.catalog import VersionRow
from archiver.errors import IntegrityError
from archiver.integrity.envelope import Envelope, stable_json
from archiver.model import ChangeKind, Observation, RunInfo, VersionState
from archiver.warc.reader import RangeReader, read_record_at

DOCUMENT_SCHEMA = "arsip.version/1"
DOCUMENT_TYPE = "application/json"


def record_id_for(platform: str, platform_id: str) -> str:
    """A record's stable id: the same on every archive and after every rebuild."""
    return hashlib.sha256(f"{platform}\n{platform_id}".encode()).hexdigest()[:20]


def fingerprint(observation: Observation) -> str:
    """What change detection compares: the versioned content only, never counts."""
    return hashlib.sha256(stable_json(dict(observation.content))).hexdigest()


def build_document(observation: Observation, *, account_id: str, number: int, state: VersionState,
                   change: ChangeKind, captured_at: datetime, run: RunInfo, collector: str,
                   evidence_uris: list[str], content_fingerprint: str) -> tuple[bytes, dict[str, Any]]:
    """One version's normalized document: its bytes (the resource record's payload) and its fields."""
    o = observation
    document = {
        "schema": DOCUMENT_SCHEMA,
        "record": {"id": record_id_for(o.platform, o.platform_id), "platform": str(o.platform),
                   "platform_id": o.platform_id, "account": account_id, "kind": str(o.kind), "url": o.url,
                   "parent_platform_id": o.parent_platform_id, "posted_at": _ts(o.posted_at)},
        "version": {"number": number, "state": str(state), "change": str(change),
                    "reason": _str(o.reason), "detection": _str(o.detection),
                    "captured_at": isoformat_z(captured_at), "revision_at": _ts(o.revision_at)},
        "author": o.author,
        "lang": o.lang,
        "text": o.text,
        "media": list(o.media_urls),
        "content": dict(o.content),
        "context": dict(o.context),
        "fingerprint": content_fingerprint,
        "provenance": {"run": run.id, "source": str(run.source), "collector": collector,
                       "collector_version": run.collector_version, "evidence": evidence_uris},
    }
    return stable_json(document), document


def parse_document(payload: bytes) -> dict[str, Any]:
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise IntegrityError(f"version document is not JSON: {exc}", code="document_format") from None
    if not isinstance(document, dict) or document.get("schema") != DOCUMENT_SCHEMA:
        raise IntegrityError("version document has an unknown schema", code="document_format")
    return document


def read_document(store: RangeReader, key: str, offset: int, length: int, content_sha256: str) -> dict[str, Any]:
    """Fetch one version's document with one range read, refusing it unless it is the signed content."""
    record = read_record_at(store, key, offset, length)
    if record.digest_problems or record.header("warc-payload-digest") != f"sha256:{content_sha256}" \
            or record.payload is None:
        raise IntegrityError(f"{key} offset {offset} is not the signed version document; run "
                             "`arsip verify --archive`", code="document_altered")
    return parse_document(record.payload)


def version_row(envelope: Envelope, *, leaf_sha256: str, key_id: str, signature: bytes,
                document: Mapping[str, Any]) -> VersionRow:
    """The catalog row for one version, from its signed envelope and its stored document."""
    record = document["record"]
    version = document["version"]
    return VersionRow(
        log_index=envelope.log_index, leaf_sha256=leaf_sha256, record_id=envelope.record_id,
        platform=envelope.platform, platform_id=envelope.platform_id, account_id=envelope.account_id,
        kind=envelope.kind, parent_platform_id=record["parent_platform_id"], url=record["url"],
        posted_at=_parse(record["posted_at"]), number=envelope.version, state=envelope.state,
        reason=envelope.reason, detection=envelope.detection, run_id=envelope.run_id,
        captured_at=envelope.captured_at, revision_at=_parse(version["revision_at"]),
        author=document["author"], lang=document["lang"], text=document["text"],
        fingerprint=document["fingerprint"], content_sha256=envelope.content_sha256,
        previous_sha256=envelope.previous, key_id=key_id, signature=base64.b64encode(signature).decode(),
        warc_key=envelope.version_ref.key, warc_offset=envelope.version_ref.offset,
        warc_length=envelope.version_ref.length, evidence=[ref.to_json() for ref in envelope.evidence],
        media_count=len(document.get("media") or ()))


def _ts(value: datetime | None) -> str | None:
    return None if value is None else isoformat_z(value)


def _parse(value: str | None) -> datetime | None:
    return None if value is None else parse_timestamp(value)


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)
