"""Bring a committed batch object into the catalog: used by crash recovery and by `arsip rebuild`.

Everything is re-derived from the store and checked on the way (envelope hashes, signatures, log
positions, WARC digests), so a catalog rebuilt from a tampered store fails loudly instead of
adopting the tampering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace

from archiver.capture.batchfile import BatchHeader, decode_batch
from archiver.capture.document import parse_document, version_row
from archiver.db.catalog import BatchRow, Catalog, Connection, VersionRow, WarcObjectRow
from archiver.errors import IntegrityError
from archiver.integrity.envelope import ParsedEnvelopeLine
from archiver.integrity.keys import PublicKeyInfo, verify_signature
from archiver.integrity.merkle import MerkleFrontier
from archiver.retention.certificate import Ledger
from archiver.store.base import BlobStore
from archiver.warc.reader import iter_records


def ingest_batch(store: BlobStore, catalog: Catalog, conn: Connection, key: str,
                 keys: Mapping[str, PublicKeyInfo], ledger: Ledger | None = None) -> BatchHeader | None:
    """Ingest one batch object inside ``conn``'s transaction; None if the catalog already has it.

    ``ledger`` (what disposition certificates say) lets a rebuild take destroyed versions as
    tombstones (identity and digests from the envelope, no content) and find moved records."""
    ledger = ledger or Ledger()
    head = catalog.lock_log_head(conn)
    if catalog.has_batch(conn, key):
        return None
    body = store.get_bytes(key)
    header, lines = decode_batch(key, body)
    if header.count and header.first_index != head.size:
        raise IntegrityError(f"{key} starts at log index {header.first_index} but the catalog's log has "
                             f"{head.size} entries; batches must be ingested in log order", code="log_gap")
    _ensure_account_and_run(catalog, conn, header)
    header = replace(header, warc_objects=tuple(_current_objects(header, ledger)))
    documents = _read_documents(store, header)
    frontier = MerkleFrontier.from_json(head.frontier)
    rows: list[VersionRow] = []
    for position, line in enumerate(lines):
        _check_line(key, line, head.size + position, keys)
        envelope = line.envelope
        frontier.append(bytes.fromhex(line.actual_sha256))
        if envelope.log_index in ledger.destroyed:
            rows.append(version_row(envelope, leaf_sha256=line.actual_sha256, key_id=line.key_id,
                                    signature=line.signature, document=DESTROYED))
            continue
        where = ledger.relocated(envelope.version_ref)
        payload = documents.get((where.key, where.offset))
        if payload is None:
            raise IntegrityError(f"{key}: version document of log entry {envelope.log_index} is not at "
                                 f"{envelope.version_ref.key} offset {envelope.version_ref.offset}",
                                 code="document_missing")
        row = version_row(envelope, leaf_sha256=line.actual_sha256, key_id=line.key_id,
                          signature=line.signature, document=parse_document(payload))
        rows.append(row if where == envelope.version_ref else replace(
            row, warc_key=where.key, warc_offset=where.offset,
            evidence=[ledger.relocated(ref).to_json() for ref in envelope.evidence]))
    if len(rows) != header.count:
        raise IntegrityError(f"{key}: header says {header.count} envelopes, found {len(rows)}",
                             code="batch_count")
    catalog.apply_batch(conn, BatchRow(key=key, sha256=hashlib.sha256(body).hexdigest(), run_id=header.run.id,
                                       first_index=header.first_index, versions=rows,
                                       warc_objects=header.warc_objects, seen=header.seen),
                        new_size=frontier.size, frontier=frontier.to_json())
    return header


def _check_line(key: str, line: ParsedEnvelopeLine, expected_index: int,
                keys: Mapping[str, PublicKeyInfo]) -> None:
    where = f"{key} log entry {line.envelope.log_index}"
    if line.claimed_sha256 != line.actual_sha256:
        raise IntegrityError(f"{where}: envelope hash does not match its content", code="envelope_hash")
    if line.envelope.log_index != expected_index:
        raise IntegrityError(f"{where}: expected log index {expected_index}", code="log_gap")
    info = keys.get(line.key_id)
    if info is None:
        raise IntegrityError(f"{where}: signed by unknown key {line.key_id}; is keys/{line.key_id}.json "
                             "missing from the store?", code="unknown_key")
    if not verify_signature(info.public_key_bytes, line.signature, line.canonical):
        raise IntegrityError(f"{where}: signature does not verify", code="bad_signature")


# A destroyed version's catalog row keeps identity and digests (from the signed envelope), no content.
DESTROYED = {"record": {"parent_platform_id": None, "url": None, "posted_at": None},
             "version": {"revision_at": None}, "author": None, "lang": None, "text": "", "fingerprint": ""}


def _current_objects(header: BatchHeader, ledger: Ledger) -> list[WarcObjectRow]:
    """The batch's WARC objects as they are now: deleted ones left out, compacted ones replaced."""
    found = []
    for warc in header.warc_objects:
        current = ledger.current_object(warc.key) if warc.key in ledger.deleted else warc.key
        if current == warc.key:
            found.append(warc)
        elif current is not None:
            written = ledger.written[current]
            found.append(replace(warc, key=current, sha256=written["sha256"], size=written["size"],
                                 records=written["records"]))
    return found


def _read_documents(store: BlobStore, header: BatchHeader) -> dict[tuple[str, int], bytes]:
    """Read every version document of the batch, streaming each WARC object once."""
    documents: dict[tuple[str, int], bytes] = {}
    for warc in header.warc_objects:
        with store.open(warc.key) as stream:
            for record in iter_records(stream, key=warc.key):
                if record.digest_problems:
                    raise IntegrityError(f"{warc.key} offset {record.offset}: "
                                         f"{'; '.join(record.digest_problems)}", code="warc_digest")
                if record.payload is not None:
                    documents[(warc.key, record.offset)] = record.payload
    return documents


def _ensure_account_and_run(catalog: Catalog, conn: Connection, header: BatchHeader) -> None:
    """Create the account and run rows a batch refers to when the catalog lacks them (rebuild)."""
    if not catalog.has_account(conn, header.account.id):
        catalog.save_account(conn, header.account)
    if not catalog.run_exists(conn, header.run.id):
        catalog.start_run(conn, header.run)

