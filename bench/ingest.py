"""Ingest benchmark: synthetic versions through the whole capture pipeline on the embedded default.

    .venv/bin/python bench/ingest.py --versions 1000000 --repeat 3

Each repeat uses a fresh ARSIP_HOME and three child processes (ingest, `verify --archive`,
`rebuild`) so each phase's peak memory is its own. Pages of 40 realistic statuses (20-300 words,
English and Indonesian, half of them comments, a tenth edited later) go through normalize ->
change detection -> document -> WARC -> store -> envelope -> signature -> log -> catalog, exactly
as a live capture does. Figures are medians over the repeats; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.accounts import add_account, new_account  # noqa: E402
from archiver.capture.batchfile import BATCH_PREFIX, batch_order  # noqa: E402
from archiver.capture.service import run_capture  # noqa: E402
from archiver.clock import SystemClock  # noqa: E402
from archiver.db.catalog import Catalog  # noqa: E402
from archiver.db.engine import make_engine  # noqa: E402
from archiver.model import Platform  # noqa: E402
from archiver.rebuild import rebuild_catalog  # noqa: E402
from archiver.settings import Settings, load_settings  # noqa: E402
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan  # noqa: E402
from archiver.verify.archive import verify_archive  # noqa: E402
from archiver.wiring import init_archive, open_archive  # noqa: E402


def settings_for(home: Path) -> Settings:
    """Defaults, plus any ARSIP_* setting in the environment (to measure a setting's effect)."""
    overrides = {k: v for k, v in os.environ.items() if k.startswith("ARSIP_") and k != "ARSIP_HOME"}
    return load_settings({**overrides, "ARSIP_HOME": str(home), "ARSIP_KEY_PASSPHRASE": "benchmark passphrase",
                          "ARSIP_LOG_ORIGIN": "bench.example/arsip"})


def own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peak_mb() -> float:
    """The commit worker process's peak (it has exited and been waited for by then)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def peak_mb() -> float:
    """Peak resident memory of this phase: its own plus its commit worker's, if any (summed, so the
    figure bounds what both held at once)."""
    return own_peak_mb() + worker_peak_mb()


def phase_ingest(home: Path, versions: int, segment: int) -> dict[str, Any]:
    archive = init_archive(settings_for(home), clock=SystemClock())
    account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                               url="https://social.example.gov/@cityhall", clock=archive.clock),
                          actor="bench")
    started_wall = time.time()
    started = time.perf_counter()
    summary = run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=versions)))
    elapsed = time.perf_counter() - started
    rates = segment_rates(archive, started_wall, segment)
    warc_bytes = sum(item.size for item in archive.store.list("warc/"))
    objects = sum(1 for _ in archive.store.list("warc/"))
    archive.close()
    return {"versions": summary.counts.get("versions", 0), "seconds": elapsed, "rate": versions / elapsed,
            "first_segment_rate": rates[0] if rates else None, "last_segment_rate": rates[-1] if rates else None,
            "segment_rates": rates, "peak_mb": peak_mb(), "main_mb": own_peak_mb(), "worker_mb": worker_peak_mb(),
            "warc_objects": objects, "warc_bytes": warc_bytes}


def segment_rates(archive: Any, started: float, segment: int) -> list[float]:
    """Committed versions per second in consecutive segments, from when each batch object was
    written (its name carries its first log index), so commit lag cannot flatter any segment."""
    commits = sorted((batch_order(item.key)[0], item.last_modified.timestamp())
                     for item in archive.store.list(BATCH_PREFIX) if item.last_modified is not None)
    marks, boundary = [(0, started)], segment
    for first_index, written in commits:
        if first_index >= boundary:
            marks.append((first_index, written))
            boundary += segment
    return [(b[0] - a[0]) / (b[1] - a[1]) for a, b in zip(marks, marks[1:], strict=False)]


def phase_verify(home: Path) -> dict[str, Any]:
    archive = open_archive(settings_for(home), clock=SystemClock())
    started = time.perf_counter()
    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    elapsed = time.perf_counter() - started
    archive.close()
    return {"ok": report.ok, "versions": report.checked["versions"], "seconds": elapsed,
            "rate": report.checked["versions"] / elapsed, "peak_mb": peak_mb()}


def phase_rebuild(home: Path) -> dict[str, Any]:
    settings = settings_for(home)
    target = home / "rebuilt.sqlite"
    archive = open_archive(settings, clock=SystemClock())
    catalog = Catalog(make_engine(f"sqlite:///{target}"))
    started = time.perf_counter()
    result = rebuild_catalog(archive.store, catalog)
    elapsed = time.perf_counter() - started
    catalog.engine.dispose()
    archive.close()
    return {"versions": result.counts["versions"], "seconds": elapsed,
            "rate": result.counts["versions"] / elapsed, "peak_mb": peak_mb()}


def child(args: argparse.Namespace) -> None:
    home = Path(args.home)
    if args.phase == "ingest":
        result = phase_ingest(home, args.versions, args.segment)
    elif args.phase == "verify":
        result = phase_verify(home)
    else:
        result = phase_rebuild(home)
    print(json.dumps(result))


def run_phase(phase: str, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", phase, "--home", str(home), "--versions", str(args.versions),
               "--segment", str(args.segment)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--segment", type=int, default=100_000, help="versions per throughput segment")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--phases", default="ingest,verify,rebuild",
                        help="comma-separated phases to run after ingest (ingest always runs)")
    parser.add_argument("--child", dest="phase", choices=["ingest", "verify", "rebuild"], help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="arsip-bench-"))
    results: list[dict[str, Any]] = []
    for repeat in range(args.repeat):
        home = workdir / f"run-{repeat}"
        home.mkdir(parents=True, mode=0o700)
        phases = ["ingest"] + [p for p in ("verify", "rebuild") if p in args.phases.split(",")]
        result = {phase: run_phase(phase, home, args) for phase in phases}
        results.append(result)
        print(f"run {repeat + 1}: " + json.dumps({p: {k: v for k, v in r.items() if k != "segment_rates"}
                                                 for p, r in result.items()}), flush=True)
        shutil.rmtree(home)
    ingest = [r["ingest"] for r in results]
    first = median([r["first_segment_rate"] for r in ingest])
    last = median([r["last_segment_rate"] for r in ingest])
    print(f"\nversions per run                 {args.versions:,}  (repeats: {args.repeat})")
    print(f"ingest, versions/s (median)      {median([r['rate'] for r in ingest]):,.0f}   target >= 1,500")
    print(f"first / last {args.segment:,} versions/s  {first:,.0f} / {last:,.0f}   slowdown {first / last:.2f}x "
          "(target <= 1.5x)")
    print(f"ingest peak memory, MB (median)  {median([r['peak_mb'] for r in ingest]):,.0f}   target < 500 "
          f"(capture process {median([r['main_mb'] for r in ingest]):,.0f} + commit worker "
          f"{median([r['worker_mb'] for r in ingest]):,.0f})")
    print(f"WARC objects / bytes per run     {ingest[0]['warc_objects']:,} / {ingest[0]['warc_bytes']:,}")
    verified = [r["verify"] for r in results if "verify" in r]
    if verified:
        print(f"verify --archive, versions/s     {median([r['rate'] for r in verified]):,.0f}   "
              "target >= 2,000 (all ok: " + str(all(r["ok"] for r in verified)) + ")")
        print(f"verify peak memory, MB           {median([r['peak_mb'] for r in verified]):,.0f}")
    rebuilt = [r["rebuild"] for r in results if "rebuild" in r]
    if rebuilt:
        print(f"rebuild, versions/s              {median([r['rate'] for r in rebuilt]):,.0f}")
        print(f"rebuild peak memory, MB          {median([r['peak_mb'] for r in rebuilt]):,.0f}")


if __name__ == "__main__":
    main()
