"""Carry out an approved disposition: re-check, compact, tombstone, certify, then delete.

The order keeps the archive provable at every step. Compacted objects are written first (harmless
if nothing follows). One catalog transaction then holds the log head's lock — hold creation takes
it too, so no hold can appear unseen — re-evaluates every record of the batch against the holds
and schedules in force *now*, writes tombstones and moved locations, takes the records out of the
search index, and writes the signed certificate just before it commits. Only after the commit are
the old objects deleted; a crash in between leaves a certificate whose deletions are finished by
running the same command again (and `arsip verify --archive` says so until then).

Transfers and accessions first write their package (``archiver.retention.transfer``) and wait; the
records leave this archive through the same path only once the receipt is confirmed
(:func:`confirm_receipt`), so a package that never arrives loses nothing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver.audit import audit
from archiver.clock import isoformat_z
from archiver.db.catalog import Connection
from archiver.db.retention_rows import (
    BatchRow,
    RecordFactRow,
    StoredVersionRef,
    batch_items,
    facts_for,
    insert_tombstones,
    objects_in_partitions,
    records_with_versions,
    relocate_version,
    replace_object,
    set_item_outcomes,
    update_batch,
    version_objects,
    versions_in_objects,
)
from archiver.errors import StoreError
from archiver.integrity.merkle import MerkleFrontier
from archiver.plugins import after_disposition, forget_records
from archiver.retention import compaction
from archiver.retention.batches import BatchStatus, DispositionError, items_of, load, publish
from archiver.retention.certificate import CERTIFICATE_SCHEMA, batch_key, jsonl, jsonl_line, sign
from archiver.retention.facts import FactsReader
from archiver.retention.holds import active_holds, require_officer
from archiver.retention.object_locks import sync_object_locks
from archiver.retention.schedules import schedules_in_force
from archiver.retention.transfer import (
    PACKAGED,
    check_returned_manifest,
    discard_package,
    package_directory,
    receipt_record,
    write_package,
)
from archiver.wiring import Archive
from retention_policies.evaluate import evaluate
from retention_policies.model import Action, Decision, RecordFacts, ScheduleSet, Status

TRANSFERS = (str(Action.TRANSFER), str(Action.ACCESSION))


@dataclass
class Outcome:
    """What an execution did (or, in a dry run, would do)."""

    batch_id: str
    dry_run: bool
    action: str = str(Action.DESTROY)
    destroyed: list[str] = field(default_factory=list)  # records that left (or would leave) the archive
    skipped: dict[str, str] = field(default_factory=dict)  # record id -> why (held, not due, gone)
    objects_deleted: list[str] = field(default_factory=list)
    objects_compacted: list[str] = field(default_factory=list)
    certificate_key: str | None = None
    package: str | None = None  # a transfer's package directory, once written
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    deleted: list[dict[str, Any]]  # every object the disposition removes, rewritten ones included
    results: list[compaction.Compacted]  # the rewrites

    def written(self) -> list[dict[str, Any]]:
        return [{"key": r.new_key, "sha256": r.sha256, "size": r.size, "records": r.records, "replaces": r.old_key}
                for r in self.results]


def execute(archive: Archive, batch_id: str, *, actor: str, yes: bool, out: Path | None = None) -> Outcome:
    """Dry run unless ``yes``; with ``yes``, destroy and certify, or write a transfer's package under
    ``out`` (default ``<home>/transfers``) and wait for its receipt (see the module docstring)."""
    require_officer(archive, actor, "execute dispositions")
    batch = load_batch(archive, batch_id)
    if batch.status == BatchStatus.EXECUTED:
        return _finish_deletes(archive, batch, actor)
    if batch.status == BatchStatus.AWAITING_RECEIPT:
        raise DispositionError(f"batch {batch_id}'s package was written to {_package_path(batch)}; once the "
                               "receiving archive confirms it, run `arsip retention receipt "
                               f"{batch_id} --reference ...`", code="awaiting_receipt")
    if batch.status != BatchStatus.APPROVED:
        raise DispositionError(f"batch {batch_id} is {batch.status}; it needs its approvals first "
                               "(`arsip retention approve`)", code="bad_state")
    if batch.action not in (str(Action.DESTROY), *TRANSFERS):
        raise DispositionError(f"batch {batch_id} asks for {batch.action}: a person re-appraises those records "
                               "and assigns them a new schedule item; nothing is executed, so cancel the batch "
                               "with `arsip retention cancel`", code="bad_action")
    schedules = schedules_in_force(archive, actor=actor)
    if not yes:
        return _dry_run(archive, batch, schedules)
    if batch.action in TRANSFERS:
        return _package(archive, batch, schedules, actor, package_directory(archive, batch.id, out))
    return _dispose(archive, batch, schedules, actor)


def confirm_receipt(archive: Archive, batch_id: str, *, actor: str, reference: str,
                    returned_manifest: bytes | None, yes: bool) -> Outcome:
    """The receiving archive has the package: dispose of its records here (dry run unless ``yes``).

    ``returned_manifest``, when given, is the receiver's copy of the payload manifest and must match
    the one sent. Records that came under a hold since the package was written stay here.
    """
    require_officer(archive, actor, "confirm transfer receipts")
    if not reference.strip():
        raise DispositionError("give the receiving archive's receipt reference (accession or transfer number, "
                               "berita acara number) with --reference", code="receipt_reference_required")
    batch = load_batch(archive, batch_id)
    if batch.status != BatchStatus.AWAITING_RECEIPT:
        raise DispositionError(f"batch {batch_id} is {batch.status}; only a transfer whose package was written "
                               "awaits a receipt", code="bad_state")
    if returned_manifest is not None:
        check_returned_manifest(archive, batch_id, returned_manifest)
    packaged = {i.record_id for i in items_of(archive, batch_id) if i.outcome == "packaged"}
    schedules = schedules_in_force(archive, actor=actor)
    if not yes:
        return _dry_run(archive, batch, schedules, only=packaged)
    transfer = receipt_record((batch.details or {})["package"], reference=reference.strip(), confirmed_by=actor,
                              confirmed_at=isoformat_z(archive.clock.now()), returned_manifest=returned_manifest)
    outcome = _dispose(archive, batch, schedules, actor, only=packaged, transfer=transfer)
    if outcome.skipped:
        outcome.warnings.append(f"{len(outcome.skipped)} packaged records stay here (held or no longer due); the "
                                "package sent holds copies of them: tell the receiving archive")
    return outcome


def _dispose(archive: Archive, batch: BatchRow, schedules: ScheduleSet, actor: str, *,
             only: set[str] | None = None, transfer: dict[str, Any] | None = None) -> Outcome:
    outcome = _commit(archive, batch, schedules, actor, only=only, transfer=transfer)
    audit(archive, actor=actor, action="disposition.execute", target=f"disposition:{batch.id}",
          details={"action": batch.action, "disposed": len(outcome.destroyed), "skipped": len(outcome.skipped),
                   "certificate": outcome.certificate_key,
                   "receipt": transfer["receipt"]["reference"] if transfer else None})
    finished = _finish_deletes(archive, load_batch(archive, batch.id), actor)
    outcome.warnings += finished.warnings
    sync_object_locks(archive)  # compacted objects that kept held records get their legal hold
    return outcome


def _package(archive: Archive, batch: BatchRow, schedules: ScheduleSet, actor: str, directory: Path) -> Outcome:
    """Write the package of what is due, then record it, unless a hold appeared meanwhile."""
    outcome = Outcome(batch_id=batch.id, dry_run=False, action=batch.action)
    with archive.catalog.read() as conn:
        due, _skipped = _decide(archive, conn, batch, schedules, archive.clock.now())
    if not due:
        raise DispositionError(f"no record of batch {batch.id} can be transferred now (all held, gone or no "
                               "longer due); nothing was written", code="nothing_to_do")
    package = write_package(archive, batch.id, due, schedules, directory)
    try:
        with archive.catalog.begin() as conn:
            archive.catalog.lock_log_head(conn)  # hold creation takes it too: none can slip in unseen
            again, outcome.skipped = _decide(archive, conn, batch, schedules, archive.clock.now())
            changed = {d.record_id for d in due} - {d.record_id for d in again}
            if changed:
                raise DispositionError(f"{len(changed)} records of batch {batch.id} came under a hold or stopped "
                                       "being due while the package was written; the package was removed: run "
                                       "the command again", code="changed_while_packaging")
            set_item_outcomes(conn, batch.id, {**{d.record_id: "packaged" for d in due},
                                               **{r: "skipped" for r in outcome.skipped}})
            update_batch(conn, batch.id, status=BatchStatus.AWAITING_RECEIPT,
                         details={**(batch.details or {}), "package": package})
    except BaseException:
        discard_package(directory)
        raise
    archive.store.put_bytes(batch_key(batch.id, PACKAGED), jsonl([{"record_id": d.record_id} for d in due]),
                            content_type="application/x-ndjson")
    publish(archive, load_batch(archive, batch.id))
    audit(archive, actor=actor, action="disposition.package", target=f"disposition:{batch.id}",
          details={"records": len(due), "skipped": len(outcome.skipped), "path": package["path"],
                   "payload_oxum": package["payload_oxum"]})
    outcome.destroyed = sorted(d.record_id for d in due)
    outcome.package = package["path"]
    return outcome


def _package_path(batch: BatchRow) -> str:
    return str((batch.details or {}).get("package", {}).get("path", "?"))


def load_batch(archive: Archive, batch_id: str) -> BatchRow:
    with archive.catalog.read() as conn:
        return load(conn, batch_id)


def _decide(archive: Archive, conn: Connection, batch: BatchRow, schedules: ScheduleSet, now: datetime,
            only: set[str] | None = None) -> tuple[list[Decision], dict[str, str]]:
    """Re-evaluate the batch's records (or ``only`` those) now: (due, skipped with the reason)."""
    items = {i.record_id: i.item_id for i in batch_items(conn, batch.id) if only is None or i.record_id in only}
    reader = FactsReader(conn)
    found: set[str] = set()

    def facts() -> Iterator[RecordFacts]:  # streamed: a batch of 100,000 records is never all in memory
        for row in facts_for(conn, items):
            found.add(row.record_id)
            yield reader.facts(row)

    due: list[Decision] = []
    skipped: dict[str, str] = {}
    for decision in evaluate(facts(), schedules, active_holds(archive, conn), now):
        if decision.status is Status.HELD:
            skipped[decision.record_id] = f"under hold {', '.join(decision.holds)}"
        elif decision.status is not Status.DUE or str(decision.action) != batch.action:
            skipped[decision.record_id] = f"no longer due ({decision.status}, {decision.action})"
        elif decision.item_id != items[decision.record_id]:
            skipped[decision.record_id] = f"now under schedule item {decision.item_id}"
        else:
            due.append(decision)
    skipped.update({record_id: "already disposed of" for record_id in items if record_id not in found})
    return due, skipped


