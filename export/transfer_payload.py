"""Write a transfer's payload record by record: WARC 1.0 files, the envelopes file and metadata.csv."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

from archiver.clock import utc
from archiver.errors import IntegrityError
from archiver.integrity.envelope import parse_envelope_line
from archiver.store.streams import hash_file
from export.errors import ExportError
from export.text import visible
from export.transfer_csv import MetadataCsv, Row
from export.transfer_model import TransferRecord
from export.transfer_warc import FinishedWarc, WarcSeries

WARC_DIR, ENVELOPE_DIR, METADATA = "warc", "envelopes", "metadata.csv"
TEXT_FIELDS = ("record_id", "platform", "platform_id", "kind", "title", "description", "creator", "rights")


def bag_path(*parts: str) -> str:
    """A payload file's path as the bag (its manifests, and so File Name) names it."""
    return "/".join(("data", *parts))


@dataclass(frozen=True)
class Payload:
    records: int
    versions: int
    warc_files: tuple[str, ...]


@dataclass(frozen=True)
class PayloadSpec:
    identifier: str
    organization: str
    bagging_date: date
    max_warc_bytes: int


def write_payload(root: Path, spec: PayloadSpec, records: Iterable[TransferRecord]) -> Payload:
    """Fill ``root`` (the future ``data/``) from ``records``, one record in memory at a time."""
    (root / WARC_DIR).mkdir()
    (root / ENVELOPE_DIR).mkdir()
    envelopes_path = root / ENVELOPE_DIR / f"{spec.identifier}.jsonl"
    envelopes_name = bag_path(ENVELOPE_DIR, envelopes_path.name)
    metadata = MetadataCsv(root / METADATA)
    # warcinfo records are dated at the start of the bagging day: the package's own time, at the
    # precision the caller gave it, so the same input always makes the same bytes.
    series = WarcSeries(root / WARC_DIR, spec.identifier, max_bytes=spec.max_warc_bytes, info=_warcinfo(spec),
                        date=datetime(*spec.bagging_date.timetuple()[:3], tzinfo=UTC),
                        on_finish=lambda f: _finished(metadata, f))
    count = versions = 0
    try:
        with open(envelopes_path, "xb") as envelopes:
            for record in records:
                _check_record(record)
                versions += _write_envelopes(envelopes, record)
                row = _record_row(record)
                if record.warc_members:
                    name = series.add(record.record_id, record.warc_members)
                    metadata.pending(replace(row, file_name=bag_path(WARC_DIR, name)))
                else:
                    metadata.pending(replace(row, file_name=envelopes_name))  # its only evidence: envelopes
                count += 1
        if not count:
            raise ExportError("no records to transfer; a transfer package needs at least one record",
                              code="transfer_empty")
        series.close()
        _package_rows(metadata, spec, envelopes_name, hash_file(envelopes_path))
    finally:
        series.abort()
        metadata.close()
    return Payload(records=count, versions=versions, warc_files=tuple(bag_path(WARC_DIR, n) for n in series.names))


def _warcinfo(spec: PayloadSpec) -> dict[str, str]:
    return {"operator": spec.organization, "isPartOf": spec.identifier,
            "description": "Records transferred by Arsip, converted to WARC 1.0: version line and WARC-Date "
                           "(whole seconds) only; headers, blocks and digests as archived."}


def _finished(metadata: MetadataCsv, finished: FinishedWarc) -> None:
    metadata.file_finished(bag_path(WARC_DIR, finished.name), finished.sha256)


def _check_record(record: TransferRecord) -> None:
    if not isinstance(record, TransferRecord):
        raise ExportError(f"transfer records must be TransferRecord, not {type(record).__name__}",
                          code="record_format")
    for name in TEXT_FIELDS:
        if not isinstance(getattr(record, name), str):
            raise ExportError(f"transfer record {visible(record.record_id, limit=200)}: {name} must be text",
                              code="record_format")
    if not record.record_id:
        raise ExportError("a transfer record has an empty record_id", code="record_format")
    if record.created is not None and not isinstance(record.created, date):
        raise ExportError(f"transfer record {visible(record.record_id, limit=200)}: created must be a date",
                          code="record_format")
    if not record.envelopes:
        raise ExportError(f"record {visible(record.record_id, limit=200)} has no signed envelopes; every "
                          "transferred version must carry its envelope", code="record_without_envelope")


def _write_envelopes(out: BinaryIO, record: TransferRecord) -> int:
    """Append the record's envelope lines after checking each is one line, parses, hashes to the value
    it claims and belongs to this record (a mixed-up or altered envelope is refused, not shipped)."""
    where = f"record {visible(record.record_id, limit=200)}"
    for number, line in enumerate(record.envelopes, start=1):
        if not isinstance(line, bytes | bytearray):
            raise ExportError(f"{where}: envelope {number} is not bytes", code="envelope_format")
        body = bytes(line).removesuffix(b"\n")
        if b"\n" in body or b"\r" in body:
            raise ExportError(f"{where}: envelope {number} spans several lines", code="envelope_format")
        try:
            parsed = parse_envelope_line(body)
        except IntegrityError as exc:
            raise ExportError(f"{where}: envelope {number}: {exc}", code="envelope_format") from None
        if parsed.claimed_sha256 != parsed.actual_sha256:
            raise ExportError(f"{where}: envelope {number} does not hash to its recorded SHA-256",
                              code="envelope_digest")
        if parsed.envelope.record_id != record.record_id:
            raise ExportError(f"{where}: envelope {number} belongs to record "
                              f"{visible(parsed.envelope.record_id, limit=200)}", code="envelope_mismatch")
        out.write(body + b"\n")
    return len(record.envelopes)


def _record_row(record: TransferRecord) -> Row:
    return Row(file_name="", record_id=record.record_id, title=record.title, description=record.description,
               creator=record.creator, created=_created(record), rights=record.rights, platform=record.platform,
               platform_id=record.platform_id, kind=record.kind)


def _created(record: TransferRecord) -> date | None:
    created = record.created
    if isinstance(created, datetime):
        try:
            return utc(created).date()
        except ValueError:
            raise ExportError(f"record {visible(record.record_id, limit=200)}: created is a naive datetime",
                              code="record_format") from None
    return created


def _package_rows(metadata: MetadataCsv, spec: PayloadSpec, envelopes_name: str, envelopes_sha256: str) -> None:
    metadata.file_finished(envelopes_name, envelopes_sha256)
    metadata.add(_package_row(
        spec, envelopes_name, f"Signed version envelopes of transfer {spec.identifier}",
        "One JSON line per record version: its RFC 8785 envelope, the envelope's SHA-256, the signing key id "
        "and the Ed25519 signature. Each envelope names its WARC record by WARC-Record-ID and block digest."),
        envelopes_sha256)
    # metadata.csv lists itself so that every payload file is listed, but without a SHA256: a file
    # cannot contain its own digest. Its checksums are in the bag's manifests.
    metadata.add(_package_row(
        spec, bag_path(METADATA), f"File-level metadata of transfer {spec.identifier}",
        "NARA Bulletin 2015-04 minimum metadata for every payload file, one row per file and record. This row "
        "has no SHA256: a file cannot contain its own digest; the bag manifests hold it."), "")


def _package_row(spec: PayloadSpec, file_name: str, title: str, description: str) -> Row:
    return Row(file_name=file_name, record_id=spec.identifier, title=title, description=description,
               creator=spec.organization, created=spec.bagging_date, rights="")
