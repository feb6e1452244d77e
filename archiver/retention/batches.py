"""Disposition batches: propose what is due, approve it, and keep every revision in the store.

A batch is a records officer's proposal (``arsip retention propose``): the records the pure core
found due for one action on a date, with the schedule item and eligibility date of each. It runs
only after the configured number of approvals by records officers (two must be different people),
and, for JRA items of ten years or more, with an ANRI approval reference on record.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from archiver.audit import audit
from archiver.clock import isoformat_z
from archiver.db.retention_rows import BatchItemRow, BatchRow, batch_items, find_batch, insert_batch, update_batch
from archiver.errors import ArchiverError
from archiver.retention.certificate import batch_key, jsonl
from archiver.retention.facts import FactsReader
from archiver.retention.holds import active_holds, require_officer
from archiver.retention.schedules import schedules_in_force
from archiver.wiring import Archive
from retention_policies.evaluate import evaluate
from retention_policies.model import Action, Status


class DispositionError(ArchiverError):
    code = "disposition_error"


class BatchStatus:
    """A batch's life: proposed -> approved -> executed (or cancelled); transfers wait for a receipt."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    AWAITING_RECEIPT = "awaiting_receipt"
    EXECUTED = "executed"
    CANCELLED = "cancelled"


def propose(archive: Archive, *, action: Action, as_of: datetime, actor: str) -> BatchRow:
    """Create a batch of every record due for ``action`` on ``as_of`` (held records are left out)."""
    schedules = schedules_in_force(archive, actor=actor)
    with archive.catalog.read() as conn:
        holds = active_holds(archive, conn)
        due = [d for d in evaluate(FactsReader(conn).all(), schedules, holds, as_of)
               if d.status is Status.DUE and d.action is action]
    if not due:
        raise DispositionError(f"nothing is due for {action} on {as_of.date().isoformat()}; "
                               "`arsip retention due` shows what is due when", code="nothing_due")
    row = BatchRow(id=f"d-{as_of:%Y%m%d}-{secrets.token_hex(4)}", action=str(action), status=BatchStatus.PROPOSED,
                   as_of=as_of, schedule_fingerprint=schedules.fingerprint, created_by=actor,
                   created_at=archive.clock.now(), approvals=[],
                   details={"records": len(due),
                            "needs_external_approval": any(d.needs_external_approval for d in due)})
    items = [BatchItemRow(record_id=d.record_id, item_id=d.item_id, eligible_on=d.eligible_on, outcome="proposed")
             for d in due if d.eligible_on is not None]
    with archive.catalog.begin() as conn:
        insert_batch(conn, row, items)
    archive.store.put_bytes(batch_key(row.id, "proposed.jsonl"),
                            jsonl([{"record_id": i.record_id, "item": i.item_id,
                                    "eligible_on": i.eligible_on.isoformat()} for i in items]),
                            content_type="application/x-ndjson", if_absent=True)
    publish(archive, row)
    audit(archive, actor=actor, action="disposition.propose", target=f"disposition:{row.id}",
          details={"action": row.action, "as_of": isoformat_z(as_of), "records": len(items),
                   "schedules": schedules.fingerprint})
    return row


def approve(archive: Archive, batch_id: str, *, actor: str, reference: str | None) -> BatchRow:
    """Record one approval; the batch becomes approved when it has as many as the settings require."""
    require_officer(archive, actor, "approve dispositions")
    with archive.catalog.begin() as conn:
        batch = load(conn, batch_id)
        if batch.status != BatchStatus.PROPOSED:
            raise DispositionError(f"batch {batch_id} is {batch.status}; only a proposed batch can be approved",
                                   code="bad_state")
        if any(a["by"] == actor for a in batch.approvals):
            raise DispositionError(f"{actor} has already approved batch {batch_id}; a second approval must "
                                   "come from another records officer", code="same_approver")
        approvals = [*batch.approvals, {"by": actor, "role": "records_officer",
                                        "at": isoformat_z(archive.clock.now()), "reference": reference}]
        needs_reference = bool((batch.details or {}).get("needs_external_approval"))
        complete = len(approvals) >= archive.settings.disposition_approvers
        if complete and needs_reference and not any(a["reference"] for a in approvals):
            raise DispositionError(f"batch {batch_id} destroys JRA records kept 10 years or more: give the "
                                   "ANRI approval reference with --reference", code="anri_reference_required")
        batch = replace(batch, approvals=approvals,
                        status=BatchStatus.APPROVED if complete else BatchStatus.PROPOSED)
        update_batch(conn, batch_id, approvals=approvals, status=batch.status)
    publish(archive, batch)
    audit(archive, actor=actor, action="disposition.approve", target=f"disposition:{batch_id}",
          details={"reference": reference, "approvals": len(approvals), "status": batch.status})
    return batch


def cancel(archive: Archive, batch_id: str, *, actor: str, reason: str) -> BatchRow:
    require_officer(archive, actor, "cancel dispositions")
    with archive.catalog.begin() as conn:
        batch = load(conn, batch_id)
        # A transfer awaiting its receipt can still be cancelled (the receiving archive refused the
        # package): nothing has left the archive yet.
        if batch.status not in (BatchStatus.PROPOSED, BatchStatus.APPROVED, BatchStatus.AWAITING_RECEIPT):
            raise DispositionError(f"batch {batch_id} is {batch.status} and can no longer be cancelled",
                                   code="bad_state")
        batch = replace(batch, status=BatchStatus.CANCELLED, details={**(batch.details or {}), "cancelled": reason})
        update_batch(conn, batch_id, status=batch.status, details=batch.details)
    publish(archive, batch)
    audit(archive, actor=actor, action="disposition.cancel", target=f"disposition:{batch_id}",
          details={"reason": reason})
    return batch


def load(conn: Any, batch_id: str) -> BatchRow:
    batch = find_batch(conn, batch_id)
    if batch is None:
        raise DispositionError(f"no disposition batch {batch_id!r}; see `arsip retention batches`",
                               code="batch_unknown")
    return batch


def items_of(archive: Archive, batch_id: str) -> list[BatchItemRow]:
    with archive.catalog.read() as conn:
        return batch_items(conn, batch_id)


def publish(archive: Archive, batch: BatchRow) -> None:
    """Each change of a batch is a new numbered object, so the store (the source of truth) keeps its
    history and `arsip rebuild` takes the latest."""
    data = asdict(batch)
    for name in ("as_of", "created_at", "executed_at"):
        data[name] = isoformat_z(data[name]) if data[name] else None
    revision = sum(1 for _ in archive.store.list(batch_key(batch.id, "batch-"))) + 1
    archive.store.put_bytes(batch_key(batch.id, f"batch-{revision:04d}.json"), json.dumps(data, indent=1).encode(),
                            content_type="application/json", if_absent=True)
