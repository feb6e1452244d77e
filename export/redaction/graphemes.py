"""Grapheme-cluster boundaries, so a redaction never leaves half a user-perceived character behind.

A Python ``str`` index is a code point, so no span can split a UTF-16 surrogate pair; but a span can still
cut an emoji ZWJ sequence ("👨‍👩‍👧" is five code points), a flag, a skin-tone modifier or a letter from its
combining accent, leaving a fragment that hints at what was removed. Spans are widened outward to
extended grapheme clusters (UAX #29).

The ``regex`` module's ``\\X`` is used when it is importable (it is in the development environment, through
a test dependency, but is not an install requirement). Without it, :func:`fallback_boundaries` applies
the UAX #29 rules that matter for social-media text with ``unicodedata``: CR LF, controls, combining marks
and other extenders (variation selectors, skin tones, emoji tags), spacing marks, Hangul jamo and
regional-indicator pairs. It errs on the side of larger clusters (never breaking after a ZWJ), which can
only make a redaction wider, never narrower; Indic conjuncts and prepended marks are not joined.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Callable
from typing import Any

_CLUSTER: Any
try:
    import regex as _regex

    _CLUSTER = _regex.compile(r"\X")
except ImportError:  # an optional accelerator only; the fallback below is complete enough to rely on
    _CLUSTER = None

ZWJ = "\u200d"
_NOT_CONTROL = frozenset({"\u200c", ZWJ})
_EXTEND_CATEGORIES = frozenset({"Mn", "Me"})


def boundaries(text: str) -> list[int]:
    """Every cluster boundary in ``text``, ascending, from 0 to ``len(text)`` inclusive."""
    if _CLUSTER is None:
        return fallback_boundaries(text)
    return [0, *(match.end() for match in _CLUSTER.finditer(text))]


def snap(bounds: list[int], start: int, end: int) -> tuple[int, int]:
    """Widen ``start..end`` to the nearest enclosing cluster boundaries from :func:`boundaries`."""
    return bounds[bisect.bisect_right(bounds, start) - 1], bounds[bisect.bisect_left(bounds, end)]


def fallback_boundaries(text: str) -> list[int]:
    """Cluster boundaries by a conservative subset of UAX #29, with ``unicodedata`` only."""
    bounds = [0]
    regional_run = 0
    for i in range(1, len(text)):
        before, after = text[i - 1], text[i]
        regional_run = regional_run + 1 if _is_regional(before) else 0
        if _breaks(before, after, regional_run):
            bounds.append(i)
    if text:
        bounds.append(len(text))
    return bounds


def _breaks(before: str, after: str, regional_run: int) -> bool:
    if before == "\r" and after == "\n":
        return False
    if _is_control(before) or _is_control(after):
        return True
    if _hangul_joins(before, after):
        return False
    if _is_extend(after) or unicodedata.category(after) == "Mc" or before == ZWJ:
        return False
    # Regional indicators pair up from the start of their run: 🇮🇩🇺🇸 is two flags.
    return not (_is_regional(after) and regional_run % 2 == 1)


def _is_control(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _NOT_CONTROL and not _is_tag(ch)
    return category in ("Cc", "Cs", "Zl", "Zp")


def _is_extend(ch: str) -> bool:
    code = ord(ch)
    return (unicodedata.category(ch) in _EXTEND_CATEGORIES or ch in _NOT_CONTROL or _is_tag(ch)
            or 0x1F3FB <= code <= 0x1F3FF)  # emoji skin-tone modifiers


def _is_tag(ch: str) -> bool:
    return 0xE0020 <= ord(ch) <= 0xE007F


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _in(*ranges: tuple[int, int]) -> Callable[[str], bool]:
    return lambda ch: any(low <= ord(ch) <= high for low, high in ranges)


_JAMO_L = _in((0x1100, 0x115F), (0xA960, 0xA97C))
_JAMO_V = _in((0x1160, 0x11A7), (0xD7B0, 0xD7C6))
_JAMO_T = _in((0x11A8, 0x11FF), (0xD7CB, 0xD7FB))
_SYLLABLE = _in((0xAC00, 0xD7A3))


def _hangul_joins(before: str, after: str) -> bool:
    lv = _SYLLABLE(before) and (ord(before) - 0xAC00) % 28 == 0
    lvt = _SYLLABLE(before) and not lv
    if _JAMO_L(before):
        return _JAMO_L(after) or _JAMO_V(after) or _SYLLABLE(after)
    if lv or _JAMO_V(before):
        return _JAMO_V(after) or _JAMO_T(after)
    return (lvt or _JAMO_T(before)) and _JAMO_T(after)
