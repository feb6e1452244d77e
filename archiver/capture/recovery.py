"""Finish what an interrupted capture left behind: ingest its committed batches and close the run."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from archiver.capture.batchfile import BATCH_PREFIX, batch_order
from archiver.capture.ingest import ingest_batch
from archiver.clock import parse_timestamp
from archiver.errors import ObjectNotFound
from archiver.integrity.publish import load_public_keys
from archiver.model import Problem, ProblemCode, RunInfo, RunStatus
from archiver.wiring import Archive

STALE_AFTER = timedelta(hours=12)


def recover(archive: Archive) -> list[str]:
    """Repair runs whose process died: returns one line per repaired run.

    A batch object written just before a crash is already part of the archive (it is the commit
    point); this brings it into the catalog. The run is then closed from its manifest if it got
    that far, or marked aborted. Runs whose process is still alive are left alone.
    """
    with archive.catalog.begin() as conn:
        running = archive.catalog.running_runs(conn)
    now = archive.clock.now()
    repaired = []
    for run in running:
        if _alive(run, now):
            continue
        ingested = _ingest_run_batches(archive, run)
        status = _close_run(archive, run)
        spool = archive.settings.spool_dir / run.id
        note = f" (its raw spool is kept at {spool})" if spool.exists() else ""
        repaired.append(f"run {run.id} was interrupted; {ingested} committed batch(es) recovered, "
                        f"closed as {status}{note}")
    return repaired


def _alive(run: RunInfo, now: datetime) -> bool:
    if now - run.started_at > STALE_AFTER:
        return False
    if run.origin.get("host") != os.uname().nodename:
        return True  # another machine's run: only staleness can tell
    pid = run.origin.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ingest_run_batches(archive: Archive, run: RunInfo) -> int:
    keys = sorted((item.key for item in archive.store.list(f"{BATCH_PREFIX}{run.id}/")), key=batch_order)
    if not keys:
        return 0
    public_keys = load_public_keys(archive.store)
    ingested = 0
    for key in keys:
        with archive.catalog.begin() as conn:
            if ingest_batch(archive.store, archive.catalog, conn, key, public_keys) is not None:
                ingested += 1
    return ingested


def _close_run(archive: Archive, run: RunInfo) -> RunStatus:
    try:
        manifest = json.loads(archive.store.get_bytes(f"runs/{run.id}.json"))
    except ObjectNotFound:
        manifest = None
    with archive.catalog.begin() as conn:
        if manifest is not None:
            status = RunStatus(manifest["status"])
            archive.catalog.finish_run(
                conn, run.id, status=status, finished_at=parse_timestamp(manifest["finished_at"]),
                counts=manifest["counts"],
                state=manifest["state"],
                problems=[Problem(ProblemCode(p["code"]), p["message"], p["item"]) for p in manifest["problems"]])
            return status
        archive.catalog.finish_run(
            conn, run.id, status=RunStatus.ABORTED, finished_at=None, counts={}, state={},
            problems=[Problem(ProblemCode.INTERRUPTED, "the capture process stopped before finishing; "
                              "committed batches were recovered, the rest is collected again next run")])
    return RunStatus.ABORTED
