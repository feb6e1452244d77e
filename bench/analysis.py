"""Analysis micro-benchmark: µs per document for search.analysis.analyze, one core.

    .venv/bin/python bench/analysis.py --documents 10000 --repeat 5

Two corpora of ``--documents`` texts from the synthetic pool (20-300 words, English and
Indonesian; no language tag, so detection runs every time):

* ``plain``: the pool as is: lower-case words and spaces;
* ``social``: the same texts dressed like real posts: capitalised, punctuated, with an emoji, a
  hashtag, a mention and a URL unique to each document and pass (so every document has a memo
  miss, as in a real indexing run).

``cold`` is the first pass in a fresh process (stemmer loading and every memo miss included);
``warm`` is the median of ``--repeat`` further passes, which is what a long indexing run sees.
Times are CPU time of this process (``time.process_time``), so another job sharing the core
inflates them less than wall time would; the machine is still shared and noisy: compare medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.simulator.synthetic import text_pool  # noqa: E402
from search.analysis import analyze  # noqa: E402

EMOJI = ("🌊", "🚧", "✅", "📢", "❤️")
TAGS = ("#BanjirJakarta", "#InfoKota", "#RoadClosure", "#Imunisasi2024")


def social(text: str, number: int) -> str:
    """A pool text dressed as a post; deterministic in ``number``."""
    words = text.split()
    for index in range(0, len(words), 12):  # a sentence every dozen words
        words[index] = words[index].capitalize()
        if index:
            words[index - 1] += "."
    words[len(words) // 2] += "," + EMOJI[number % len(EMOJI)]
    return (f"{' '.join(words)}! {TAGS[number % len(TAGS)]} @walikota@kota.example.go.id "
            f"https://kota.example.go.id/info/{number}.")


def corpus(kind: str, documents: int, run: int) -> list[str]:
    """The texts of pass ``run``: the same words every pass, but fresh URLs in ``social``."""
    pool = text_pool(7)
    texts = [pool[number % len(pool)] for number in range(documents)]
    if kind == "plain":
        return texts
    return [social(text, run * documents + number) for number, text in enumerate(texts)]


def per_document(texts: list[str], run: Callable[[str, str | None], object]) -> float:
    """CPU µs per document for one pass."""
    started = time.process_time()
    for text in texts:
        run(text, None)
    return (time.process_time() - started) / len(texts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for kind in ("plain", "social"):
        passes = [corpus(kind, args.documents, run) for run in range(args.repeat + 1)]
        words = sum(len(text.split()) for text in passes[0]) / args.documents
        cold = per_document(passes[0], analyze)
        warm = statistics.median(per_document(texts, analyze) for texts in passes[1:])
        print(f"{kind:6}  {args.documents} docs, {words:.0f} words/doc: cold {cold:7.1f} µs/doc, "
              f"warm {warm:5.1f} µs/doc ({1e6 / warm:,.0f} docs/s)")


if __name__ == "__main__":
    main()