def _dry_run(archive: Archive, batch: BatchRow, schedules: ScheduleSet, only: set[str] | None = None) -> Outcome:
    outcome = Outcome(batch_id=batch.id, dry_run=True, action=batch.action)
    with archive.catalog.read() as conn:
        due, outcome.skipped = _decide(archive, conn, batch, schedules, archive.clock.now(), only)
        outcome.destroyed = [d.record_id for d in due]
        objects = objects_in_partitions(conn, {_partition(key) for key in version_objects(conn, outcome.destroyed)})
    outcome.objects_compacted = [o["key"] for o in objects]  # at most these; the real run decides per object
    return outcome


def _commit(archive: Archive, batch: BatchRow, schedules: ScheduleSet, actor: str, *, only: set[str] | None,
            transfer: dict[str, Any] | None) -> Outcome:
    outcome = Outcome(batch_id=batch.id, dry_run=False, action=batch.action)
    now = archive.clock.now()
    with archive.catalog.begin() as conn:
        head = archive.catalog.lock_log_head(conn)
        due, outcome.skipped = _decide(archive, conn, batch, schedules, now, only)
        if not due:
            raise DispositionError(f"no record of batch {batch.id} can be disposed of now "
                                   f"({len(outcome.skipped)} held, gone or no longer due); nothing was changed",
                                   code="nothing_to_do")
        destroy = {d.record_id for d in due}
        plan = _compact(archive, conn, batch.id, version_objects(conn, destroy), destroy, now)
        listed, versions = _put_record_list(archive, conn, batch.id, due)  # before tombstones hide the records
        insert_tombstones(conn, _tombstones(batch, due, now))
        forget_records(archive, sorted(destroy))
        body = _certificate(archive, batch, schedules, due, listed, versions, plan, actor, now,
                            MerkleFrontier.from_json(head.frontier))
        if transfer is not None:
            body["transfer"] = transfer
        signed = sign(body, archive.signer())
        outcome.certificate_key = batch_key(batch.id, "certificate.json")
        archive.store.put_bytes(outcome.certificate_key, json.dumps(signed, indent=1, ensure_ascii=False).encode(),
                                content_type="application/json", if_absent=True)
        set_item_outcomes(conn, batch.id, {**{d.record_id: Action(batch.action).done for d in due},
                                           **{r: "skipped" for r in outcome.skipped}})
        update_batch(conn, batch.id, status=BatchStatus.EXECUTED, executed_by=actor, executed_at=now,
                     certificate_key=outcome.certificate_key,
                     details={**(batch.details or {}), "pending_deletes": [o["key"] for o in plan.deleted]})
    outcome.destroyed = sorted(destroy)
    outcome.objects_deleted = [o["key"] for o in plan.deleted]
    outcome.objects_compacted = [r.old_key for r in plan.results]
    publish(archive, load_batch(archive, batch.id))
    outcome.warnings += after_disposition(archive, signed)
    return outcome


