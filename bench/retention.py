"""Retention benchmark: evaluate schedules over 1,000,000 records; dispose of 100,000 on the embedded default.

    .venv/bin/python bench/retention.py --records 1000000 --dispose 100000 --repeat 3

evaluate: a catalog with ``--records`` records (half posts, half citizen comments, 400 accounts,
2018-2025, one version each, a tenth of the comments hidden by the agency) is written straight
into SQLite (capture is measured by bench/ingest.py; here only the catalog's shape matters), then
``evaluate`` streams every record through FactsReader and the pure core against NARA GRS with
three holds (an account, a date range, 1,000 explicit records). dispose: an archive of ``--dispose`` records is
captured through the real pipeline (WARC, signatures, log) in a separate process, then a batch of
everything due five years later is proposed, approved and executed (`--yes`), compaction,
certificate and PDF included; the time and peak memory are the disposition's.
Each phase runs in its own process so its peak memory is its own; figures are medians.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from archiver.accounts import add_account, new_account  # noqa: E402
from archiver.capture.service import run_capture  # noqa: E402
from archiver.clock import FixedClock, SystemClock  # noqa: E402
from archiver.db import schema as t  # noqa: E402
from archiver.model import Platform  # noqa: E402
from archiver.retention import batches  # noqa: E402
from archiver.retention.execute import execute  # noqa: E402
from archiver.retention.facts import FactsReader  # noqa: E402
from archiver.retention.holds import ScopeSpec, active_holds, create_hold  # noqa: E402
from archiver.retention.schedules import schedules_in_force  # noqa: E402
from archiver.settings import load_settings  # noqa: E402
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan  # noqa: E402
from archiver.wiring import Archive, init_archive, open_archive  # noqa: E402
from retention_policies.evaluate import evaluate  # noqa: E402
from retention_policies.model import Action  # noqa: E402

OFFICER = "bench:officer"
PLATFORMS = ("mastodon", "bluesky", "facebook", "x", "youtube")


def settings(home: Path) -> Any:
    return load_settings({"ARSIP_HOME": str(home), "ARSIP_KEY_PASSPHRASE": "benchmark passphrase",
                          "ARSIP_LOG_ORIGIN": "bench.example/arsip", "ARSIP_RECORDS_OFFICERS": OFFICER})


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill_catalog(archive: Archive, records: int) -> None:
    """Accounts, a run, log leaves and one version per record, inserted in bulk."""
    rng = random.Random(11)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with archive.catalog.begin() as conn:
        conn.execute(insert(t.Account), [
            {"id": f"a{i:04d}", "platform": PLATFORMS[i % 5], "handle": f"agency{i}", "url": f"https://x/{i}",
             "tags": ["transitory"] if i == 399 else [], "interval_seconds": 3600, "active": True, "revision": 1,
             "created_at": now, "updated_at": now} for i in range(400)])
        conn.execute(insert(t.CaptureRun).values(id="run", account_id="a0000", source="live", collector="bench",
                                                 collector_version="1", settings_hash="x", origin={},
                                                 started_at=now, status="succeeded", counts={}, state={}))
        conn.execute(insert(t.LogBatch).values(key="b", first_index=0, count=records, sha256="0" * 64, run_id="run"))
    span = int((datetime(2025, 12, 31, tzinfo=UTC) - datetime(2018, 1, 1, tzinfo=UTC)).total_seconds())
    chunk = 20_000
    for start in range(0, records, chunk):
        recs, leaves, versions = [], [], []
        for n in range(start, min(records, start + chunk)):
            account = n % 400
            kind = "post" if n % 2 == 0 else "comment"
            posted = datetime(2018, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(span))
            rid = f"r{n:012d}"
            recs.append({"id": rid, "platform": PLATFORMS[account % 5], "platform_id": str(n),
                         "account_id": f"a{account:04d}", "kind": kind, "parent_platform_id": None, "url": None,
                         "posted_at": posted, "first_seen_at": posted, "last_seen_at": posted, "latest_version": 1,
                         "latest_state": "present"})
            leaves.append({"index": n, "sha256": "0" * 64, "batch_key": "b"})
            hidden = kind == "comment" and n % 20 == 1
            versions.append({"log_index": n, "record_id": rid, "number": 1, "state": "hidden" if hidden else "present",
                             "run_id": "run", "captured_at": posted, "text": "", "fingerprint": "",
                             "content_sha256": "0" * 64, "key_id": "k", "signature": "", "warc_key": "w",
                             "warc_offset": 0, "warc_length": 0, "evidence": [], "media_count": 0})
        with archive.catalog.begin() as conn:
            conn.execute(insert(t.Record), recs)
            conn.execute(insert(t.LogLeaf), leaves)
            conn.execute(insert(t.Version), versions)


def phase_evaluate(home: Path, records: int) -> dict[str, Any]:
    archive = init_archive(settings(home), clock=FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))
    fill_catalog(archive, records)
    schedules = schedules_in_force(archive, actor=OFFICER)
    with archive.catalog.read() as conn:
        explicit = [row[0] for row in conn.execute(t.Record.__table__.select().with_only_columns(t.Record.id)
                                                   .limit(1000))]
    create_hold(archive, matter="account", reason="r", issuer="i", scope=ScopeSpec(accounts=("a0007",)), actor="b")
    create_hold(archive, matter="dates", reason="r", issuer="i", actor="b",
                scope=ScopeSpec(posted_from=datetime(2019, 3, 1).date(), posted_to=datetime(2019, 3, 31).date()))
    create_hold(archive, matter="explicit", reason="r", issuer="i", scope=ScopeSpec(records=tuple(explicit)),
                actor="b")
    started = time.perf_counter()
    counts: dict[str, int] = {}
    with archive.catalog.read() as conn:
        for decision in evaluate(FactsReader(conn).all(), schedules, active_holds(archive, conn),
                                 archive.clock.now()):
            counts[str(decision.status)] = counts.get(str(decision.status), 0) + 1
    elapsed = time.perf_counter() - started
    archive.close()
    return {"records": sum(counts.values()), "seconds": elapsed, "rate": sum(counts.values()) / elapsed,
            "statuses": counts, "peak_mb": peak_mb()}


def phase_capture(home: Path, versions: int) -> dict[str, Any]:
    """The archive the dispose phase works on, built in a process of its own (its memory is not disposal's)."""
    archive = init_archive(settings(home), clock=SystemClock())
    account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                               url="https://social.example.gov/@cityhall", clock=archive.clock),
                          actor="bench")
    run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=versions)))
    archive.close()
    return {"versions": versions}


