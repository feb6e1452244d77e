"""Compile the query AST into whoosh queries, node for node as :mod:`search.backends.tantivy_query` does.

Both compilers plan text with :mod:`search.query.plan`, so they look for the same tokens; this module
only maps each plan onto whoosh's query classes, which differ from tantivy's in three places:

* Phrase slop. tantivy's slop ``s`` is a budget of ``s`` extra words in total across the phrase;
  whoosh's ``Phrase(slop=k)`` allows each consecutive pair to be up to ``k`` positions apart. A
  sloppy phrase is compiled as whoosh ``slop = s + 1`` (so no gap exceeds the budget) and its matches
  are then kept only when the whole phrase spans at most ``len - 1 + s`` positions (so the gaps
  together do not exceed it either). Two-word phrases and ``w/N`` then match exactly as on tantivy
  when the words keep their order and differ. Where they do not, the engines differ: tantivy lets
  words swap places at a cost of 2 per swap (whoosh keeps their order: the documented difference),
  and lets a repeated word sit on one position, so ``"a a"~1`` and ``a w/2 a`` find a lone ``a``
  there (whoosh needs two). With three or more words tantivy's matcher is greedy and can also miss
  an in-order match that whoosh finds.
* Patterns. tantivy runs the anchored regular expression :func:`search.query.plan.pattern_regex`
  builds; whoosh gets the same expression (``\\Z`` added, as Python's ``match`` anchors only the
  start), not a whoosh ``Wildcard``, whose ``fnmatch`` syntax would read ``[`` as a character class.
* Boolean normalisation. whoosh's ``normalize()`` (called by its ``&``/``|`` operators) drops a
  ``NullQuery`` from an ``And`` and turns an ``And`` containing ``Every()`` into ``Every()``, which
  would widen a query; queries are therefore built from the classes directly and never normalised.

whoosh is imported here and in :mod:`search.backends.whoosh_index` only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

with warnings.catch_warnings():
    # whoosh 2.7 has invalid escapes in its regex strings: DeprecationWarning on 3.11, SyntaxWarning later
    warnings.simplefilter("ignore", SyntaxWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh import query as wq
    from whoosh.matching import NullMatcher
    from whoosh.query.spans import SpanWrappingMatcher

from search.analysis import fold
from search.query.ast import (
    And,
    DateField,
    DateRange,
    Keyword,
    MatchAll,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    Wildcard,
)
from search.query.plan import EXACT, TextPlan, day_bounds, near_tokens, pattern_regex, plan_text

WhooshQuery = Any  # whoosh ships no type information


class WhooshCompiler:
    """AST -> whoosh query. ``captured`` is multi-valued on record documents (every version's capture
    time), so a range matches a record when any version was captured in it, as on tantivy."""

    def __init__(self) -> None:
        self._compilers: dict[type, Callable[[Any], WhooshQuery]] = {
            Term: self._text, Phrase: self._text, Prefix: self._prefix, Wildcard: self._wildcard,
            Near: self._near, Keyword: self._keyword, DateRange: self._dates, And: self._and,
            Or: self._or, Not: self._not, MatchAll: lambda node: wq.Every(),
        }

    def compile(self, node: Node) -> WhooshQuery:
        return self._compilers[type(node)](node)

    def _text(self, node: Term | Phrase) -> WhooshQuery:
        return self._plan(plan_text(node))

    def _plan(self, plan: TextPlan) -> WhooshQuery:
        if plan.empty:
            return wq.NullQuery
        options = [sequence_query(plan.field, sequence, plan.slop) for sequence in plan.sequences]
        return options[0] if len(options) == 1 else wq.Or(options)

    def _near(self, node: Near) -> WhooshQuery:
        left, right = near_tokens(node.left), near_tokens(node.right)
        if left.empty or right.empty:
            return wq.NullQuery
        field = EXACT if EXACT in (left.field, right.field) else left.field
        lefts = _words(left, field)
        rights = _words(right, field)
        # Distance N = at most N-1 words between, in either order (both orders compiled, as on tantivy).
        return wq.Or([sequence_query(field, (a, b), node.distance - 1)
                      for x in lefts for y in rights for a, b in ((x, y), (y, x))])

    def _prefix(self, node: Prefix) -> WhooshQuery:
        return _regex(pattern_regex(node.prefix) + ".*")

    def _wildcard(self, node: Wildcard) -> WhooshQuery:
        return _regex(pattern_regex(node.pattern))

    def _keyword(self, node: Keyword) -> WhooshQuery:
        return wq.Term(str(node.field), fold(node.value))

    def _dates(self, node: DateRange) -> WhooshQuery:
        start, end = day_bounds(node)
        if start is None and end is None:
            return wq.Every()
        field = "posted" if node.field is DateField.POSTED else "captured"
        return wq.NumericRange(field, start, end, startexcl=False, endexcl=end is not None)

    def _and(self, node: And) -> WhooshQuery:
        required = [self.compile(item) for item in node.items if not isinstance(item, Not)]
        excluded = [self.compile(item.item) for item in node.items if isinstance(item, Not)]
        base = wq.And(required) if required else wq.Every()  # a purely negative And starts from everything
        return wq.AndNot(base, wq.Or(excluded)) if excluded else base

    def _or(self, node: Or) -> WhooshQuery:
        return wq.Or([self.compile(item) for item in node.items])

    def _not(self, node: Not) -> WhooshQuery:
        return wq.AndNot(wq.Every(), self.compile(node.item))


def sequence_query(field: str, tokens: tuple[str, ...], slop: int) -> WhooshQuery:
    """One token sequence: a term, an exact phrase, or a phrase with ``slop`` extra words in total."""
    if len(tokens) == 1:
        return wq.Term(field, tokens[0])
    if slop <= 0:
        return wq.Phrase(field, list(tokens), slop=1)  # whoosh slop 1 = adjacent
    return BudgetPhrase(field, tokens, slop)


def _words(plan: TextPlan, field: str) -> list[str]:
    if plan.field == field:
        return sorted({sequence[0] for sequence in plan.sequences})
    return sorted({fold(sequence[0]) for sequence in plan.sequences})


def _regex(expression: str) -> WhooshQuery:
    """Terms of the exact field matching all of ``expression`` (tantivy's regex queries are anchored)."""
    return wq.Regex(EXACT, expression + r"\Z")


class BudgetPhrase(wq.Phrase):
    """Words in order with at most ``budget`` extra words between them in total (tantivy's slop).

    whoosh's phrase matcher enumerates every (first, last) position pair its per-gap slop allows; of
    those, only spans no longer than the phrase plus the budget are kept.
    """

    def __init__(self, fieldname: str, words: tuple[str, ...], budget: int) -> None:
        super().__init__(fieldname, list(words), slop=budget + 1)
        self.budget = budget

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and getattr(other, "budget", None) == self.budget

    def __hash__(self) -> int:
        return int(super().__hash__()) ^ hash(self.budget)

    def __repr__(self) -> str:
        return f"BudgetPhrase({self.fieldname!r}, {self.words!r}, budget={self.budget})"

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        inner = super().matcher(searcher, context)
        if not inner.is_active():
            return inner
        return _ShortSpans(inner, len(self.words) - 1 + self.budget)


class _ShortSpans(SpanWrappingMatcher):
    """Documents where the child phrase matcher has a span of at most ``longest`` positions."""

    def __init__(self, child: Any, longest: int) -> None:
        self.longest = longest  # read by _get_spans, which the base initializer calls
        super().__init__(child)

    def copy(self) -> _ShortSpans:
        return _ShortSpans(self.child.copy(), self.longest)

    def replace(self, minquality: float = 0) -> Any:
        return self if self.is_active() else NullMatcher()

    def supports_block_quality(self) -> bool:
        # whoosh's wrapping matchers skip blocks on the child without re-checking spans
        return False

    def _get_spans(self) -> list[Any]:
        return [span for span in self.child.spans() if span.end - span.start <= self.longest]
