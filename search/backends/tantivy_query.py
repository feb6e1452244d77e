"""Compile the query AST into tantivy queries (the only module besides the index that imports tantivy)."""

from __future__ import annotations

from collections.abc import Callable

import tantivy
from tantivy import FieldType, Occur, Query

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


class TantivyCompiler:
    """AST -> tantivy ``Query`` against one schema. ``captured_field`` is the multi-valued capture
    dates on record documents (any version) and the version's own on version documents."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema
        self._compilers: dict[type, Callable[[object], Query]] = {
            Term: self._text, Phrase: self._text, Prefix: self._prefix, Wildcard: self._wildcard,  # type: ignore[dict-item]
            Near: self._near, Keyword: self._keyword, DateRange: self._dates, And: self._and,  # type: ignore[dict-item]
            Or: self._or, Not: self._not, MatchAll: lambda node: Query.all_query(),  # type: ignore[dict-item]
        }

    def compile(self, node: Node) -> Query:
        return self._compilers[type(node)](node)

    def _text(self, node: Term | Phrase) -> Query:
        return self._plan(plan_text(node))

    def _plan(self, plan: TextPlan) -> Query:
        if plan.empty:
            return Query.empty_query()
        options = [self._sequence(plan.field, sequence, plan.slop) for sequence in plan.sequences]
        return options[0] if len(options) == 1 else Query.boolean_query([(Occur.Should, q) for q in options])

    def _sequence(self, field: str, tokens: tuple[str, ...], slop: int) -> Query:
        if len(tokens) == 1:
            return Query.term_query(self.schema, field, tokens[0])
        # tantivy's slop is the number of extra words between the phrase's words, counted in total
        return Query.phrase_query(self.schema, field, list(tokens), slop)

    def _near(self, node: Near) -> Query:
        left, right = near_tokens(node.left), near_tokens(node.right)
        if left.empty or right.empty:
            return Query.empty_query()
        field = EXACT if EXACT in (left.field, right.field) else left.field
        lefts = self._words(left, field)
        rights = self._words(right, field)
        phrases = [q for x in lefts for y in rights for q in self._pair(field, x, y, node.distance)]
        return Query.boolean_query([(Occur.Should, q) for q in phrases])

    def _pair(self, field: str, left: str, right: str, distance: int) -> list[Query]:
        """Distance N = at most N-1 words between, in either order (both orders compiled explicitly).

        tantivy lets the two words of a sloppy phrase share one position, so ``a w/N a`` would match a
        single ``a``; the same word twice is compiled as exact phrases at offsets 1..N instead.
        """
        if left == right:
            return [Query.phrase_query(self.schema, field, [(0, left), (gap, left)], 0)
                    for gap in range(1, distance + 1)]
        return [Query.phrase_query(self.schema, field, [a, b], distance - 1) for a, b in ((left, right), (right, left))]

    @staticmethod
    def _words(plan: TextPlan, field: str) -> list[str]:
        if plan.field == field:
            return sorted({sequence[0] for sequence in plan.sequences})
        return sorted({fold(sequence[0]) for sequence in plan.sequences})

    def _prefix(self, node: Prefix) -> Query:
        return Query.regex_query(self.schema, EXACT, pattern_regex(node.prefix) + ".*")

    def _wildcard(self, node: Wildcard) -> Query:
        return Query.regex_query(self.schema, EXACT, pattern_regex(node.pattern))

    def _keyword(self, node: Keyword) -> Query:
        return Query.term_query(self.schema, str(node.field), fold(node.value))

    def _dates(self, node: DateRange) -> Query:
        start, end = day_bounds(node)
        field = "posted" if node.field is DateField.POSTED else "captured"
        if start is None and end is None:
            return Query.all_query()
        return Query.range_query(self.schema, field, FieldType.Integer, start, end,
                                 include_lower=True, include_upper=end is None)

    def _and(self, node: And) -> Query:
        clauses = [(Occur.MustNot, self.compile(item.item)) if isinstance(item, Not)
                   else (Occur.Must, self.compile(item)) for item in node.items]
        if all(occur == Occur.MustNot for occur, _ in clauses):
            clauses.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(clauses)

    def _or(self, node: Or) -> Query:
        return Query.boolean_query([(Occur.Should, self.compile(item)) for item in node.items])

    def _not(self, node: Not) -> Query:
        return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, self.compile(node.item))])

