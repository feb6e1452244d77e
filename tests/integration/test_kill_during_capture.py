"""kill -9 in the middle of a capture: the re-run completes with nothing lost and nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from archiver.clock import FixedClock
from archiver.db import schema as t
from archiver.simulator.mastodon import MastodonInstance, run_mastodon
from archiver.wiring import open_archive
from tests.conftest import PASSPHRASE, make_settings

STATUSES = 400


def arsip(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARSIP_")}
    env.update({"ARSIP_HOME": str(home), "ARSIP_KEY_PASSPHRASE": PASSPHRASE, "ARSIP_LOG_ORIGIN": "test.example/arsip",
                "ARSIP_BATCH_MAX_VERSIONS": "40"})
    return subprocess.Popen([sys.executable, "-m", "archiver", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run(home: Path, *args: str) -> tuple[int, str, str]:
    process = arsip(home, *args)
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def test_killed_capture_reruns_to_a_complete_verifiable_archive(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    instance = MastodonInstance(clock=FixedClock(now))
    agency = instance.add_account("cityhall", "City Hall")
    for n in range(STATUSES):
        instance.post(agency, f"<p>notice {n}</p>", created_at=now - timedelta(minutes=STATUSES - n))
    home = tmp_path / "home"
    assert run(home, "init")[0] == 0
    with run_mastodon(instance, latency_seconds=0.15) as server:
        assert run(home, "accounts", "add", "mastodon", f"{server.base_url}/@cityhall")[0] == 0
        victim = arsip(home, "collect")
        batches = home / "objects" / "log" / "batches"
        deadline = time.monotonic() + 60
        while not (batches.exists() and any(batches.rglob("*.jsonl"))):
            assert victim.poll() is None, "the capture finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        code, out, err = run(home, "collect")
        assert code == 0, err
    code, out, err = run(home, "verify", "--archive")
    assert code == 0, out + err

    archive = open_archive(make_settings(home))
    with archive.catalog.read() as conn:
        per_record = conn.execute(select(t.Version.record_id, func.count()).group_by(t.Version.record_id)).all()
        statuses = sorted(conn.execute(select(t.CaptureRun.status)).scalars())
    archive.close()
    assert len(per_record) == STATUSES + 1  # every status, plus the account profile
    assert all(count == 1 for _record, count in per_record)  # nothing doubled
    assert statuses == ["aborted", "succeeded"]
