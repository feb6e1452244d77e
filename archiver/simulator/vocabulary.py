"""Synthetic text with the word statistics of real writing, for the search benchmark.

Search cost depends on how many documents each word occurs in. A text drawn uniformly from a few
dozen words (as :mod:`archiver.simulator.synthetic` does, which is right for capture, where words
are just bytes) puts every word in nine documents out of ten, so every phrase and proximity query
walks the positions of most of the index: no archive looks like that. Real text follows Zipf's
law: a handful of function words in every document, content words in a few percent of them, a long
tail of rare words, and fixed expressions ("terima kasih", "road closure") that occur together far
more often than chance.

:class:`ZipfText` models exactly that, per language: a ranked vocabulary (the real function and
content words of :mod:`archiver.simulator.synthetic` first, then generated words, Indonesian ones
with real affixes so the stemmer has work to do), word frequencies proportional to
``1 / rank ** exponent``, and a few collocations spliced into each text.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from archiver.simulator.synthetic import ENGLISH, INDONESIAN

ENGLISH_FUNCTION = ("the and of to is for in on are with this that be will at by it you your from not was "
                    "have we our please").split()
INDONESIAN_FUNCTION = ("yang dan di ke dari untuk ini itu dengan tidak pada akan dalam ada atau juga kami kita "
                       "anda sudah oleh bisa mohon kepada").split()
ENGLISH_COLLOCATIONS = ("road closure", "water main", "city council", "thank you", "main street", "clinic hours",
                        "vaccination schedule", "public hearing", "trash pickup", "power outage")
INDONESIAN_COLLOCATIONS = ("terima kasih", "jalan utama", "pemerintah kota", "pipa air", "jadwal imunisasi",
                           "hari senin", "pukul delapan", "layanan publik", "air bersih", "kantor kelurahan")
ENGLISH_SUFFIXES = ("", "s", "ed", "ing", "er", "ment")
INDONESIAN_AFFIXES = (("", ""), ("me", "kan"), ("di", "kan"), ("", "an"), ("pe", "an"), ("ber", ""), ("ter", ""))
CONTENT_FROM = 100
CONTENT_STEP = 20
SYLLABLES = ("ba", "ka", "ma", "ra", "sa", "ta", "la", "na", "pa", "da", "ju", "ri", "to", "ne", "si", "gu", "lo",
             "wi", "be", "ko", "du", "mi", "ha", "ge")


@dataclass(frozen=True)
class Language:
    words: tuple[str, ...]  # by rank, most frequent first
    cumulative: tuple[float, ...]  # cumulative Zipf weights, for random.choices
    collocations: tuple[str, ...]


class ZipfText:
    """Texts of ``minimum``-``maximum`` words, each in English or Indonesian (even odds).

    ``vocabulary`` words per language; ``collocations`` is the mean number of fixed expressions
    per text. Deterministic for a given ``rng``.
    """

    def __init__(self, vocabulary: int = 20_000, exponent: float = 1.0, collocations: float = 1.0,
                 minimum: int = 20, maximum: int = 300) -> None:
        self.minimum, self.maximum, self.collocations = minimum, maximum, collocations
        self.languages = (
            _language(ENGLISH_FUNCTION, ENGLISH, _english_words, ENGLISH_COLLOCATIONS, vocabulary, exponent),
            _language(INDONESIAN_FUNCTION, INDONESIAN, _indonesian_words, INDONESIAN_COLLOCATIONS, vocabulary,
                      exponent),
        )

    def text(self, rng: random.Random) -> str:
        language = self.languages[rng.random() < 0.5]
        length = rng.randint(self.minimum, self.maximum)
        words = rng.choices(language.words, cum_weights=language.cumulative, k=length)
        for _ in range(min(length // 2, _poisson(rng, self.collocations))):
            position = rng.randrange(length - 1)
            words[position:position + 2] = rng.choice(language.collocations).split()
        return " ".join(words)


def _language(function: list[str], content: tuple[str, ...], generated: Callable[[], Iterator[str]],
              collocations: tuple[str, ...], size: int, exponent: float) -> Language:
    """Function words first, then generated words, with the real content words spread over ranks
    :data:`CONTENT_FROM` onwards, every :data:`CONTENT_STEP`: topical words of an agency's feed,
    each in a few percent of its texts down to a fraction of one."""
    content_words = [word for word in dict.fromkeys(content) if word not in function]
    ranked: list[str] = list(dict.fromkeys(function))
    seen = set(ranked) | set(content_words)
    for word in generated():
        if len(ranked) + len(content_words) >= size:
            break
        if word not in seen:
            seen.add(word)
            ranked.append(word)
    for index, word in enumerate(content_words):
        ranked.insert(min(len(ranked), CONTENT_FROM + index * CONTENT_STEP), word)
    weights = (1 / rank ** exponent for rank in range(1, len(ranked) + 1))
    return Language(words=tuple(ranked), cumulative=tuple(itertools.accumulate(weights)),
                    collocations=collocations)


def _roots() -> Iterator[str]:
    """Pronounceable two- and three-syllable roots, in a fixed order."""
    two = ("".join(pair) for pair in itertools.product(SYLLABLES, repeat=2))
    three = ("".join(triple) for triple in itertools.product(SYLLABLES, repeat=3))
    return itertools.chain(two, three)


def _english_words() -> Iterator[str]:
    return itertools.chain.from_iterable((root + suffix for suffix in ENGLISH_SUFFIXES) for root in _roots())


def _indonesian_words() -> Iterator[str]:
    return itertools.chain.from_iterable((prefix + root + suffix for prefix, suffix in INDONESIAN_AFFIXES)
                                         for root in _roots())


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by counting unit-rate arrivals (mean is small)."""
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count
