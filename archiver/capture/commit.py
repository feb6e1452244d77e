"""Commit one batch: partitioned WARC objects, then signed envelopes appended to the log, atomically.

Order is what makes a crash safe (DESIGN.md invariant 5):
1. WARC objects are uploaded. A crash here leaves only orphans, which `verify --archive` names.
2. Under the log-head lock, envelopes are numbered, signed and written as one batch object.
   That object is the commit point: once it exists the batch is part of the archive.
3. The catalog rows are inserted in the same database transaction. A crash between 2 and 3 is
   repaired at the next start by ingesting the batch object (see ``archiver.capture.ingest``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archiver.capture.batchfile import BatchHeader, batch_key, encode_batch
from archiver.capture.document import DOCUMENT_TYPE, version_row
from archiver.capture.evidence import RawEvidence
from archiver.capture.partition import capture_log_partition, record_partition
from archiver.capture.warcfiles import LocalWarc, PartitionFiles, PlacedVersion
from archiver.db.catalog import BatchRow, VersionRow, WarcObjectRow
from archiver.integrity.envelope import Envelope, SignerLike, sign_envelope
from archiver.integrity.merkle import MerkleFrontier
from archiver.model import AccountInfo, Observation, RunInfo, VersionState
from archiver.wiring import Archive


@dataclass(frozen=True)
class PendingVersion:
    """A new version decided by change detection, waiting for its batch to commit."""

    observation: Observation
    record_id: str
    number: int
    state: VersionState
    document: bytes
    fields: Mapping[str, Any]  # the document's fields, kept to avoid parsing the bytes back
    captured_at: datetime


@dataclass(frozen=True)
class BatchInput:
    run: RunInfo
    account: AccountInfo
    sequence: int
    versions: Sequence[PendingVersion]
    evidence: Mapping[str, RawEvidence]
    seen: Mapping[str, datetime]
    seen_partitions: Mapping[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CommittedBatch:
    key: str
    first_index: int
    count: int
    warc_keys: tuple[str, ...]


def commit_batch(archive: Archive, batch: BatchInput) -> CommittedBatch:
    placed, warcs = _write_partitions(archive, batch)
    objects = _upload(archive, batch.run, warcs)
    catalog = archive.catalog
    signer = archive.signer()
    with catalog.begin() as conn:
        head = catalog.lock_log_head(conn)
        key = batch_key(batch.run.id, batch.sequence, head.size)
        frontier = MerkleFrontier.from_json(head.frontier)
        # Read under the lock: the previous versions may have been committed by the batch just before.
        previous = catalog.latest_leaves(conn, [p.pending.record_id for p in placed if p.pending.number > 1])
        rows, lines = _sign_versions(batch, placed, head.size, frontier, signer, previous)
        header = BatchHeader(run=batch.run, account=batch.account, sequence=batch.sequence,
                             first_index=head.size, count=len(rows), warc_objects=tuple(objects),
                             seen=dict(batch.seen))
        body = encode_batch(header, lines)
        put = archive.store.put_bytes(key, body, content_type="application/x-ndjson", if_absent=True)
        catalog.apply_batch(conn, BatchRow(key=key, sha256=put.sha256, run_id=batch.run.id,
                                           first_index=head.size, versions=rows, warc_objects=objects,
                                           seen=batch.seen),
                            new_size=frontier.size, frontier=frontier.to_json())
    return CommittedBatch(key=key, first_index=head.size, count=len(rows),
                          warc_keys=tuple(o.key for o in objects))


def _write_partitions(archive: Archive, batch: BatchInput) -> tuple[list[PlacedVersion], list[LocalWarc]]:
    """Write each version with the evidence it came from into its partition's WARC file."""
    settings = archive.settings
    files = PartitionFiles(settings.spool_dir / batch.run.id / f"batch-{batch.sequence:05d}",
                           run=batch.run, sequence=batch.sequence, settings=settings, clock=archive.clock)
    placed: list[PlacedVersion] = []
    used: set[str] = set()
    account_id = batch.account.id
    for pending in batch.versions:
        o = pending.observation
        partition = record_partition(o.platform, account_id, o.kind, o.posted_at or pending.captured_at)
        evidence = [(e, batch.evidence[e]) for e in o.exchanges]
        placed.append(files.place_version(partition, pending, evidence, uri=_version_uri(pending),
                                          content_type=DOCUMENT_TYPE))
        used.update(o.exchanges)
    for evidence_id, partitions in batch.seen_partitions.items():
        for partition in sorted(partitions):
            files.place_evidence(partition, [(evidence_id, batch.evidence[evidence_id])])
        used.add(evidence_id)
    leftovers = [(e, ev) for e, ev in batch.evidence.items() if e not in used]
    if leftovers:
        partition = capture_log_partition(batch.account.platform, account_id, batch.run.started_at)
        files.place_evidence(partition, leftovers)
    return placed, files.close_all()


def _upload(archive: Archive, run: RunInfo, warcs: list[LocalWarc]) -> list[WarcObjectRow]:
    objects = []
    for local in warcs:
        result = archive.store.put_file(local.key, local.path, content_type="application/warc",
                                        if_absent=True)
        objects.append(WarcObjectRow(key=local.key, partition=local.partition, run_id=run.id,
                                     size=result.size, sha256=result.sha256, records=local.records))
        local.path.unlink()
    return objects


def _sign_versions(batch: BatchInput, placed: list[PlacedVersion], first_index: int,
                   frontier: MerkleFrontier, signer: SignerLike, previous: dict[str, str],
                   ) -> tuple[list[VersionRow], list[bytes]]:
    rows: list[VersionRow] = []
    lines: list[bytes] = []
    last_in_batch = dict(previous)
    for offset, item in enumerate(placed):
        pending = item.pending
        o = pending.observation
        envelope = Envelope(
            log_index=first_index + offset, record_id=pending.record_id, platform=str(o.platform),
            platform_id=o.platform_id, account_id=batch.account.id, kind=str(o.kind), version=pending.number,
            state=str(pending.state), reason=_str(o.reason), detection=_str(o.detection),
            content_sha256=item.content_sha256, captured_at=pending.captured_at, run_id=batch.run.id,
            source=str(batch.run.source), version_ref=item.version_ref, evidence=item.evidence_refs,
            previous=last_in_batch.get(pending.record_id))
        signed = sign_envelope(envelope, signer)
        frontier.append(signed.leaf_data)
        last_in_batch[pending.record_id] = signed.sha256
        rows.append(version_row(envelope, leaf_sha256=signed.sha256, key_id=signed.key_id,
                                signature=signed.signature, document=pending.fields))
        lines.append(signed.to_line())
    return rows, lines


def _version_uri(pending: PendingVersion) -> str:
    return f"urn:arsip:record:{pending.record_id}:version:{pending.number}"


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)