def _compact(archive: Archive, conn: Connection, batch_id: str, holding: Iterable[str], destroy: set[str],
             now: datetime) -> _Plan:
    """Decide every object in the partitions of ``holding`` (the objects holding the destroyed records'
    versions): delete, rewrite or leave alone."""
    objects = objects_in_partitions(conn, {_partition(key) for key in holding})
    kept: dict[str, list[StoredVersionRef]] = {}
    for ref in versions_in_objects(conn, [o["key"] for o in objects]):
        if ref.record_id not in destroy:
            kept.setdefault(ref.warc_key, []).append(ref)
    plan = _Plan(deleted=[], results=[])
    for obj in objects:
        staying = kept.get(obj["key"], [])
        members = compaction.scan_members(archive.store, obj["key"])
        keep = compaction.members_to_keep(members, _offsets(obj["key"], staying))
        if keep and not compaction.needs_rewrite(members, keep):
            continue
        plan.deleted.append({"key": obj["key"], "sha256": obj["sha256"], "size": obj["size"]})
        if not keep:
            replace_object(conn, obj["key"], None)
            continue
        result = compaction.rewrite(archive.store, obj["key"], keep,
                                    new_key=compaction.compacted_key(obj["key"], batch_id), batch_id=batch_id,
                                    version=archive.settings.warc_version, now=now)
        plan.results.append(result)
        replace_object(conn, obj["key"], {**obj, "key": result.new_key, "sha256": result.sha256,
                                          "size": result.size, "records": result.records})
        _relocate(conn, result, staying)
    return plan


