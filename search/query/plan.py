"""Backend-independent planning of text nodes: which field, which token sequences.

Both backends call these so they look for exactly the same tokens; only the engine calls differ.
A query word is analysed like indexed text (:func:`search.analysis.query_terms`); a word that
analyses to several tokens (``e-mail``) is a phrase; stems may differ between English and
Indonesian, so each position can have alternatives, expanded into at most ``MAX_VARIANTS``
sequences (beyond that the exact, unstemmed form is used).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta

from search.analysis import fold, query_terms
from search.errors import SearchError
from search.fields import MAX_DISTANCE, day_start
from search.query.ast import DateRange, Phrase, Term

MAX_VARIANTS = 16
EXACT = "exact"
STEMS = "stems"


@dataclass(frozen=True)
class TextPlan:
    """Match any of ``sequences`` in ``field``; each sequence is a phrase (one token: a term).
    ``slop`` is the number of extra words allowed in total between the phrase's words."""

    field: str
    sequences: tuple[tuple[str, ...], ...]
    slop: int = 0

    @property
    def empty(self) -> bool:
        return not self.sequences


def plan_words(words: tuple[str, ...], *, exact: bool, slop: int = 0) -> TextPlan:
    if slop > MAX_DISTANCE:
        raise SearchError(f"proximity of {slop} words is too wide; use at most {MAX_DISTANCE}", code="query_limit")
    analysed = [query_terms(word) for word in words]
    exact_tokens = tuple(token for terms in analysed for token in terms.exact)
    if not exact_tokens:
        return TextPlan(EXACT, ())
    if exact:
        return TextPlan(EXACT, (exact_tokens,), slop)
    alternatives = [options for terms in analysed for options in terms.stems]
    variants = 1
    for options in alternatives:
        variants *= len(options)
    if variants > MAX_VARIANTS:
        return TextPlan(EXACT, (exact_tokens,), slop)
    return TextPlan(STEMS, tuple(itertools.product(*alternatives)), slop)


def plan_text(node: Term | Phrase) -> TextPlan:
    if isinstance(node, Term):
        return plan_words((node.text,), exact=node.exact)
    return plan_words(node.words, exact=node.exact, slop=node.slop)


def near_tokens(node: Term) -> TextPlan:
    """A proximity operand must analyse to a single word (proximity joins words; use "…"~N for phrases)."""
    plan = plan_text(node)
    if any(len(sequence) != 1 for sequence in plan.sequences):
        raise SearchError("w/N and NEAR/N join single words; for several words use a phrase with ~N, "
                          'e.g. "road closure"~3', code="query_unsupported")
    return plan


def pattern_regex(pattern: str) -> str:
    """A ``?``/``*`` word pattern as an anchored regular expression over exact tokens."""
    folded = fold(pattern)
    return "".join("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in folded)


def day_bounds(node: DateRange) -> tuple[int | None, int | None]:
    """Inclusive whole days -> [start, end) in epoch seconds; None for an open end."""
    start = day_start(node.start) if node.start else None
    end = day_start(node.end + timedelta(days=1)) if node.end else None
    return start, end


def as_of_moment(day: date) -> int:
    """``as-of:D`` means current at the end of day D (UTC): the last second of that day."""
    return day_start(day + timedelta(days=1)) - 1
