"""A reviewer's redaction decision, the original it applies to, and the markers a burned text carries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from archiver.clock import parse_timestamp
from export.errors import ExportError

MARKER_LABEL = "REDACTED"

# The marker must stay one unambiguous token in the output ("[REDACTED (b)(6)]"), so a code may not carry
# brackets, line breaks or invisible characters. Whether the code exists in the jurisdiction is the caller's
# check; this is only about the shape.
_CODE_SHAPE = re.compile(r"[A-Za-z0-9().,/ -]{1,40}")


@dataclass(frozen=True)
class Redaction:
    """One accepted redaction: a span of one field of a version document and why it is withheld.

    ``start``/``end`` are Python ``str`` indices (code points, ``end`` exclusive) into the field's value.
    ``field`` is a dotted path into the document ("text", "content.spoiler_text", "media.0").
    """

    field: str
    start: int
    end: int
    code: str
    reason: str
    reviewer: str
    decided_at: str

    def __post_init__(self) -> None:
        if not isinstance(self.start, int) or not isinstance(self.end, int) or isinstance(self.start, bool) \
                or isinstance(self.end, bool) or not 0 <= self.start < self.end:
            raise ExportError(f"redaction of {self.field!r} has span {self.start!r}..{self.end!r}; a span needs "
                              "0 <= start < end", code="redaction_span")
        if not self.field:
            raise ExportError("a redaction needs the field it applies to", code="redaction_field")
        check_decision(self.code, self.reason, self.reviewer, self.decided_at)


@dataclass(frozen=True)
class OriginalRef:
    """The signed version a derived (redacted or withheld) document stands in for."""

    record_id: str
    version: int
    content_sha256: str
    envelope_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "version": self.version, "content_sha256": self.content_sha256,
                "envelope_sha256": self.envelope_sha256}


@dataclass(frozen=True)
class Marker:
    """Where one ``[REDACTED code]`` marker sits in a burned text, so a renderer can box it exactly there.

    ``start``/``end`` index the burned text. ``source_start``/``source_end`` are the (grapheme-widened,
    merged) span it replaced in the original; they stay in memory and are never written to a released
    document, which gets only ``chars_removed``. ``decisions`` are the redactions merged into this marker;
    ``propagated`` is true when none of them was made on this text itself (the redacted value recurred here).
    """

    start: int
    end: int
    code: str
    source_start: int
    source_end: int
    decisions: tuple[Redaction, ...]
    propagated: bool = False

    @property
    def chars_removed(self) -> int:
        return self.source_end - self.source_start


@dataclass(frozen=True)
class BurnedText:
    """A text with its redacted spans replaced by markers, and those markers in order."""

    text: str
    markers: tuple[Marker, ...]


def marker_text(code: str, label: str = MARKER_LABEL) -> str:
    return f"[{label} {code}]"


def check_decision(code: str, reason: str, reviewer: str, decided_at: str) -> None:
    """Refuse a decision that could not be defended later: no code, no harm rationale, no reviewer, no time."""
    if not isinstance(code, str) or not _CODE_SHAPE.fullmatch(code) or not code.strip():
        raise ExportError(f"exemption code {code!r} cannot be stamped on a redaction; use a code such as "
                          "(b)(6) or 17(h) (letters, digits, parentheses, dots, slashes, spaces)",
                          code="redaction_code")
    for name, value in (("reason", reason), ("reviewer", reviewer)):
        if not isinstance(value, str) or not value.strip():
            raise ExportError(f"a redaction needs a {name}: record the foreseeable harm / uji konsekuensi and "
                              "who decided", code="redaction_incomplete")
    try:
        parse_timestamp(decided_at)
    except (TypeError, ValueError, AttributeError):
        raise ExportError(f"decided_at {decided_at!r} is not an RFC 3339 timestamp with a zone",
                          code="redaction_incomplete") from None
