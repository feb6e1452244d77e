"""The search benchmark's synthetic text: deterministic, the requested lengths, Zipfian frequencies."""

from __future__ import annotations

import random
from collections import Counter

from archiver.simulator.vocabulary import ENGLISH_COLLOCATIONS, INDONESIAN_COLLOCATIONS, ZipfText


def sample(count: int, seed: int = 1) -> list[str]:
    generator = ZipfText(vocabulary=5_000)
    rng = random.Random(seed)
    return [generator.text(rng) for _ in range(count)]


def test_same_seed_same_texts_and_lengths_in_range() -> None:
    texts = sample(300)
    assert texts == sample(300)
    assert texts != sample(300, seed=2)
    assert all(20 <= len(text.split()) <= 300 for text in texts)


def test_function_words_everywhere_content_words_in_few_texts() -> None:
    texts = sample(2_000)
    in_texts = Counter(word for text in texts for word in set(text.split()))
    assert in_texts["the"] + in_texts["yang"] > 0.9 * len(texts)  # each language's commonest word
    for word in ("road", "budget", "jalan", "banjir"):  # topical: a few percent, not most texts
        assert 0.002 * len(texts) < in_texts[word] < 0.2 * len(texts), word
    assert len(in_texts) > 2_000  # a long tail, not a few dozen words


def test_collocations_occur_far_above_chance() -> None:
    texts = sample(2_000)
    with_phrase = sum(any(c in text for c in ENGLISH_COLLOCATIONS + INDONESIAN_COLLOCATIONS) for text in texts)
    assert with_phrase > 0.3 * len(texts)
