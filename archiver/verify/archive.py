"""`arsip verify --archive`: check the whole archive from the object store alone, streaming.

Every batch object is read in log order; every envelope's hash and signature is recomputed; every
WARC object a batch lists is streamed once, its SHA-256 and every record's digests recomputed, and
each envelope's references resolved against it; the Merkle log is rebuilt leaf by leaf and its
root compared with every signed checkpoint on the way. Because each checkpoint's root is recomputed
from one and the same leaf sequence, every older checkpoint is proven to be a prefix of every newer
one, which is exactly what a consistency proof between them demonstrates. Memory stays bounded by
one batch; the catalog, when given, is only cross-checked, never trusted.

Disposition is proven, not excused: a version whose content is gone must be listed, with the
content digest its envelope signed, by a disposition certificate that verifies; a WARC object
may be missing only when such a certificate deleted it; a record that compaction moved must be
found, with the digest its envelope signed, where the certificate says it went.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from archiver.audit import AUDIT_PREFIX, verify_chain
from archiver.capture.batchfile import BATCH_PREFIX, BatchHeader, batch_order, decode_batch
from archiver.capture.document import parse_document
from archiver.db.catalog import Catalog
from archiver.errors import ArchiverError
from archiver.integrity.checkpoint import NoteVerifierKey, verify_checkpoint
from archiver.integrity.envelope import ParsedEnvelopeLine, WarcRef
from archiver.integrity.keys import PublicKeyInfo, verify_signature
from archiver.integrity.merkle import MerkleFrontier
from archiver.integrity.publish import CHECKPOINT_PREFIX, KEYS_PREFIX
from archiver.retention.certificate import Ledger, load_ledger
from archiver.store.base import BlobStore
from archiver.verify.catalog_check import StoredVersion, check_log, check_rows
from archiver.verify.findings import Report
from archiver.warc.reader import iter_records


@dataclass(frozen=True)
class _Seen:
    """A WARC record as found by streaming its object."""

    record_id: str
    length: int
    warc_type: str
    block_digest: str | None
    payload_digest: str | None
    payload: bytes | None  # kept for resource records: the version documents


@dataclass(frozen=True)
class SignedRoot:
    root: bytes
    key: str


def verify_archive(store: BlobStore, *, origin: str, catalog: Catalog | None = None,
                   tsa_roots: Path | None = None) -> Report:
    report = Report()
    keys = _load_keys(store, report)
    checkpoints = _load_checkpoints(store, keys, origin, report, tsa_roots)
    ledger = load_ledger(store, keys, report.error)
    report.checked["disposition_certificates"] = len(ledger.certificates)
    frontier = MerkleFrontier()
    leaves = bytearray()
    listed: set[str] = set()
    for key in sorted((item.key for item in store.list(BATCH_PREFIX)), key=_safe_order(report)):
        expected = _verify_batch(store, key, keys, frontier, leaves, checkpoints, listed, ledger, report)
        if catalog is not None:
            check_rows(catalog, expected, report)
    for size in sorted(s for s in checkpoints if s > frontier.size):
        report.error("checkpoint_beyond_log", checkpoints[size].key,
                     f"signed for {size} entries but the store holds only {frontier.size}: log entries are missing")
    for item in store.list("warc/"):
        if item.key not in listed:
            report.warning("orphan_object", item.key, "no committed batch lists this WARC object; it was left "
                           "by an interrupted capture and holds no signed version")
    _verify_audit(store, report)
    if catalog is not None:
        check_log(catalog, bytes(leaves), listed, report)
    report.checked["log_entries"] = frontier.size
    return report


def _safe_order(report: Report) -> Callable[[str], tuple[int, str]]:
    def order(key: str) -> tuple[int, str]:
        try:
            return batch_order(key)
        except ArchiverError:
            report.error("batch_name", key, "is not a batch object name")
            return (-1, key)

    return order


def _load_keys(store: BlobStore, report: Report) -> dict[str, PublicKeyInfo]:
    keys: dict[str, PublicKeyInfo] = {}
    for item in store.list(KEYS_PREFIX):
        try:
            info = PublicKeyInfo.from_json(json.loads(store.get_bytes(item.key)))
        except (ValueError, ArchiverError) as exc:
            report.error("bad_key_document", item.key, str(exc))
            continue
        keys[info.key_id] = info
    report.checked["public_keys"] = len(keys)
    if not keys:
        report.error("no_public_keys", KEYS_PREFIX, "no public keys are published; nothing can be verified")
    return keys


def _load_checkpoints(store: BlobStore, keys: Mapping[str, PublicKeyInfo], origin: str, report: Report,
                      tsa_roots: Path | None) -> dict[int, SignedRoot]:
    verifiers = [NoteVerifierKey(origin, info.public_key_bytes) for info in keys.values()]
    roots: dict[int, SignedRoot] = {}
    for item in store.list(CHECKPOINT_PREFIX):
        if not item.key.endswith(".note"):
            continue
        text = store.get_bytes(item.key)
        try:
            checkpoint = verify_checkpoint(text.decode("utf-8"), verifiers, origin=origin)
        except (ArchiverError, UnicodeDecodeError) as exc:
            report.error("bad_checkpoint", item.key, str(exc))
            continue
        roots[checkpoint.size] = SignedRoot(root=checkpoint.root_hash, key=item.key)
        report.checked["checkpoints"] += 1
        _verify_timestamp(store, item.key.removesuffix(".note") + ".tsr", text, tsa_roots, report)
    return roots


def _verify_timestamp(store: BlobStore, key: str, note: bytes, tsa_roots: Path | None, report: Report) -> None:
    if store.head(key) is None:
        return
    if tsa_roots is None:
        report.warning("timestamp_unchecked", key, "a time-stamp token is present but ARSIP_TSA_ROOTS is not "
                       "set, so it was not verified")
        return
    from archiver.integrity.timestamp import load_roots, verify_token

    try:
        verify_token(store.get_bytes(key), note, load_roots(tsa_roots))
    except ArchiverError as exc:
        report.error("bad_timestamp", key, str(exc))
        return
    report.checked["timestamps"] += 1


def _verify_batch(store: BlobStore, key: str, keys: Mapping[str, PublicKeyInfo], frontier: MerkleFrontier,
                  leaves: bytearray, checkpoints: Mapping[int, SignedRoot], listed: set[str], ledger: Ledger,
                  report: Report) -> dict[int, StoredVersion]:
    """Verify one batch; returns what its versions' catalog rows must say."""
    expected: dict[int, StoredVersion] = {}
    try:
        header, lines = decode_batch(key, store.get_bytes(key))
    except ArchiverError as exc:
        report.error("bad_batch", key, str(exc))
        return expected
    report.checked["batches"] += 1
    if header.count and header.first_index != frontier.size:
        report.error("log_gap", key, f"starts at log entry {header.first_index} but entries up to "
                     f"{frontier.size} were verified: a batch object is missing or duplicated")
    records = _scan_warcs(store, header, listed, ledger, report)
    count = 0
    try:
        for line in lines:
            count += 1
            stored = _verify_line(key, line, keys, records, frontier.size, ledger, report)
            if stored is not None:
                expected[line.envelope.log_index] = stored
            frontier.append(bytes.fromhex(line.actual_sha256))
            leaves.extend(bytes.fromhex(line.actual_sha256))
            signed = checkpoints.get(frontier.size)
            if signed is not None and signed.root != frontier.root():
                report.error("checkpoint_mismatch", signed.key, f"the log's root at {frontier.size} entries "
                             "differs from the signed checkpoint: log entries were altered, removed or reordered")
    except ArchiverError as exc:
        report.error("bad_batch", key, str(exc))
    if count != header.count:
        report.error("batch_count", key, f"header announces {header.count} envelopes, found {count}")
    return expected


