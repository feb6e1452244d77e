"""Highlighted snippets from the matching version's text, as plain segments (never markup).

The search layer returns ``(text, highlighted)`` segments; the CLI and the web page each escape
and mark them their own way, so archived (hostile) text is never interpreted as markup here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.analysis import Language, fold, language_for, query_terms, stem
from search.query.ast import And, Near, Node, Not, Or, Phrase, Prefix, Query, Term, Wildcard
from search.query.plan import pattern_regex

WORD = re.compile(r"[#@]?\w[\w'’.@/:-]*\w|[#@]?\w")
CONTEXT_WORDS = 12
MAX_SNIPPET_WORDS = 40


@dataclass(frozen=True)
class Highlighter:
    """The word forms a query looks for, to mark them in any text (each distinct word judged once)."""

    exact: frozenset[str]
    stems: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    _judged: dict[tuple[str, Language], bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_query(cls, query: Query) -> Highlighter:
        exact: set[str] = set()
        stems: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        for node in _positive_nodes(query.root):
            if isinstance(node, Term | Phrase):
                words = (node.text,) if isinstance(node, Term) else node.words
                for word in words:
                    terms = query_terms(word)
                    exact.update(terms.exact)
                    if not node.exact:
                        stems.update(s for options in terms.stems for s in options)
            elif isinstance(node, Prefix):
                patterns.append(re.compile(pattern_regex(node.prefix) + ".*"))
            elif isinstance(node, Wildcard):
                patterns.append(re.compile(pattern_regex(node.pattern)))
        return cls(frozenset(exact), frozenset(stems), tuple(patterns))

    def marks(self, word: str, language: Language) -> bool:
        judged = self._judged.get((word, language))
        if judged is None:
            judged = self._judge(word, language)
            self._judged[(word, language)] = judged
        return judged

    def _judge(self, word: str, language: Language) -> bool:
        """Stemmed in the text's own language, as the indexer stemmed it: a word matches a query
        stem only the way its document did (and the Indonesian stemmer, ~200 µs a new word, never
        runs over English text)."""
        folded = fold(word)
        if folded in self.exact or any(p.fullmatch(folded) for p in self.patterns):
            return True
        return bool(self.stems) and stem(folded, language) in self.stems


def snippet(text: str, highlighter: Highlighter, lang: str | None = None) -> list[tuple[str, bool]]:
    """About ``MAX_SNIPPET_WORDS`` words around the first highlighted word, as segments.
    ``lang`` is the version's declared language (the text's detected one when absent)."""
    words = list(WORD.finditer(text))
    if not words:
        return [(text[:200], False)] if text else []
    language = language_for(lang, text)
    first = next((i for i, m in enumerate(words) if highlighter.marks(m.group(), language)), 0)
    start = max(0, first - CONTEXT_WORDS)
    end = min(len(words), start + MAX_SNIPPET_WORDS)
    segments: list[tuple[str, bool]] = []
    if start > 0:
        segments.append(("… ", False))
    cursor = words[start].start()
    for match in words[start:end]:
        if not highlighter.marks(match.group(), language):
            continue
        if match.start() > cursor:
            segments.append((text[cursor:match.start()], False))
        segments.append((match.group(), True))
        cursor = match.end()
    stop = words[end - 1].end()
    if stop > cursor:
        segments.append((text[cursor:stop], False))
    if end < len(words):
        segments.append((" …", False))
    return segments


def _positive_nodes(node: Node) -> list[Node]:
    """Nodes whose words should be highlighted: everything not under a NOT."""
    if isinstance(node, Not):
        return []
    if isinstance(node, And | Or):
        return [leaf for item in node.items for leaf in _positive_nodes(item)]
    if isinstance(node, Near):
        return [node.left, node.right]
    return [node]
