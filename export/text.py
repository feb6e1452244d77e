"""Make untrusted text safe to show: invisible and control characters become visible escapes."""

from __future__ import annotations

import unicodedata
from typing import Any

# Control (Cc), format (Cf: bidi overrides, zero-width joiners), surrogate (Cs), private-use (Co)
# and line/paragraph separators (Zl, Zp) can hide or reorder text on a page, so an archived
# "abc\u202Edcba" would display as something it is not. They are shown as \u escapes instead.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
ELLIPSIS = "\u2026"


def visible(value: Any, *, limit: int = 500) -> str:
    """``value`` as display text: hidden characters escaped, at most ``limit`` characters kept.

    ``None`` shows as an em dash so an empty field is never mistaken for a rendering error.
    A shortened value says how long it was, so the reader knows to consult the signed source.
    """
    if value is None:
        return "\u2014"
    text = value if isinstance(value, str) else str(value)
    shown = "".join(_hide(ch) for ch in text[:limit])
    if len(text) > limit:
        shown += f"{ELLIPSIS} [{len(text)} characters]"
    return shown


def _hide(ch: str) -> str:
    return escaped(ch) if unicodedata.category(ch) in _HIDDEN else ch


def escaped(ch: str) -> str:
    """One character as a visible Python-style escape: ``\\u202e``, ``\\U0001f600``."""
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