def _verify_line(key: str, line: ParsedEnvelopeLine, keys: Mapping[str, PublicKeyInfo],
                 records: Mapping[str, Mapping[int, _Seen]], expected_index: int, ledger: Ledger, report: Report,
                 ) -> StoredVersion | None:
    envelope = line.envelope
    subject = f"record {envelope.record_id} version {envelope.version} (log entry {envelope.log_index}, {key})"
    report.checked["versions"] += 1
    if envelope.log_index != expected_index:
        report.error("log_index", subject, f"expected log entry {expected_index}")
    if line.claimed_sha256 != line.actual_sha256:
        report.error("envelope_altered", subject, "envelope content does not match its recorded SHA-256")
    info = keys.get(line.key_id)
    if info is None:
        report.error("unknown_key", subject, f"signed by key {line.key_id}, which is not published under keys/")
    elif not verify_signature(info.public_key_bytes, line.signature, line.canonical):
        report.error("bad_signature", subject, f"signature by key {line.key_id} does not verify")
    destroyed = ledger.destroyed.get(envelope.log_index)
    if destroyed is not None:
        report.checked["destroyed_versions"] += 1
        if destroyed != envelope.content_sha256:
            report.error("certificate_mismatch", subject, "a disposition certificate lists this version with a "
                         "content digest other than the one its envelope signed")
        return None
    for ref in envelope.evidence:
        _check_ref(ledger.relocated(ref), records, subject, "source evidence", report)
    version = _check_ref(ledger.relocated(envelope.version_ref), records, subject, "version document", report)
    if version is None:
        return None
    if version.warc_type != "resource" or version.payload is None:
        report.error("wrong_record", subject, f"version document is a {version.warc_type} record")
        return None
    if version.payload_digest != f"sha256:{envelope.content_sha256}":
        report.error("content_altered", subject, "content SHA-256 in the envelope differs from the stored document")
        return None
    try:
        text = str(parse_document(version.payload)["text"])
    except (ArchiverError, KeyError) as exc:
        report.error("bad_document", subject, str(exc))
        return None
    return StoredVersion(record_id=envelope.record_id, number=envelope.version, state=envelope.state,
                         content_sha256=envelope.content_sha256, text=text)


