"""Run one capture (a live collection or an import) for one account, from recovery to checkpoint."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from archiver.accounts import save_account
from archiver.audit import audit
from archiver.capture.recovery import recover
from archiver.capture.session import CaptureSession
from archiver.clock import isoformat_z
from archiver.db.queries import run_object_keys
from archiver.errors import ArchiverError
from archiver.integrity.publish import write_checkpoint
from archiver.model import AccountInfo, Problem, ProblemCode, RunInfo, RunStatus, SourceKind
from archiver.retention.object_locks import sync_object_locks
from archiver.wiring import Archive
from retention_policies.errors import PolicyError

RUNS_PREFIX = "runs/"


class Collector(Protocol):
    """A live collector or an importer, driven by :func:`run_capture`.

    ``collect`` keeps its resume cursors in ``session.state`` as it goes (so they survive a failure
    midway) and returns the account updated with what it learned (resolved ids, display name).
    """

    name: str
    version: str
    source: SourceKind

    def collect(self, session: CaptureSession, account: AccountInfo) -> AccountInfo: ...


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    account: AccountInfo
    status: RunStatus
    counts: Mapping[str, int]
    problems: tuple[Problem, ...]
    checkpoint_size: int | None
    timestamp_problem: str | None = None
    lock_problem: str | None = None  # the run's objects could not be given their Object Lock


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_capture(archive: Archive, account: AccountInfo, collector: Collector, *,
                origin: Mapping[str, Any] | None = None, actor: str = "system") -> RunSummary:
    """Collect or import for one account and commit everything, even when the platform fails midway.

    Platform failures (``ArchiverError``) are recorded as coded problems; whatever was captured
    before the failure is still committed and signed. Anything else is a bug: the run is marked
    failed, its spool kept for inspection, and the exception re-raised. Once everything is committed
    the run's WARC objects get their Object Lock (see :func:`_lock_objects`).
    """
    recover(archive)
    catalog = archive.catalog
    now = archive.clock.now()
    run = RunInfo(id=new_run_id(now), account_id=account.id, source=collector.source, collector=collector.name,
                  collector_version=collector.version, settings_hash=archive.settings.capture_hash(),
                  started_at=now, origin={"host": os.uname().nodename, "pid": os.getpid(), **(origin or {})})
    with catalog.begin() as conn:
        previous_state = catalog.last_run_state(conn, account.id, collector.name)
        catalog.start_run(conn, run)
    session = CaptureSession(archive, account, run, collector=collector.name, state=previous_state)
    learned = account
    try:
        learned = collector.collect(session, account)
    except ArchiverError as exc:
        session.problem(Problem(code=_problem_code(exc), message=str(exc)))
        failed = True
    except BaseException:
        _abandon(archive, session)
        raise
    else:
        failed = False
    try:
        session.flush()
    except ArchiverError as exc:
        session.problem(Problem(code=_problem_code(exc), message=f"the last batch failed to commit: {exc}"))
        failed = True
    finally:
        session.close()
    if learned != account:
        account = save_account(archive, learned, actor=actor)
    status = RunStatus.FAILED if failed else (RunStatus.PARTIAL if session.problems else RunStatus.SUCCEEDED)
    _finish(archive, session, status)
    published = write_checkpoint(archive)
    session.spool.remove()
    locks, lock_problem = _lock_objects(archive, run.id)
    audit(archive, actor=actor, action="capture", target=f"account:{account.id}", outcome=str(status),
          details={"run": run.id, "collector": collector.name, "counts": dict(session.counts), **locks})
    return RunSummary(run_id=run.id, account=account, status=status, counts=dict(session.counts),
                      problems=tuple(session.problems),
                      checkpoint_size=published.row.size if published else None,
                      timestamp_problem=published.timestamp_problem if published else None,
                      lock_problem=lock_problem)


def _lock_objects(archive: Archive, run_id: str) -> tuple[dict[str, Any], str | None]:
    """Give the run's WARC objects their Object Lock now: retention until their records' disposition
    date, and a legal hold when a hold already covers one of their records (rather than at the next
    `arsip holds sync`). Everything is committed and checkpointed by then, so a failure is reported
    with the run, not raised: the capture stands and a later `arsip holds sync` applies the locks."""
    if not archive.store.supports_object_lock:
        return {}, None
    with archive.catalog.read() as conn:
        keys = run_object_keys(conn, run_id)
    try:
        changes = sync_object_locks(archive, keys)
    except (ArchiverError, PolicyError) as exc:
        problem = f"Object Lock not applied to the run's {len(keys)} objects: {exc}; run `arsip holds sync` once fixed"
        return {"locks": {"failed": len(keys), "problem": str(exc)}}, problem
    return {"locks": {"legal_holds_set": len(changes.locked), "retention_extended": len(changes.extended),
                      "undated": len(changes.undated)}}, None


def _abandon(archive: Archive, session: CaptureSession) -> None:
    """A bug or an interrupt stopped the collector: let the batch in flight land, close the run as
    failed and keep the spool for inspection."""
    try:
        session.close()
    except ArchiverError as exc:
        session.problem(Problem(code=_problem_code(exc), message=f"the batch being committed failed: {exc}"))
    finally:
        _finish(archive, session, RunStatus.FAILED)


def _finish(archive: Archive, session: CaptureSession, status: RunStatus) -> None:
    """Write the run manifest to the store, then close the run in the catalog."""
    finished = archive.clock.now()
    manifest = {"schema": "arsip.run/1", "run": session.run.to_json(), "status": str(status),
                "finished_at": isoformat_z(finished), "counts": dict(session.counts),
                "problems": [p.as_dict() for p in session.problems], "state": session.state}
    archive.store.put_bytes(f"{RUNS_PREFIX}{session.run.id}.json", json.dumps(manifest, indent=1).encode(),
                            content_type="application/json")
    with archive.catalog.begin() as conn:
        archive.catalog.finish_run(conn, session.run.id, status=status, finished_at=finished,
                                   counts=session.counts, state=session.state, problems=session.problems)


def _problem_code(exc: ArchiverError) -> ProblemCode:
    try:
        return ProblemCode(exc.code)
    except ValueError:
        return ProblemCode.BAD_RESPONSE
