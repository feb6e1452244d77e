"""Bring holds, disposition batches, tombstones, assignments and events back from the store (`arsip rebuild`)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

from archiver.clock import parse_timestamp
from archiver.db.catalog import Connection
from archiver.db.retention_rows import (
    BatchItemRow,
    BatchRow,
    insert_batch,
    insert_tombstones,
    restore_identity,
    save_hold,
)
from archiver.retention.batches import BatchStatus
from archiver.retention.certificate import DISPOSITION_PREFIX, Ledger, batch_key
from archiver.retention.classify import restore_classification
from archiver.retention.holds import latest_holds
from archiver.retention.transfer import PACKAGED
from archiver.store.base import BlobStore
from retention_policies.model import Action


def restore_retention(store: BlobStore, conn: Connection, ledger: Ledger) -> Counter[str]:
    counts: Counter[str] = Counter()
    for hold in latest_holds(store):
        save_hold(conn, hold)
        counts["holds"] += 1
    disposed = {(row["batch_id"], row["record_id"]) for row in ledger.tombstones}
    for batch in _latest_batches(store):
        packaged = ({line["record_id"] for line in _lines(store, batch_key(batch.id, PACKAGED))}
                    if store.head(batch_key(batch.id, PACKAGED)) else None)
        items = [BatchItemRow(record_id=line["record_id"], item_id=line["item"],
                              eligible_on=date.fromisoformat(line["eligible_on"]),
                              outcome=_outcome(line["record_id"], batch, (batch.id, line["record_id"]) in disposed,
                                               packaged))
                 for line in _lines(store, batch_key(batch.id, "proposed.jsonl"))]
        insert_batch(conn, batch, items)
        counts["disposition_batches"] += 1
    rows = []
    for line in ledger.tombstones:
        certificate = ledger.certificates[line["batch_id"]]
        rows.append({"record_id": line["record_id"], "batch_id": line["batch_id"], "action": certificate["action"],
                     "item_id": line["item"], "authority": line["authority"],
                     "approved_by": [a["by"] for a in certificate["approvals"]],
                     "executed_at": parse_timestamp(certificate["executed_at"]),
                     "certificate_key": batch_key(line["batch_id"], "certificate.json")})
    insert_tombstones(conn, rows)
    for line in ledger.tombstones:
        posted = parse_timestamp(line["posted_at"]) if line.get("posted_at") else None
        restore_identity(conn, line["record_id"], url=line.get("url"),
                         parent_platform_id=line.get("parent_platform_id"), posted_at=posted)
    counts["tombstones"] = len(rows)
    counts.update(restore_classification(store, conn))
    return counts


def _outcome(record_id: str, batch: BatchRow, disposed: bool, packaged: set[str] | None) -> str:
    """An item's outcome as execution records it: destroyed (or transferred...), skipped (re-checked and
    kept), packaged (a transfer awaiting its receipt), or still proposed."""
    if disposed:
        return Action(batch.action).done
    if batch.status == BatchStatus.EXECUTED:
        return "skipped"
    if packaged is not None:
        return "packaged" if record_id in packaged else "skipped"
    return "proposed"


def _latest_batches(store: BlobStore) -> list[BatchRow]:
    latest: dict[str, str] = {}
    for item in store.list(DISPOSITION_PREFIX):
        batch_id, name = item.key.split("/")[1:3]
        if name.startswith("batch-"):
            latest[batch_id] = max(latest.get(batch_id, ""), item.key)
    batches = []
    for key in sorted(latest.values()):
        data = json.loads(store.get_bytes(key))
        for name in ("as_of", "created_at", "executed_at"):
            data[name] = parse_timestamp(data[name]) if data[name] else None
        batches.append(BatchRow(**data))
    return batches


def _lines(store: BlobStore, key: str) -> list[dict[str, str]]:
    if store.head(key) is None:
        return []
    return [json.loads(line) for line in store.get_bytes(key).splitlines() if line.strip()]
