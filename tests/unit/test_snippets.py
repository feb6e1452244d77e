"""Snippets highlight what matched, judged the way the document was indexed: in its own language."""

from __future__ import annotations

from search.query.parser import parse_query
from search.snippets import Highlighter, snippet


def marked(text: str, query: str, lang: str | None = None) -> list[str]:
    return [part for part, highlighted in snippet(text, Highlighter.for_query(parse_query(query)), lang)
            if highlighted]


def test_indonesian_text_highlights_every_form_of_the_stem() -> None:
    text = "Petugas memperbaiki pipa; perbaikan selesai, jalan diperbaiki dengan baik."
    assert marked(text, "memperbaiki", lang="id") == ["memperbaiki", "perbaikan", "diperbaiki", "baik"]
    assert marked(text, "memperbaiki") == ["memperbaiki", "perbaikan", "diperbaiki", "baik"]  # detected


def test_english_text_is_judged_by_english_stems_only() -> None:
    # The query "memperbaiki" searches the stems "memperbaiki" and "baik" (its Indonesian stem).
    # An English text was indexed with English stems: "baik" is its own stem there and matches,
    # "perbaikan" stays "perbaikan" and does not, so it must not light up.
    text = "The council said perbaikan is the word for repairs, and baik means good."
    assert marked(text, "memperbaiki", lang="en") == ["baik"]
    assert marked(text, "memperbaiki", lang="id") == ["perbaikan", "baik"]
    assert marked(text, "repair", lang="en") == ["repairs"]


def test_exact_and_prefix_words_are_highlighted_whatever_the_language() -> None:
    text = "Budget hearing: the budgets of 2025 and the budgeting rules."
    assert marked(text, "=budget", lang="en") == ["Budget"]
    assert marked(text, "budg*", lang="id") == ["Budget", "budgets", "budgeting"]
