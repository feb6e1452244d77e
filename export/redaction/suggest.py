"""Proposals of personal data to redact (emails, phones, NIK, street addresses, flagged minors' names).

Nothing here redacts anything. A suggestion is a proposal a reviewer accepts (turning it into a
:class:`~export.redaction.model.Redaction` with a code, a foreseeable-harm / uji konsekuensi note, a name
and a time) or rejects; the patterns favour finding too much over missing something, and a reviewer
still reads the whole record. Offsets are Python ``str`` indices (code points), the same as redactions.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from export.redaction.model import Redaction
from export.text import visible

# Personal privacy: FOIA exemption (b)(6); UU KIP Pasal 17 huruf h (rahasia pribadi).
CODE_HINTS = {"foia": "(b)(6)", "kip": "17(h)"}
_PREVIEW = 80


class SuggestionKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    NIK = "nik"
    STREET_ADDRESS = "street_address"
    MINOR_NAME = "minor_name"


@dataclass(frozen=True)
class Suggestion:
    """A span of text that looks like personal data, for a reviewer to accept or reject."""

    start: int
    end: int
    kind: SuggestionKind
    text_preview: str
    default_code_hint: str

    def accept(self, *, reason: str, reviewer: str, decided_at: str, code: str | None = None,
               field: str = "text") -> Redaction:
        """The reviewer's acceptance as a redaction; ``code`` defaults to the hint."""
        return Redaction(field=field, start=self.start, end=self.end, code=code or self.default_code_hint,
                         reason=reason, reviewer=reviewer, decided_at=decided_at)


# Not preceded by "@": "@warga@social.example" is a fediverse account, not a mailbox.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9_%+.@-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])")

# A phone is not glued to letters, digits, "+" or "-" on either side, nor part of a dotted number run.
_BEFORE = r"(?<![A-Za-z0-9_+\-])(?<!\d\.)"
_AFTER = r"(?![A-Za-z0-9_]|[.\-]\d)"
_PHONES = [re.compile(_BEFORE + body + _AFTER) for body in (
    # Possessive groups: a long digit run must not be tried in every split into groups.
    r"\+\d{1,3}(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,5}+)){2,6}",       # +62 812-3456-7890, +1 (555) 123-4567
    r"(?:\(0\d{2,4}\)|0\d{2,4})[ .\-]?\d{3,4}(?:[ .\-]?\d{3,5}){1,2}",  # 0812-3456-7890, (021) 555-1234
    r"628\d{7,10}",                                              # wa.me/6281234567890
    r"\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}",                          # (555) 123-4567
    r"\d{3}([.\-])\d{3}\1\d{4}",                                 # 555-123-4567, 555.123.4567
)]
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 9, 15

_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
# Kode wilayah of the provinces (Permendagri), including the Papua provinces formed in 2022.
_PROVINCES = frozenset([*range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77),
                        81, 82, *range(91, 97)])

_EN_ADDRESS = re.compile(
    r"(?<![\w-])\d{1,6}[A-Za-z]?(?:\s+[A-Z][A-Za-z'.-]*){1,4}\s+"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr)(?![A-Za-z])\.?")
_RT_RW = r",?\s*RT\.?\s*\d{1,3}\s*[/,]?\s*RW\.?\s*\d{1,3}"
# Indonesian addresses need a house number or an RT/RW: "jalan" alone is also the everyday word for "walk".
_ID_ADDRESS = re.compile(
    r"(?<!\w)(?:Jalan|Jln\.?|Jl\.?|Gang|Gg\.?)\s*(?:[^\W_][\w.'/-]*[\s,]+){1,6}?"
    rf"(?:(?:No\.?|Nomor|Nmr\.?)\s*\d+[A-Za-z]?(?:/\d+)?(?:{_RT_RW})?|{_RT_RW.removeprefix(',?')})(?!\w)",
    re.IGNORECASE)

_PRIORITY = list(SuggestionKind)


def suggest(text: str, *, flagged_minor_names: Sequence[str] = (), jurisdiction: str = "foia") -> list[Suggestion]:
    """Spans of ``text`` that look like personal data, sorted and non-overlapping (the longest wins).

    ``flagged_minor_names`` are names a reviewer flagged as belonging to minors; they are matched as
    whole words, case-insensitively. ``jurisdiction`` ("foia" or "kip") picks the code hint.
    """
    hint = CODE_HINTS[jurisdiction]
    found = sorted(_candidates(text, flagged_minor_names),
                   key=lambda c: (c[0] - c[1], c[0], _PRIORITY.index(c[2])))
    chosen: list[tuple[int, int, SuggestionKind]] = []  # non-overlapping, so sorted by start and by end
    for start, end, kind in found:
        i = bisect.bisect_left(chosen, end, key=lambda c: c[0])
        if i == 0 or chosen[i - 1][1] <= start:
            chosen.insert(i, (start, end, kind))
    return [Suggestion(start, end, kind, visible(text[start:end], limit=_PREVIEW), hint)
            for start, end, kind in chosen]


def _candidates(text: str, minor_names: Sequence[str]) -> Iterator[tuple[int, int, SuggestionKind]]:
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end(), SuggestionKind.EMAIL
    for pattern in _PHONES:
        for m in pattern.finditer(text):
            if _MIN_PHONE_DIGITS <= sum(ch.isdigit() for ch in m.group()) <= _MAX_PHONE_DIGITS:
                yield m.start(), m.end(), SuggestionKind.PHONE
    for m in _NIK.finditer(text):
        if plausible_nik(m.group()):
            yield m.start(), m.end(), SuggestionKind.NIK
    for pattern in (_EN_ADDRESS, _ID_ADDRESS):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), SuggestionKind.STREET_ADDRESS
    for name in minor_names:
        words = name.split()
        if words:
            pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)
            for m in pattern.finditer(text):
                yield m.start(), m.end(), SuggestionKind.MINOR_NAME


def plausible_nik(digits: str) -> bool:
    """Whether 16 digits have the NIK layout: province, regency, district, DDMMYY of birth, serial.

    Women's day of birth is stored plus 40 (41-71). Anything else, such as most card numbers, is refused.
    """
    if len(digits) != 16 or not digits.isascii() or not digits.isdigit():
        return False
    province, regency, district = int(digits[0:2]), digits[2:4], digits[4:6]
    day, month, serial = int(digits[6:8]), int(digits[8:10]), digits[12:16]
    return (province in _PROVINCES and regency != "00" and district != "00" and serial != "0000"
            and (1 <= day <= 31 or 41 <= day <= 71) and 1 <= month <= 12)
