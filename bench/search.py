"""Search benchmark: index throughput and query latency through Arsip's own search API.

    .venv/bin/python bench/search.py --versions 1000000 --whoosh-versions 100000 --repeat 3

Each repeat builds a fresh catalog of synthetic versions (posts and comments of 20-300 words,
English and Indonesian, 400 accounts on 5 platforms, posted 2018-2025, a tenth edited, some
deleted; Zipfian word frequencies, see archiver/simulator/vocabulary.py, or ``--corpus uniform``
for the worst case of a tiny vocabulary) through the catalog's own batch insert. It then times
`Indexer.rebuild` (catalog read + analysis + engine) and, per query class, `run_search` (parse +
execute + collapse to records + catalog rows + snippets): 200 queries each, 40 on whoosh, whose
queries take up to a second. The catalog load is setup, not measured: capture throughput is
bench/ingest.py's job. whoosh runs the same on a smaller catalog in the same repeat.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.clock import SystemClock  # noqa: E402
from archiver.db.catalog import BatchRow, Catalog, VersionRow  # noqa: E402
from archiver.db.engine import make_engine  # noqa: E402
from archiver.db.migrate import upgrade  # noqa: E402
from archiver.integrity.merkle import MerkleFrontier  # noqa: E402
from archiver.model import AccountInfo, Platform, RunInfo, SourceKind  # noqa: E402
from archiver.simulator.synthetic import text_pool  # noqa: E402
from archiver.simulator.vocabulary import ZipfText  # noqa: E402
from search.backends.base import Sort  # noqa: E402
from search.backends.factory import open_backend  # noqa: E402
from search.indexer import Indexer  # noqa: E402
from search.service import SearchRequest, run_search  # noqa: E402

PLATFORMS = (Platform.MASTODON, Platform.BLUESKY, Platform.FACEBOOK, Platform.X, Platform.YOUTUBE)
ACCOUNTS = 400
START = datetime(2018, 1, 1, tzinfo=UTC)
SPAN_SECONDS = int((datetime(2025, 12, 31, tzinfo=UTC) - START).total_seconds())
RARE_CODES = 50_000  # "kode12345" tokens: each appears in ~1M/50k = 20 versions
BATCH = 5_000
QUERIES = 200


def text_source(corpus: str, seed: int) -> Callable[[random.Random], str]:
    """Zipfian texts, each new (the default), or the capture benchmarks' pool of 4,096 texts drawn
    uniformly from ~130 words, where every word is in most texts: a worst case for positions."""
    if corpus == "zipf":
        return ZipfText().text
    texts = text_pool(seed)
    return lambda rng: rng.choice(texts)


def versions(total: int, seed: int, corpus: str) -> Iterator[tuple[int, int, str, str, str | None, str]]:
    """(record number, version number, state, text, reason, kind) in log order."""
    rng = random.Random(seed)
    new_text = text_source(corpus, seed)
    record = 0
    produced = 0
    while produced < total:
        record += 1
        text = f"{new_text(rng)} kode{rng.randrange(RARE_CODES)}"
        kind = "comment" if rng.random() < 0.5 else "post"
        yield record, 1, "present", text, None, kind
        produced += 1
        if produced < total and rng.random() < 0.1:
            yield record, 2, "edited", f"{new_text(rng)} kode{rng.randrange(RARE_CODES)}", None, kind
            produced += 1
        elif produced < total and rng.random() < 0.02:
            yield record, 2, "deleted", "", "author_deleted", kind
            produced += 1


def load_catalog(url: str, total: int, seed: int, corpus: str) -> Catalog:
    catalog = Catalog(make_engine(url))
    upgrade(catalog.engine)
    now = datetime.now(UTC)
    accounts = [AccountInfo(id=f"acct{n:04d}", platform=PLATFORMS[n % len(PLATFORMS)], handle=f"agency{n}@example.gov",
                            url=f"https://example.gov/{n}", platform_account_id=None, display_name=None,
                            owner_agency=None, tags=(), interval_seconds=900, credentials_ref=None, active=True,
                            revision=1, created_at=now, updated_at=now) for n in range(ACCOUNTS)]
    run = RunInfo(id="bench-run", account_id=accounts[0].id, source=SourceKind.LIVE, collector="bench",
                  collector_version="1", settings_hash="0" * 64, started_at=now)
    frontier = MerkleFrontier()
    with catalog.begin() as conn:
        catalog.create_log_head(conn, "bench.example/arsip", frontier.to_json())
        for account in accounts:
            catalog.save_account(conn, account)
        catalog.start_run(conn, run)
    rng = random.Random(seed + 1)
    posted: dict[int, datetime] = {}
    rows: list[VersionRow] = []
    for index, (record, number, state, text, reason, kind) in enumerate(versions(total, seed, corpus)):
        at = posted.setdefault(record, START + timedelta(seconds=rng.randrange(SPAN_SECONDS)))
        account = accounts[record % ACCOUNTS]
        leaf = hashlib.sha256(index.to_bytes(8, "big")).hexdigest()
        frontier.append(bytes.fromhex(leaf))
        rows.append(VersionRow(
            log_index=index, leaf_sha256=leaf, record_id=f"rec{record:012d}", platform=str(account.platform),
            platform_id=str(record), account_id=account.id, kind=kind, parent_platform_id=None, url=None,
            posted_at=at, number=number, state=state, reason=reason, detection=None, run_id=run.id,
            captured_at=at + timedelta(days=number - 1), revision_at=None, author=f"user{record % 5000}",
            lang=None, text=text, fingerprint=leaf, content_sha256=leaf, previous_sha256=None, key_id="bench",
            signature="", warc_key="warc/bench", warc_offset=index, warc_length=1, evidence=[],
            media_count=record % 7 == 0))
        if len(rows) >= BATCH:
            _apply(catalog, rows, frontier)
            rows = []
    _apply(catalog, rows, frontier)
    return catalog


def _apply(catalog: Catalog, rows: list[VersionRow], frontier: MerkleFrontier) -> None:
    if not rows:
        return
    with catalog.begin() as conn:
        catalog.apply_batch(conn, BatchRow(key=f"bench/{rows[0].log_index}", sha256="0" * 64, run_id="bench-run",
                                           first_index=rows[0].log_index, versions=rows, warc_objects=[], seen={}),
                            new_size=frontier.size, frontier=frontier.to_json())


def query_classes(seed: int) -> dict[str, Callable[[random.Random], SearchRequest]]:
    common = ["jalan", "warga", "road", "budget", "banjir", "council", "library", "anggaran"]
    words = ["jalan", "warga", "road", "budget", "banjir", "bridge", "clinic", "pipa", "informasi", "schedule"]

    def text(q: str, **kw: Any) -> SearchRequest:
        return SearchRequest(text=q, **kw)

    return {
        "common term": lambda r: text(r.choice(common)),
        "rare term": lambda r: text(f"kode{r.randrange(RARE_CODES)}"),
        "AND/OR/NOT": lambda r: text(f"({r.choice(words)} OR {r.choice(words)}) AND {r.choice(words)} "
                                     f"NOT {r.choice(words)}"),
        "phrase": lambda r: text(r.choice(['"road closure"', '"terima kasih"', '"jalan utama"', '"water main"'])),
        "proximity": lambda r: text(f"{r.choice(words)} w/{r.randint(2, 10)} {r.choice(words)}"),
        "prefix": lambda r: text(r.choice(["budg*", "jal*", "bri*", "imuni*", "perbai*"])),
        "field + date range": lambda r: text(f"platform:{r.choice(PLATFORMS)} kind:comment {r.choice(words)} "
                                             + (lambda y: f"date:[{y}-01-01 TO {y + 1}-06-30]")(2018 + r.randrange(7))),
        "sort by date": lambda r: text(r.choice(common), sort=Sort.NEWEST),
        "as-of": lambda r: text(f"{r.choice(words)} as-of:{2018 + r.randrange(8)}-0{1 + r.randrange(9)}-15"),
    }


def measure(backend_name: str, workdir: Path, total: int, seed: int, queries: int, corpus: str) -> dict[str, Any]:
    catalog = load_catalog(f"sqlite:///{workdir / f'{backend_name}.sqlite'}", total, seed, corpus)
    directory = workdir / f"index-{backend_name}"
    backend = open_backend(backend_name, directory)
    indexer = Indexer(catalog, backend, directory, SystemClock())
    started = time.perf_counter()
    indexer.rebuild()
    indexing = time.perf_counter() - started
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    latencies: dict[str, dict[str, float]] = {}
    for name, make in query_classes(seed).items():
        rng = random.Random(f"{seed}-{name}")
        run_search(catalog, backend, make(rng))  # warm the class's first query
        timings = []
        for _ in range(queries):
            request = make(rng)
            begin = time.perf_counter()
            run_search(catalog, backend, request)
            timings.append((time.perf_counter() - begin) * 1000)
        timings.sort()
        latencies[name] = {"p50": timings[len(timings) // 2], "p95": timings[max(0, int(len(timings) * 0.95) - 1)],
                           "p99": timings[max(0, int(len(timings) * 0.99) - 1)]}
    backend.close()
    catalog.engine.dispose()
    return {"versions": total, "index_seconds": indexing, "index_rate": total / indexing, "index_mb": size / 2**20,
            "latency_ms": latencies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--whoosh-versions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--queries", type=int, default=QUERIES, help="queries per class on tantivy")
    parser.add_argument("--whoosh-queries", type=int, default=40,
                        help="queries per class on whoosh (each takes up to a second at 100k versions)")
    parser.add_argument("--corpus", choices=("zipf", "uniform"), default="zipf",
                        help="zipf: realistic word frequencies (default); uniform: every word in most texts")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"tantivy": [], "whoosh": []}
    for repeat in range(args.repeat):
        workdir = Path(tempfile.mkdtemp(prefix="arsip-search-bench-"))
        for name, total, queries in (("tantivy", args.versions, args.queries),
                                     ("whoosh", args.whoosh_versions, args.whoosh_queries)):
            if not total:
                continue
            result = measure(name, workdir, total, seed=repeat + 1, queries=queries, corpus=args.corpus)
            runs[name].append(result)
            print(f"run {repeat + 1} {name}: {result['index_rate']:,.0f} versions/s, "
                  f"{result['index_mb']:,.0f} MB, " + ", ".join(f"{k} p95 {v['p95']:.1f}"
                                                                 for k, v in result["latency_ms"].items()),
                  flush=True)
        shutil.rmtree(workdir)
    for name, results in runs.items():
        if not results:
            continue
        print(f"\n{name}: {results[0]['versions']:,} versions, medians of {len(results)} runs")
        print(f"  indexing (catalog read + analysis + engine)  {_median(results, 'index_rate'):,.0f} versions/s")
        print(f"  index size on disk                            {_median(results, 'index_mb'):,.0f} MB")
        print(f"  {'query class':22} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for query in results[0]["latency_ms"]:
            cells = [statistics.median(r["latency_ms"][query][p] for r in results) for p in ("p50", "p95", "p99")]
            print(f"  {query:22} {cells[0]:8.1f} {cells[1]:8.1f} {cells[2]:8.1f}")


def _median(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results)


if __name__ == "__main__":
    main()