def _check_ref(ref: WarcRef, records: Mapping[str, Mapping[int, _Seen]], subject: str, what: str,
               report: Report) -> _Seen | None:
    in_object = records.get(ref.key)
    if in_object is None:
        report.error("missing_object", subject, f"{what} is in {ref.key}, which is missing or not listed by the batch")
        return None
    found = in_object.get(ref.offset)
    if found is None or found.length != ref.length or found.record_id != ref.record_id:
        report.error("missing_record", subject, f"{what} {ref.record_id} is not at {ref.key} offset {ref.offset}")
        return None
    if found.block_digest != ref.digest:
        report.error("record_altered", subject, f"{what} at {ref.key} offset {ref.offset} has digest "
                     f"{found.block_digest}, the envelope signed {ref.digest}")
    return found


def _scan_warcs(store: BlobStore, header: BatchHeader, listed: set[str], ledger: Ledger, report: Report,
                ) -> dict[str, dict[int, _Seen]]:
    found: dict[str, dict[int, _Seen]] = {}
    for warc in header.warc_objects:
        listed.add(warc.key)
        key, sha256, size = warc.key, warc.sha256, warc.size
        if warc.key in ledger.deleted:
            _note_disposed(store, warc.key, ledger, report)
            current = ledger.current_object(warc.key)
            if current is None:
                continue
            listed.add(current)
            key, sha256, size = current, ledger.written[current]["sha256"], ledger.written[current]["size"]
        if store.head(key) is None:
            report.error("missing_object", key, f"listed by batch of run {header.run.id} but not in the store")
            continue
        try:
            found[key] = _scan_warc(store, key, sha256, size, report)
        except ArchiverError as exc:
            report.error("unreadable_object", key, str(exc))
    return found


def _note_disposed(store: BlobStore, key: str, ledger: Ledger, report: Report) -> None:
    report.checked["disposed_objects"] += 1
    if store.head(key) is not None:
        report.warning("deletion_pending", key, f"disposition {ledger.deleted[key]} certified this object's "
                       f"deletion but it is still in the store; run `arsip retention execute {ledger.deleted[key]} "
                       "--yes` to finish")


def _scan_warc(store: BlobStore, key: str, sha256: str, size: int, report: Report) -> dict[int, _Seen]:
    records: dict[int, _Seen] = {}
    with store.open(key) as raw:
        stream = _HashingReader(raw)
        for record in iter_records(stream, key=key):  # type: ignore[arg-type]  # a read()-only stream suffices
            report.checked["warc_records"] += 1
            if record.digest_problems:
                report.error("record_altered", f"{key} offset {record.offset}",
                             f"{record.warc_type} record {record.record_id}: {'; '.join(record.digest_problems)}")
            records[record.offset] = _Seen(record_id=record.record_id, length=record.length,
                                           warc_type=record.warc_type,
                                           block_digest=record.header("warc-block-digest"),
                                           payload_digest=record.header("warc-payload-digest"),
                                           payload=record.payload)
        stream.drain()
    report.checked["warc_objects"] += 1
    if stream.size != size or stream.hexdigest() != sha256:
        report.error("object_altered", key, f"object is {stream.size} bytes with SHA-256 {stream.hexdigest()}; "
                     f"the batch committed {size} bytes with SHA-256 {sha256}")
    return records


class _HashingReader:
    """Hashes an object's bytes as the WARC reader consumes them, so each object is read once."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._hash.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer: bytearray) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(1024 * 1024):
            pass

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _verify_audit(store: BlobStore, report: Report) -> None:
    entries = []
    for item in store.list(AUDIT_PREFIX):
        for line in store.get_bytes(item.key).splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                report.error("audit_altered", item.key, "a line is not JSON")
    for problem in verify_chain(entries):
        report.error("audit_chain", AUDIT_PREFIX, problem)
    report.checked["audit_entries"] = len(entries)
