"""Production benchmark: produce a records request of N records, with and without PDFs, and verify it offline.

    .venv/bin/python bench/export.py --records 10000 --repeat 3
    .venv/bin/python bench/export.py --records 100000 --repeat 1 --modes nopdf   # the memory bound

An archive of ``--records`` synthetic records (half posts, half comments, a tenth edited once) is
captured through the real pipeline (WARC, signatures, log) in a child process. Each measured run,
in a process of its own so its peak memory is its own: open a US federal request, scope every record
by id, tag them responsive, redact one span in every hundredth comment, then build the production
(zip of a signed BagIt bag with envelopes, inclusion proofs, load files; PDFs in "pdf" mode), and
time ``verify_package`` on the result. Figures are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.accounts import add_account, new_account  # noqa: E402
from archiver.capture.service import run_capture  # noqa: E402
from archiver.clock import SystemClock  # noqa: E402
from archiver.db.queries import list_records  # noqa: E402
from archiver.model import Platform  # noqa: E402
from archiver.settings import load_settings  # noqa: E402
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan  # noqa: E402
from archiver.wiring import init_archive, open_archive  # noqa: E402
from export.production.build import ProductionOptions  # noqa: E402
from export.production.service import produce  # noqa: E402
from export.requests import service  # noqa: E402
from export.verify_package import verify_package  # noqa: E402

ACTOR = "bench:legal"


def settings(home: Path) -> Any:
    return load_settings({"ARSIP_HOME": str(home), "ARSIP_KEY_PASSPHRASE": "benchmark passphrase",
                          "ARSIP_LOG_ORIGIN": "bench.example/arsip"})


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_capture(home: Path, records: int) -> dict[str, Any]:
    archive = init_archive(settings(home), clock=SystemClock())
    account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                               url="https://social.example.gov/@cityhall", clock=archive.clock),
                          actor="bench")
    run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=int(records * 1.1))))
    archive.close()
    return {"records": records}


def phase_produce(home: Path, mode: str) -> dict[str, Any]:
    archive = open_archive(settings(home), clock=SystemClock())
    number = f"BENCH-{mode}-{time.time_ns()}"
    service.open_request(archive, service.Intake(number=number, requester="Bench", received=date.today(),
                                                 jurisdiction="us-federal", description="benchmark"), actor=ACTOR)
    with archive.catalog.read() as conn:
        records = list_records(conn, limit=10_000_000)
    ids = [r.id for r in records]
    service.scope_records(archive, number, ids, actor=ACTOR)
    service.tag(archive, number, ids, "responsive", actor=ACTOR)
    comments = [r for r in records if r.kind == "comment" and len(r.text) > 20][::100]
    for record in comments:
        service.redact(archive, number, record.id, version=record.latest_version, field="text", start=0, end=10,
                       code="(b)(6)", reason="benchmark", actor=ACTOR)
    out = home / "out"
    out.mkdir(exist_ok=True)
    started = time.perf_counter()
    _case, built = produce(archive, number, ProductionOptions(out_dir=out, bates_prefix="B-", bates_width=8,
                                                              pdf=mode == "pdf"), actor=ACTOR)
    seconds = time.perf_counter() - started
    archive.close()
    result = {"mode": mode, "records": len(built.records), "seconds": seconds, "rate": len(built.records) / seconds,
              "package_mb": built.bytes / 1e6, "redacted": len(comments), "peak_mb": peak_mb()}
    started = time.perf_counter()
    report = verify_package(built.path)
    verify_seconds = time.perf_counter() - started
    result.update(verify_seconds=verify_seconds, verify_rate=len(built.records) / verify_seconds,
                  verify_ok=report.report.ok)
    built.path.unlink()
    return result


def _child(*args: str) -> dict[str, Any]:
    output = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True,
                            text=True).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="nopdf,pdf")
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child:
        phase, home, value = args.child
        result = phase_capture(Path(home), int(value)) if phase == "capture" else phase_produce(Path(home), value)
        print(json.dumps(result))
        return
    tmp = Path(tempfile.mkdtemp(prefix="arsip-bench-export-"))
    try:
        home = tmp / "home"
        home.mkdir(mode=0o700)
        started = time.perf_counter()
        _child("capture", str(home), str(args.records))
        print(f"captured {args.records:,} records in {time.perf_counter() - started:.0f} s")
        targets = {"nopdf": 2000, "pdf": 150}
        for mode in args.modes.split(","):
            runs = [_child("produce", str(home), mode) for _ in range(args.repeat)]
            for number, run in enumerate(runs, 1):
                print(f"{mode} run {number}: {json.dumps(run)}")
            rate = statistics.median(r["rate"] for r in runs)
            verify = statistics.median(r["verify_rate"] for r in runs)
            memory = statistics.median(r["peak_mb"] for r in runs)
            print(f"{mode}: {runs[0]['records']:,} records, median {rate:,.0f} records/s (target >= "
                  f"{targets[mode]}), median peak {memory:.0f} MB; verify median {verify:,.0f} records/s "
                  f"(target >= 2000), all verified: {all(r['verify_ok'] for r in runs)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
