"""The capture pipeline end to end on the embedded default (SQLite + file store), without a network."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update

from archiver.accounts import add_account, new_account
from archiver.capture import commit as commit_module
from archiver.capture.service import run_capture
from archiver.db import schema as t
from archiver.model import Platform, RunStatus
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.verify.archive import verify_archive
from archiver.verify.record import verify_record
from archiver.wiring import Archive


def add(archive: Archive, handle: str = "cityhall@social.example.gov"):  # type: ignore[no-untyped-def]
    account = new_account(Platform.MASTODON, handle=handle, url=f"https://social.example.gov/@{handle.split('@')[0]}",
                          clock=archive.clock)
    return add_account(archive, account, actor="test")


def capture(archive: Archive, versions: int = 120, **plan: object):  # type: ignore[no-untyped-def]
    return run_capture(archive, add(archive) if not archive_accounts(archive) else archive_accounts(archive)[0],
                       SyntheticCollector(SyntheticPlan(versions=versions, **plan)))  # type: ignore[arg-type]


def archive_accounts(archive: Archive) -> list:  # type: ignore[type-arg]
    with archive.catalog.begin() as conn:
        return archive.catalog.accounts(conn)


def count(archive: Archive, table: type) -> int:
    with archive.catalog.begin() as conn:
        return len(conn.execute(select(table)).all())


def verify(archive: Archive):  # type: ignore[no-untyped-def]
    return verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)


def objects(archive: Archive, prefix: str) -> list[str]:
    return [item.key for item in archive.store.list(prefix)]


def test_capture_signs_logs_and_verifies(archive: Archive) -> None:
    summary = capture(archive, versions=120)
    assert summary.status is RunStatus.SUCCEEDED
    assert count(archive, t.Version) == 120
    assert summary.checkpoint_size == 120
    report = verify(archive)
    assert report.ok, [f.line() for f in report.findings]
    assert report.checked["versions"] == 120
    assert report.checked["checkpoints"] == 1


def test_rerunning_the_same_capture_adds_nothing(archive: Archive) -> None:
    capture(archive, versions=80)
    second = capture(archive, versions=80)
    assert second.counts.get("new", 0) == 0 and second.counts.get("edited", 0) == 0
    assert second.counts["unchanged"] == 80
    assert count(archive, t.Version) == 80
    assert verify(archive).ok


def test_versions_are_batched_not_one_object_per_record(archive: Archive) -> None:
    archive.settings = replace(archive.settings, batch_max_versions=50)
    capture(archive, versions=200)
    warcs = objects(archive, "warc/")
    assert 4 <= len(warcs) <= 20  # a few objects per batch (posts and comments partitions), never 200
    assert all("/post/" in key or "/comment/" in key or "/profile/" in key for key in warcs)


def test_warc_rollover_splits_files_at_the_configured_size(archive: Archive) -> None:
    archive.settings = replace(archive.settings, warc_rollover_bytes=20_000)
    capture(archive, versions=100)
    sizes = [item.size for item in archive.store.list("warc/")]
    assert len(sizes) > 2
    assert verify(archive).ok


def test_record_verification_includes_inclusion_proofs(archive: Archive) -> None:
    capture(archive, versions=40)
    with archive.catalog.begin() as conn:
        record_id = conn.execute(select(t.Record.id).limit(1)).scalar()
    report = verify_record(archive, record_id)
    assert report.ok, [f.line() for f in report.findings]
    assert report.checked["inclusion_proofs"] >= 1


def test_altered_warc_byte_is_named(archive: Archive) -> None:
    capture(archive, versions=40)
    key = objects(archive, "warc/")[0]
    path = Path(archive.store.url.removeprefix("file://")) / key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify(archive)
    assert not report.ok
    assert any(f.subject.startswith(key) or key in f.message for f in report.findings)


def test_deleted_batch_object_breaks_the_log_and_is_named(archive: Archive) -> None:
    archive.settings = replace(archive.settings, batch_max_versions=10)
    capture(archive, versions=60, page_size=10)
    batches = sorted(objects(archive, "log/batches/"))
    assert len(batches) >= 5
    archive_root = Path(archive.store.url.removeprefix("file://"))
    (archive_root / batches[2]).unlink()
    report = verify(archive)
    codes = {f.code for f in report.findings}
    assert not report.ok
    assert {"log_gap", "checkpoint_beyond_log", "catalog_diverges"} <= codes


def test_catalog_edit_is_detected_and_the_signed_original_survives(archive: Archive) -> None:
    capture(archive, versions=10)
    with archive.catalog.begin() as conn:
        conn.execute(update(t.Version).where(t.Version.log_index == 3).values(text="rewritten by someone"))
    report = verify(archive)
    assert [f.code for f in report.findings] == ["catalog_altered"]


def test_crash_after_commit_point_is_recovered_without_duplicates(archive: Archive, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The batch object is the commit point: if the process dies after writing it and before the
    catalog commit, the next run adopts it and nothing is captured twice."""
    original = archive.catalog.apply_batch

    def die(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("simulated kill after the batch object was written")

    monkeypatch.setattr(archive.catalog, "apply_batch", die)
    with pytest.raises(KeyboardInterrupt):
        capture(archive, versions=30)
    assert count(archive, t.Version) == 0
    assert len(objects(archive, "log/batches/")) == 1
    monkeypatch.setattr(archive.catalog, "apply_batch", original)
    _pretend_process_died(archive)
    second = capture(archive, versions=30)
    assert count(archive, t.Version) == 30
    assert second.counts.get("new", 0) == 0
    assert verify(archive).ok


def test_crash_before_commit_point_leaves_only_a_named_orphan(archive: Archive, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def die(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("simulated kill after WARC upload")

    monkeypatch.setattr(commit_module, "_sign_versions", die)
    with pytest.raises(KeyboardInterrupt):
        capture(archive, versions=30)
    monkeypatch.undo()
    _pretend_process_died(archive)
    capture(archive, versions=30)
    assert count(archive, t.Version) == 30
    report = verify(archive)
    assert report.ok
    orphans = [f for f in report.findings if f.code == "orphan_object"]
    assert orphans and all(f.subject.startswith("warc/") for f in orphans)


def test_killed_run_is_closed_as_aborted_with_a_problem(archive: Archive, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A kill -9 leaves the run 'running' with no manifest; the next capture closes it as aborted."""
    monkeypatch.setattr(commit_module, "_sign_versions", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        capture(archive, versions=10)
    monkeypatch.undo()
    archive_root = Path(archive.store.url.removeprefix("file://"))
    for key in objects(archive, "runs/"):
        (archive_root / key).unlink()  # a killed process never wrote its manifest
    with archive.catalog.begin() as conn:
        conn.execute(update(t.CaptureRun).values(status="running", finished_at=None))
    _pretend_process_died(archive)
    capture(archive, versions=10)
    with archive.catalog.begin() as conn:
        statuses = sorted(conn.execute(select(t.CaptureRun.status)).scalars())
        problems = list(conn.execute(select(t.RunProblem.code)).scalars())
    assert statuses == ["aborted", "succeeded"]
    assert "interrupted" in problems
    assert count(archive, t.Version) == 10


def test_batch_object_lists_every_warc_it_commits(archive: Archive) -> None:
    capture(archive, versions=50)
    batch_key = objects(archive, "log/batches/")[0]
    header = json.loads(archive.store.get_bytes(batch_key).splitlines()[0])
    assert sorted(w["key"] for w in header["warc"]) == sorted(objects(archive, "warc/"))
    first = gzip.decompress(archive.store.get_bytes(header["warc"][0]["key"]))
    assert first.startswith(b"WARC/1.1\r\nWARC-Type: warcinfo")


def _pretend_process_died(archive: Archive) -> None:
    """Make runs left 'running' look like they belonged to a dead process on this host."""
    with archive.catalog.begin() as conn:
        for run in conn.execute(select(t.CaptureRun).where(t.CaptureRun.status == "running")).all():
            conn.execute(update(t.CaptureRun).where(t.CaptureRun.id == run.id)
                         .values(origin={**run.origin, "pid": 2**22 + 1}))


def test_concurrent_collectors_share_one_log(any_archive: Archive) -> None:
    """Two processes' worth of captures (separate engines and signers) appending at the same time:
    the log stays gap-free, every version is signed once, and the archive verifies."""
    import threading

    from archiver.wiring import open_archive

    first = any_archive
    second = open_archive(first.settings, clock=first.clock)
    accounts = [add(first, "cityhall@social.example.gov"), add(first, "police@social.example.gov")]
    first.settings = replace(first.settings, batch_max_versions=20)
    second.settings = replace(second.settings, batch_max_versions=20)
    errors: list[BaseException] = []

    def collect(archive: Archive, account, host: str) -> None:  # type: ignore[no-untyped-def]
        try:
            run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=120, page_size=10, host=host)))
        except BaseException as exc:  # surfaced below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=collect, args=(first, accounts[0], "a.example")),
               threading.Thread(target=collect, args=(second, accounts[1], "b.example"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second.close()
    assert errors == []
    assert count(first, t.Version) == 240
    report = verify(first)
    assert report.ok, [f.line() for f in report.findings]


def test_deleted_warc_object_is_named_as_missing(archive: Archive) -> None:
    capture(archive, versions=40)
    key = objects(archive, "warc/")[0]
    (Path(archive.store.url.removeprefix("file://")) / key).unlink()
    report = verify(archive)
    assert not report.ok
    assert any(f.code == "missing_object" and f.subject == key for f in report.findings)
