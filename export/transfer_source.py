"""The archive's records as TransferRecords: what a transfer or accession batch sends, read back from
the catalog and the object store one record at a time (a transfer of 100,000 records must not hold
them all in memory)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence

from archiver.capture.batchfile import envelope_lines
from archiver.db.queries import record_detail, version_locations
from archiver.db.retention_rows import StoredVersionRef, version_refs
from archiver.store.base import BlobStore
from archiver.wiring import Archive
from export.errors import ExportError
from export.transfer_model import TransferRecord

CHUNK = 500  # records read per catalog transaction: short transactions, never the whole transfer


def archive_records(archive: Archive, rights: Mapping[str, str]) -> Iterator[TransferRecord]:
    """Every record named in ``rights`` (record id -> access restrictions), in record-id order, with
    its versions' WARC members exactly as stored and their signed envelope lines."""
    envelopes = EnvelopeBatches(archive.store)
    ids = sorted(rights)
    for start in range(0, len(ids), CHUNK):
        with archive.catalog.read() as conn:
            rows = [(record_detail(conn, record_id), list(version_refs(conn, [record_id])),
                     version_locations(conn, record_id)) for record_id in ids[start:start + CHUNK]]
        for detail, refs, locations in rows:
            record = detail.record
            yield TransferRecord(
                record_id=record.id, platform=record.platform, platform_id=record.platform_id, kind=record.kind,
                title=f"{record.platform} {record.kind} {record.platform_id}", description=record.text,
                creator=record.author or record.account_id,
                created=record.posted_at.date() if record.posted_at else None, rights=rights[record.id],
                warc_members=stored_members(archive.store, refs),
                envelopes=[envelopes.line(at.batch_key, at.log_index - at.batch_first_index) for at in locations])


def stored_members(store: BlobStore, refs: Sequence[StoredVersionRef]) -> list[bytes]:
    """Each version's document record and the exchanges it came from, each stored member once."""
    wanted: dict[tuple[str, int], int] = {}
    for ref in refs:
        wanted.setdefault((ref.warc_key, ref.warc_offset), ref.warc_length)
        for evidence in ref.evidence:
            wanted.setdefault((str(evidence["key"]), int(evidence["offset"])), int(evidence["length"]))
    return [store.get_range(key, offset, length) for (key, offset), length in wanted.items()]


class EnvelopeBatches:
    """Envelope lines from the log's batch objects, keeping the few most recent batches read (a
    record's versions, and neighbouring records, usually share batches)."""

    def __init__(self, store: BlobStore, keep: int = 8) -> None:
        self.store = store
        self.keep = keep
        self.batches: OrderedDict[str, list[bytes]] = OrderedDict()

    def line(self, key: str, position: int) -> bytes:
        if key not in self.batches:
            self.batches[key] = envelope_lines(self.store.get_bytes(key))
            if len(self.batches) > self.keep:
                self.batches.popitem(last=False)
        self.batches.move_to_end(key)
        lines = self.batches[key]
        if not 0 <= position < len(lines):
            raise ExportError(f"log batch {key} has no envelope {position}; run `arsip verify --archive`",
                              code="envelope_missing")
        return lines[position]
