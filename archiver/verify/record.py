"""`arsip verify RECORD`: every version of one record, down to its bytes and its place in the log."""

from __future__ import annotations

from archiver.capture.batchfile import envelope_lines
from archiver.db.catalog import Connection
from archiver.db.leaves import CatalogLeafSource
from archiver.db.queries import find_record_id, version_locations
from archiver.errors import ArchiverError
from archiver.integrity.checkpoint import Checkpoint, NoteVerifierKey, verify_checkpoint
from archiver.integrity.envelope import ParsedEnvelopeLine, WarcRef, parse_envelope_line
from archiver.integrity.keys import PublicKeyInfo, verify_signature
from archiver.integrity.merkle import inclusion_proof, leaf_hash, verify_inclusion
from archiver.integrity.publish import CHECKPOINT_PREFIX, load_public_keys
from archiver.verify.findings import Report
from archiver.warc.reader import read_record_at
from archiver.wiring import Archive


def verify_record(archive: Archive, ref: str) -> Report:
    report = Report()
    keys = load_public_keys(archive.store)
    with archive.catalog.begin() as conn:
        record_id = find_record_id(conn, ref)
        checkpoint = _latest_checkpoint(archive, keys, report)
        previous: str | None = None
        batches: dict[str, list[bytes]] = {}
        for at in version_locations(conn, record_id):
            subject = f"record {record_id} version {at.number} (log entry {at.log_index})"
            report.checked["versions"] += 1
            line = _envelope_line(archive, batches, at.batch_key, at.log_index - at.batch_first_index, subject,
                                  report)
            if line is None:
                continue
            _check_envelope(line, keys, at.leaf_sha256, at.content_sha256, previous, subject, report)
            _check_bytes(archive, line, subject, report)
            _check_inclusion(conn, at.log_index, at.leaf_sha256, checkpoint, subject, report)
            previous = line.actual_sha256
    return report


def _latest_checkpoint(archive: Archive, keys: dict[str, PublicKeyInfo], report: Report) -> Checkpoint | None:
    notes = sorted(item.key for item in archive.store.list(CHECKPOINT_PREFIX) if item.key.endswith(".note"))
    if not notes:
        report.warning("no_checkpoint", CHECKPOINT_PREFIX, "no signed checkpoint yet; inclusion not checked")
        return None
    verifiers = [NoteVerifierKey(archive.origin, info.public_key_bytes) for info in keys.values()]
    try:
        return verify_checkpoint(archive.store.get_bytes(notes[-1]).decode(), verifiers, origin=archive.origin)
    except (ArchiverError, UnicodeDecodeError) as exc:
        report.error("bad_checkpoint", notes[-1], str(exc))
        return None


def _envelope_line(archive: Archive, batches: dict[str, list[bytes]], key: str, position: int, subject: str,
                   report: Report) -> ParsedEnvelopeLine | None:
    if key not in batches:
        try:
            batches[key] = envelope_lines(archive.store.get_bytes(key))
        except ArchiverError as exc:
            report.error("missing_object", subject, f"batch object {key}: {exc}")
            return None
    try:
        return parse_envelope_line(batches[key][position])
    except (ArchiverError, IndexError) as exc:
        report.error("bad_batch", subject, f"{key}: envelope {position} unreadable ({exc})")
        return None


def _check_envelope(line: ParsedEnvelopeLine, keys: dict[str, PublicKeyInfo], leaf: str, content_sha256: str,
                    previous: str | None, subject: str, report: Report) -> None:
    if line.claimed_sha256 != line.actual_sha256 or line.actual_sha256 != leaf:
        report.error("envelope_altered", subject, "the envelope's SHA-256 differs from the log leaf")
    info = keys.get(line.key_id)
    if info is None or not verify_signature(info.public_key_bytes, line.signature, line.canonical):
        report.error("bad_signature", subject, f"signature by key {line.key_id} does not verify")
    if line.envelope.content_sha256 != content_sha256:
        report.error("catalog_altered", subject, "the catalog's content digest differs from the signed envelope")
    if line.envelope.previous != previous:
        report.error("chain_broken", subject, "does not link to the record's previous version")


def _check_bytes(archive: Archive, line: ParsedEnvelopeLine, subject: str, report: Report) -> None:
    refs: list[tuple[str, WarcRef]] = [("version document", line.envelope.version_ref)]
    refs += [("source evidence", ref) for ref in line.envelope.evidence]
    for what, ref in refs:
        try:
            record = read_record_at(archive.store, ref.key, ref.offset, ref.length)
        except ArchiverError as exc:
            report.error("missing_record", subject, f"{what} at {ref.key} offset {ref.offset}: {exc}")
            continue
        report.checked["warc_records"] += 1
        if record.digest_problems or record.record_id != ref.record_id or \
                record.header("warc-block-digest") != ref.digest:
            report.error("record_altered", subject, f"{what} at {ref.key} offset {ref.offset} does not match "
                         "what the envelope signed")
        elif what == "version document" and \
                record.header("warc-payload-digest") != f"sha256:{line.envelope.content_sha256}":
            report.error("content_altered", subject, "stored document differs from the signed content digest")


def _check_inclusion(conn: Connection, log_index: int, leaf: str, checkpoint: Checkpoint | None, subject: str,
                     report: Report) -> None:
    if checkpoint is None:
        return
    if log_index >= checkpoint.size:
        report.warning("not_checkpointed", subject, f"newer than the latest checkpoint ({checkpoint.size} entries)")
        return
    proof = inclusion_proof(CatalogLeafSource(conn), log_index, checkpoint.size)
    if not verify_inclusion(leaf_hash(bytes.fromhex(leaf)), log_index, checkpoint.size, proof, checkpoint.root_hash):
        report.error("not_included", subject, f"not provably in the log at checkpoint size {checkpoint.size}")
    else:
        report.checked["inclusion_proofs"] += 1
