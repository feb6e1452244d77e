"""`arsip rebuild`: recreate the catalog from the object store alone (DESIGN.md invariant 1)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from archiver.accounts import ACCOUNTS_PREFIX
from archiver.audit import AUDIT_PREFIX, parse_entry
from archiver.capture.batchfile import BATCH_PREFIX, batch_order
from archiver.capture.ingest import ingest_batch
from archiver.capture.service import RUNS_PREFIX
from archiver.clock import parse_timestamp
from archiver.db.audit_rows import insert_entry
from archiver.db.catalog import Catalog, CheckpointRow, save_checkpoint, save_signing_key
from archiver.db.migrate import upgrade
from archiver.db.saved_rows import upsert_saved
from archiver.errors import CatalogError, IntegrityError
from archiver.integrity.checkpoint import NoteVerifierKey, verify_checkpoint
from archiver.integrity.merkle import MerkleFrontier
from archiver.integrity.publish import CHECKPOINT_PREFIX, load_public_keys, timestamp_key
from archiver.model import AccountInfo, Problem, ProblemCode, RunInfo, RunStatus
from archiver.retention.certificate import load_ledger
from archiver.retention.restore import restore_retention
from archiver.saved_searches import latest_saved_searches
from archiver.store.base import BlobStore
from archiver.wiring import LOG_CONFIG_KEY


@dataclass(frozen=True)
class RebuildReport:
    counts: dict[str, int]


def rebuild_catalog(store: BlobStore, catalog: Catalog) -> RebuildReport:
    """Fill an empty catalog from ``store``; every batch is re-verified as it is ingested."""
    upgrade(catalog.engine)
    counts: Counter[str] = Counter()
    with catalog.begin() as conn:
        if catalog.log_head(conn) is not None:
            raise CatalogError("rebuild needs an empty catalog; move the old one aside (arsip rebuild --replace "
                               "does this for SQLite) or point ARSIP_DATABASE_URL at an empty database",
                               code="catalog_not_empty")
        origin = json.loads(store.get_bytes(LOG_CONFIG_KEY))["origin"]
        catalog.create_log_head(conn, origin, MerkleFrontier().to_json())
        keys = load_public_keys(store)
        for info in keys.values():
            save_signing_key(conn, info.key_id, info.to_json()["public_key"], str(info.status), info.created_at,
                             info.retired_at)
        for account in _latest_accounts(store):
            catalog.save_account(conn, account)
            counts["accounts"] += 1
        for saved in latest_saved_searches(store):
            upsert_saved(conn, saved)
            counts["saved_searches"] += 1
    ledger = load_ledger(store, keys, _refuse)
    for key in sorted((item.key for item in store.list(BATCH_PREFIX)), key=batch_order):
        with catalog.begin() as conn:
            header = ingest_batch(store, catalog, conn, key, keys, ledger)
        if header is not None:
            counts["batches"] += 1
            counts["versions"] += header.count
    counts["runs"] = _restore_runs(store, catalog)
    counts["checkpoints"] = _restore_checkpoints(store, catalog, origin, keys)
    counts["audit_entries"] = _restore_audit(store, catalog)
    with catalog.begin() as conn:
        counts.update(restore_retention(store, conn, ledger))
    return RebuildReport(counts=dict(counts))


def _refuse(code: str, subject: str, message: str) -> None:
    raise IntegrityError(f"{subject}: {message}; a rebuild cannot tell what that disposition did",
                         code=code)


def _latest_accounts(store: BlobStore) -> list[AccountInfo]:
    latest: dict[str, str] = {}
    for item in store.list(ACCOUNTS_PREFIX):
        account_id = item.key.split("/")[1]
        latest[account_id] = max(latest.get(account_id, ""), item.key)
    return [AccountInfo.from_json(json.loads(store.get_bytes(key))) for key in sorted(latest.values())]


def _restore_runs(store: BlobStore, catalog: Catalog) -> int:
    restored = 0
    for item in store.list(RUNS_PREFIX):
        manifest = json.loads(store.get_bytes(item.key))
        run = RunInfo.from_json(manifest["run"])
        with catalog.begin() as conn:
            if not catalog.run_exists(conn, run.id):
                catalog.start_run(conn, run)
            catalog.finish_run(conn, run.id, status=RunStatus(manifest["status"]),
                               finished_at=parse_timestamp(manifest["finished_at"]), counts=manifest["counts"],
                               state=manifest["state"],
                               problems=[Problem(ProblemCode(p["code"]), p["message"], p["item"])
                                         for p in manifest["problems"]])
        restored += 1
    return restored


def _restore_checkpoints(store: BlobStore, catalog: Catalog, origin: str, keys: dict[str, Any]) -> int:
    verifiers = [NoteVerifierKey(origin, info.public_key_bytes) for info in keys.values()]
    restored = 0
    with catalog.begin() as conn:
        for item in store.list(CHECKPOINT_PREFIX):
            if not item.key.endswith(".note"):
                continue
            checkpoint = verify_checkpoint(store.get_bytes(item.key).decode(), verifiers, origin=origin)
            stamp = timestamp_key(checkpoint.size)
            save_checkpoint(conn, CheckpointRow(size=checkpoint.size, root_hash=checkpoint.root_hash.hex(),
                                                key=item.key,
                                                timestamp_key=stamp if store.head(stamp) is not None else None))
            restored += 1
    return restored


def _restore_audit(store: BlobStore, catalog: Catalog) -> int:
    restored = 0
    with catalog.begin() as conn:
        for item in store.list(AUDIT_PREFIX):
            for line in store.get_bytes(item.key).splitlines():
                data = json.loads(line)
                entry = parse_entry(data)
                insert_entry(conn, seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action,
                             target=entry.target, outcome=entry.outcome, details=entry.details,
                             previous_hash=entry.previous_hash, hash_=data["hash"], sealed_in=item.key)
                restored += 1
    return restored