def phase_dispose(home: Path, records: int) -> dict[str, Any]:
    # A tenth of synthetic records are edited once: this many versions make ``records`` records.
    versions = int(records * 1.1)
    subprocess.run([sys.executable, __file__, "--child", "capture", "--home", str(home), "--size", str(versions)],
                   check=True, capture_output=True)
    later = SystemClock()
    archive = open_archive(settings(home), clock=FixedClock(later.now() + timedelta(days=5 * 365)))
    batch = batches.propose(archive, action=Action.DESTROY, as_of=archive.clock.now(), actor=OFFICER)
    batches.approve(archive, batch.id, actor=OFFICER, reference=None)
    started = time.perf_counter()
    outcome = execute(archive, batch.id, actor=OFFICER, yes=True)
    elapsed = time.perf_counter() - started
    archive.close()
    return {"records": len(outcome.destroyed), "seconds": elapsed, "rate": len(outcome.destroyed) / elapsed,
            "objects_deleted": len(outcome.objects_deleted), "peak_mb": peak_mb()}


def run_child(phase: str, size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="arsip-bench-retention-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir(mode=0o700)
        command = [sys.executable, __file__, "--child", phase, "--home", str(home), "--size", str(size)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dispose", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=("evaluate", "dispose", "capture"))
    parser.add_argument("--phases", default="evaluate,dispose", help="Which phases to run (comma-separated).")
    parser.add_argument("--home")
    parser.add_argument("--size", type=int)
    args = parser.parse_args()
    if args.child:
        phase = {"evaluate": phase_evaluate, "dispose": phase_dispose, "capture": phase_capture}[args.child]
        print(json.dumps(phase(Path(args.home), args.size)))
        return
    for phase, size, target in (("evaluate", args.records, 30.0), ("dispose", args.dispose, 120.0)):
        if phase not in args.phases.split(","):
            continue
        runs = [run_child(phase, size) for _ in range(args.repeat)]
        for number, run in enumerate(runs, 1):
            print(f"{phase} run {number}: {json.dumps(run)}")
        seconds = statistics.median(r["seconds"] for r in runs)
        memory = statistics.median(r["peak_mb"] for r in runs)
        print(f"{phase}: {runs[0]['records']:,} records, median {seconds:.1f} s (target <= {target:.0f} s), "
              f"median peak {memory:.0f} MB (target < 500 MB)")


if __name__ == "__main__":
    main()
