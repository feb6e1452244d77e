"""Large batches are committed in a worker process; the archive it leaves is the same kind of
archive a commit thread leaves, and a worker that dies fails the run loudly without losing or
corrupting anything already committed."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from archiver.capture.service import run_capture
from archiver.capture.session import CaptureSession
from archiver.db import schema as t
from archiver.model import AccountInfo, ProblemCode, RunStatus
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive
from tests.support.accounts import add_cityhall


@pytest.fixture
def worker_archive(any_archive: Archive) -> Iterator[Archive]:
    """A file-store archive on SQLite and on PostgreSQL, with batches small enough to need several commits."""
    archive = any_archive
    assert archive.reopenable
    archive.settings = replace(archive.settings, batch_max_versions=40, commit_process_threshold=20)
    yield archive


@pytest.fixture
def worker_submissions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions handed to a worker process."""
    submitted: list[str] = []
    original = ProcessPoolExecutor.submit

    def spy(self: ProcessPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        submitted.append(fn.__name__)
        return original(self, fn, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", spy)
    return submitted


def versions(archive: Archive) -> int:
    with archive.catalog.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.Version)).scalar_one())


def test_large_batches_commit_in_a_worker_process(worker_archive: Archive, worker_submissions: list[str]) -> None:
    summary = run_capture(worker_archive, add_cityhall(worker_archive),
                          SyntheticCollector(SyntheticPlan(versions=200, page_size=20)))
    assert summary.status is RunStatus.SUCCEEDED
    assert worker_submissions and set(worker_submissions) == {"_commit_in_worker"}
    assert versions(worker_archive) == 200
    report = verify_archive(worker_archive.store, origin=worker_archive.origin, catalog=worker_archive.catalog)
    assert report.ok, [f.line() for f in report.findings]
    assert report.checked["versions"] == 200


def test_small_batches_and_unshareable_archives_stay_in_a_thread(archive: Archive,
                                                                 worker_submissions: list[str]) -> None:
    owner = add_cityhall(archive)
    run_capture(archive, owner, SyntheticCollector(SyntheticPlan(versions=60)))
    assert worker_submissions == []  # 60 versions is below the default threshold
    archive.settings = replace(archive.settings, batch_max_versions=40, commit_process_threshold=20)
    archive.reopenable = False  # as for memory:// stores, or a store handed in by the caller
    summary = run_capture(archive, owner, SyntheticCollector(SyntheticPlan(versions=200, page_size=10)))
    assert summary.counts["batches"] >= 2, summary.counts
    assert worker_submissions == []


class KillsTheWorker(SyntheticCollector):
    """Kills the commit worker with SIGKILL once it has started, as the kernel's OOM killer would."""

    def collect(self, session: CaptureSession, account: AccountInfo) -> AccountInfo:
        original = session.commit_point

        def commit_point_then_kill() -> None:
            original()
            for child in multiprocessing.active_children():
                os.kill(child.pid or 0, signal.SIGKILL)

        session.commit_point = commit_point_then_kill  # type: ignore[method-assign]
        return super().collect(session, account)


def test_a_killed_worker_fails_the_run_and_loses_nothing_committed(worker_archive: Archive) -> None:
    owner = add_cityhall(worker_archive)
    summary = run_capture(worker_archive, owner, KillsTheWorker(SyntheticPlan(versions=200, page_size=20)))
    assert summary.status is RunStatus.FAILED
    assert [p.code for p in summary.problems] == [ProblemCode.COMMIT_FAILED]
    assert "worker process stopped" in summary.problems[0].message
    committed = versions(worker_archive)
    assert committed < 200
    report = verify_archive(worker_archive.store, origin=worker_archive.origin, catalog=worker_archive.catalog)
    assert report.ok, [f.line() for f in report.findings]

    again = run_capture(worker_archive, owner, SyntheticCollector(SyntheticPlan(versions=200, page_size=20)))
    assert again.status is RunStatus.SUCCEEDED
    assert versions(worker_archive) == 200
    report = verify_archive(worker_archive.store, origin=worker_archive.origin, catalog=worker_archive.catalog)
    assert report.ok, [f.line() for f in report.findings]