def _offsets(key: str, staying: Iterable[StoredVersionRef]) -> set[int]:
    offsets = set()
    for ref in staying:
        offsets.add(ref.warc_offset)
        for evidence in ref.evidence:
            if evidence["key"] != key:
                raise DispositionError(f"version {ref.log_index} has evidence in {evidence['key']}, outside its "
                                       f"own object {key}; compaction cannot keep it", code="evidence_elsewhere")
            offsets.add(int(evidence["offset"]))
    return offsets


def _relocate(conn: Connection, result: compaction.Compacted, staying: Iterable[StoredVersionRef]) -> None:
    moved = compaction.moved_offsets(result)
    for ref in staying:
        evidence = [{**e, "key": result.new_key, "offset": moved[int(e["offset"])]} for e in ref.evidence]
        relocate_version(conn, ref.log_index, warc_key=result.new_key, warc_offset=moved[ref.warc_offset],
                         evidence=evidence)


def _tombstones(batch: BatchRow, due: Sequence[Decision], now: datetime) -> Iterator[dict[str, Any]]:
    approvers = [a["by"] for a in batch.approvals]
    certificate = batch_key(batch.id, "certificate.json")
    return ({"record_id": d.record_id, "batch_id": batch.id, "action": str(d.action), "item_id": d.item_id,
             "authority": d.authority, "approved_by": approvers, "executed_at": now, "certificate_key": certificate}
            for d in due)


def _certificate(archive: Archive, batch: BatchRow, schedules: ScheduleSet, due: Sequence[Decision],
                 listed: dict[str, Any], versions: int, plan: _Plan, actor: str, now: datetime,
                 frontier: MerkleFrontier) -> dict[str, Any]:
    moves = [{"from_key": r.old_key, "from_offset": m.old_offset, "to_key": r.new_key, "to_offset": m.new_offset,
              "record_id": m.record_id} for r in plan.results for m in r.moves]
    by_item: dict[str, int] = {}
    for d in due:
        by_item[d.item_id] = by_item.get(d.item_id, 0) + 1
    jra = any(schedules.item(i).framework == "jra" for i in by_item)
    return {"schema": CERTIFICATE_SCHEMA, "batch_id": batch.id, "profile": "jra" if jra else "nara",
            "action": batch.action, "archive_origin": archive.origin, "agency": archive.settings.agency or None,
            "created_at": isoformat_z(batch.created_at), "executed_at": isoformat_z(now), "executed_by": actor,
            "approvals": batch.approvals, "schedule_fingerprint": schedules.fingerprint,
            "summary": {"records": listed["count"], "versions": versions, "objects_deleted": len(plan.deleted),
                        "by_item": [{"item": i, "title": schedules.item(i).title,
                                     "authority": schedules.item(i).authority, "records": n}
                                    for i, n in sorted(by_item.items())]},
            "list": listed, "moves": _put_list(archive, batch.id, "moves.jsonl", moves),
            "objects_deleted": plan.deleted, "objects_written": plan.written(),
            "log": {"size": frontier.size, "root": frontier.root().hex()}}


def _put_record_list(archive: Archive, conn: Connection, batch_id: str,
                     due: Sequence[Decision]) -> tuple[dict[str, Any], int]:
    """Write ``records.jsonl`` (one line per record with every version's digests) through a spool file,
    so its size never sits in memory; returns its listing for the certificate and the version count."""
    decisions = {d.record_id: d for d in due}
    count = versions = 0
    with tempfile.TemporaryFile(dir=archive.settings.home) as spool:
        for row, refs in records_with_versions(conn, decisions):
            spool.write(jsonl_line(_record_line(decisions[row.record_id], row, refs)))
            count += 1
            versions += len(refs)
        spool.seek(0)
        put = archive.store.put_stream(batch_key(batch_id, "records.jsonl"), spool,
                                       content_type="application/x-ndjson")
    return {"key": batch_key(batch_id, "records.jsonl"), "sha256": put.sha256, "count": count}, versions


def _record_line(decision: Decision, row: RecordFactRow, refs: Sequence[StoredVersionRef]) -> dict[str, Any]:
    return {"record_id": row.record_id, "platform": row.platform, "platform_id": row.platform_id,
            "kind": row.kind, "account_id": row.account_id, "url": row.url,
            "parent_platform_id": row.parent_platform_id, "item": decision.item_id,
            "authority": decision.authority,
            "eligible_on": decision.eligible_on.isoformat() if decision.eligible_on else None,
            "posted_at": isoformat_z(row.posted_at) if row.posted_at else None,
            "versions": [{"number": ref.number, "log_index": ref.log_index, "content_sha256": ref.content_sha256,
                          "leaf_sha256": ref.leaf_sha256} for ref in refs]}


def _put_list(archive: Archive, batch_id: str, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    body = jsonl(rows)
    put = archive.store.put_bytes(batch_key(batch_id, name), body, content_type="application/x-ndjson")
    return {"key": batch_key(batch_id, name), "sha256": put.sha256, "count": len(rows)}


def _finish_deletes(archive: Archive, batch: BatchRow, actor: str) -> Outcome:
    """Delete the objects an executed batch's certificate lists (idempotent: resumes after a crash)."""
    outcome = Outcome(batch_id=batch.id, dry_run=False, certificate_key=batch.certificate_key)
    pending = list((batch.details or {}).get("pending_deletes", []))
    left = []
    for key in pending:
        try:
            if archive.store.head(key) is not None:
                if archive.store.supports_object_lock:
                    archive.store.set_legal_hold(key, False)
                archive.store.delete(key)
            outcome.objects_deleted.append(key)
        except StoreError as exc:
            left.append(key)
            outcome.warnings.append(f"{key} not deleted yet: {exc}; run `arsip retention execute {batch.id} "
                                    "--yes` again when it can be")
    if left != pending:
        with archive.catalog.begin() as conn:
            update_batch(conn, batch.id, details={**(batch.details or {}), "pending_deletes": left})
        publish(archive, load_batch(archive, batch.id))
    if pending and not left:
        audit(archive, actor=actor, action="disposition.objects_deleted", target=f"disposition:{batch.id}",
              details={"objects": len(pending)})
    return outcome


def _partition(key: str) -> str:
    return key.removeprefix("warc/").rsplit("/", 1)[0]
