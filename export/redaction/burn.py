"""Burned-in redaction: redacted text is replaced by a coded marker, never covered, in a new derived copy.

The signed original is never touched (DESIGN.md principle 2). A redacted copy is a separate document that
names the version it was derived from by its digests, carries ``[REDACTED (b)(6)]`` at each place of deletion
(5 U.S.C. 552(b): the exemption "at the place in the record where such deletion is made"), and a
withholding log. The amount deleted is given as ``chars_removed`` in that log rather than in the marker, so
every marker has the same shape; pass ``show_amount=False`` when showing the amount would itself harm the
protected interest, as 552(b) allows.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from export.errors import ExportError
from export.redaction import graphemes
from export.redaction.model import BurnedText, Marker, OriginalRef, Redaction, check_decision, marker_text

REDACTED_SCHEMA = "arsip.redacted-version/1"
WITHHELD_SCHEMA = "arsip.withheld-version/1"
# A redacted value shorter than this is neither propagated nor checked for leaks: burning every "12" or "Jo"
# in a document would destroy it, and such fragments identify no one on their own.
MIN_SECRET = 3

Path = tuple[str, ...]
_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    code: str
    decision: Redaction
    propagated: bool = False

    def describe(self, where: str) -> str:
        origin = f", carried over from {self.decision.field}" if self.propagated else ""
        return f"{self.code} at {where}[{self.start}:{self.end}] (by {self.decision.reviewer}{origin})"


@dataclass
class _Group:
    start: int
    end: int
    code: str
    members: list[_Span] = field(default_factory=list)


def burn(text: str, redactions: Sequence[Redaction]) -> BurnedText:
    """``text`` with each redacted span replaced by ``[REDACTED <code>]``, and where each marker landed.

    Spans are first widened to whole grapheme clusters (see :mod:`export.redaction.graphemes`). Spans with
    the same code that overlap or touch become one marker; overlapping spans with different codes are an
    ExportError ``redaction_overlap``; a span outside the text is ``redaction_span``.
    """
    fields = {r.field for r in redactions}
    if len(fields) > 1:
        raise ExportError(f"burn() takes the redactions of one field, got {sorted(fields)}; use "
                          "redacted_document() for a whole document", code="redaction_field")
    where = next(iter(fields), "text")
    return _burn(text, [_Span(r.start, r.end, r.code, r) for r in redactions], where)


def _burn(text: str, spans: Iterable[_Span], where: str) -> BurnedText:
    bounds = graphemes.boundaries(text)
    snapped = []
    for span in spans:
        if span.end > len(text):
            raise ExportError(f"redaction {span.describe(where)} ends past the end of the text ({len(text)} "
                              "characters); offsets are Python str indices (code points)", code="redaction_span")
        start, end = graphemes.snap(bounds, span.start, span.end)
        snapped.append(replace(span, start=start, end=end))
    snapped.sort(key=lambda s: (s.start, -s.end, s.propagated))
    pieces: list[str] = []
    markers: list[Marker] = []
    position = written = 0
    for group in _merge(snapped, where):
        kept, stamp = text[position:group.start], marker_text(group.code)
        pieces += (kept, stamp)
        markers.append(_marker(group, written + len(kept), written + len(kept) + len(stamp)))
        written += len(kept) + len(stamp)
        position = group.end
    pieces.append(text[position:])
    return BurnedText("".join(pieces), tuple(markers))


def _merge(spans: list[_Span], where: str) -> list[_Group]:
    """Union same-code spans that overlap or touch; refuse different codes over the same characters."""
    groups: list[_Group] = []
    for span in spans:
        last = groups[-1] if groups else None
        if last is None or span.start > last.end or (span.start == last.end and span.code != last.code):
            groups.append(_Group(span.start, span.end, span.code, [span]))
        elif span.code == last.code:
            last.end = max(last.end, span.end)
            last.members.append(span)
        elif not (span.propagated and span.end <= last.end):
            # A carried-over value lying wholly inside text already burned under another code is gone anyway.
            other = max(last.members, key=lambda m: m.end)
            raise ExportError(f"redaction {span.describe(where)} overlaps redaction {other.describe(where)} "
                              "(after widening to whole characters); give the overlapping text one exemption "
                              "code or split the spans", code="redaction_overlap")
    return groups


def _marker(group: _Group, start: int, end: int) -> Marker:
    # Decisions made on this text come first, so the log names them rather than a carried-over one.
    ordered = sorted(group.members, key=lambda m: m.propagated)
    decisions = tuple(dict.fromkeys(m.decision for m in ordered))
    return Marker(start=start, end=end, code=group.code, source_start=group.start, source_end=group.end,
                  decisions=decisions, propagated=all(m.propagated for m in group.members))


def redacted_document(document: Mapping[str, Any], redactions_by_field: Mapping[str, Sequence[Redaction]], *,
                      original: OriginalRef, show_amount: bool = True) -> dict[str, Any]:
    """A new document: ``document`` with every redaction burned in, and every recurrence of a redacted value.

    A redacted value (the widened span, stripped, at least :data:`MIN_SECRET` characters) is burned
    wherever else it occurs in any string value of the document, also HTML-, percent- and JSON-escaped,
    because burned in means gone from every output: the email redacted in ``text`` is usually in
    ``content.html`` too. Those markers are logged with ``"propagated": true`` and the code of the
    decision they come from. Matching is exact and case-sensitive. Dict keys are structure, not content,
    and are kept. A number whose digits contain a redacted value becomes the burned string.

    The log (``"redactions"``) gives, per marker, the field path and the marker's ``output_start`` /
    ``output_end`` in the burned value, the code, the decision (reason, reviewer, decided_at; further
    decisions merged into the same marker under ``"merged"``) and ``chars_removed`` unless
    ``show_amount`` is false. It never holds the redacted text or its original offsets.
    """
    explicit = _explicit_spans(document, redactions_by_field)
    secrets = _secrets(document, explicit)
    # The withholding log may be released; a reason that quotes a redacted value would undo the redaction.
    assert_absent({f"the reason for the redaction of {s.decision.field}[{s.start}:{s.end}]": s.decision.reason
                   for spans in explicit.values() for s in spans}, secrets)
    walker = _Walker(explicit, _needles(secrets), show_amount)
    # The schema names the format, not content; replacing it keeps a copy from passing for a signed original.
    body = walker.walk({key: value for key, value in document.items() if key != "schema"}, ())
    return {"schema": REDACTED_SCHEMA, **body, "derived_from": original.to_json(), "redactions": walker.log}


def _explicit_spans(document: Mapping[str, Any], redactions_by_field: Mapping[str, Sequence[Redaction]]
                    ) -> dict[Path, list[_Span]]:
    explicit: dict[Path, list[_Span]] = {}
    for name, redactions in redactions_by_field.items():
        for r in redactions:
            if r.field != name:
                raise ExportError(f"a redaction of {r.field!r} was filed under {name!r}", code="redaction_field")
        if name == "schema":
            raise ExportError("the schema field names the format; it is not content to redact", code="redaction_field")
        if redactions:
            path = _resolve(document, name)
            explicit.setdefault(path, []).extend(_Span(r.start, r.end, r.code, r) for r in redactions)
    return explicit


def _resolve(document: Mapping[str, Any], name: str) -> Path:
    """The path of the string value ``name`` addresses ("content.spoiler_text", "media.0")."""
    node: Any = document
    for part in name.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ExportError(f"the version document has no field {name!r}", code="redaction_field")
    if not isinstance(node, str):
        raise ExportError(f"field {name!r} holds {type(node).__name__}, not text; only text fields can be "
                          "redacted in part (withhold the record in full otherwise)", code="redaction_field")
    return tuple(name.split("."))


def _value(document: Mapping[str, Any], path: Path) -> str:
    node: Any = document
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return str(node)


def _secrets(document: Mapping[str, Any], explicit: Mapping[Path, list[_Span]]) -> dict[str, Redaction]:
    """Each redacted value (widened like burn() widens it) and the first decision that redacted it."""
    secrets: dict[str, Redaction] = {}
    for path, spans in explicit.items():
        text = _value(document, path)
        bounds = graphemes.boundaries(text)
        for span in sorted(spans, key=lambda s: s.start):
            start, end = graphemes.snap(bounds, span.start, min(span.end, len(text)))
            secret = text[start:end].strip()
            if len(secret) >= MIN_SECRET:
                secrets.setdefault(secret, span.decision)
    return secrets


def _needles(secrets: Mapping[str, Redaction]) -> list[tuple[str, Redaction]]:
    """The forms a value takes inside other fields: as is, in HTML, in a URL, inside embedded JSON."""
    needles: dict[str, Redaction] = {}
    for secret, decision in secrets.items():
        for form in (secret, html.escape(secret), quote(secret, safe=""), *_json_forms(secret)):
            needles.setdefault(form, decision)
    return list(needles.items())


class _Walker:
    """Copies a document value by value, burning explicit spans and every recurrence of a redacted value."""

    def __init__(self, explicit: Mapping[Path, list[_Span]], needles: list[tuple[str, Redaction]],
                 show_amount: bool) -> None:
        self.explicit, self.needles, self.show_amount = explicit, needles, show_amount
        self.log: list[dict[str, Any]] = []

    def walk(self, value: Any, path: Path) -> Any:
        if isinstance(value, Mapping):
            return {key: self.walk(item, (*path, str(key))) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.walk(item, (*path, str(i))) for i, item in enumerate(value)]
        if isinstance(value, str):
            return self.text(value, path)
        if isinstance(value, int | float) and not isinstance(value, bool):
            digits = json.dumps(value)
            return self.text(digits, path) if any(n in digits for n, _ in self.needles) else value
        return value

    def text(self, value: str, path: Path) -> str:
        spans = list(self.explicit.get(path, ()))
        for needle, decision in self.needles:
            at = value.find(needle)
            while at >= 0:
                spans.append(_Span(at, at + len(needle), decision.code, decision, propagated=True))
                at = value.find(needle, at + 1)
        if not spans:
            return value
        where = ".".join(path)
        burned = _burn(value, spans, where)
        self.log.extend(self.entry(where, marker) for marker in burned.markers)
        return burned.text

    def entry(self, where: str, marker: Marker) -> dict[str, Any]:
        first, *others = marker.decisions
        entry: dict[str, Any] = {"field": where, "code": marker.code, "output_start": marker.start,
                                 "output_end": marker.end}
        if self.show_amount:
            entry["chars_removed"] = marker.chars_removed
        entry.update(_decision(first), propagated=marker.propagated)
        if marker.propagated:
            entry["source_field"] = first.field
        if others:
            entry["merged"] = [{"field": d.field, **_decision(d)} for d in others]
        return entry


def _decision(redaction: Redaction) -> dict[str, str]:
    return {"reason": redaction.reason, "reviewer": redaction.reviewer, "decided_at": redaction.decided_at}


def withheld_document(original: OriginalRef, code: str, reason: str, reviewer: str,
                      decided_at: str) -> dict[str, Any]:
    """The stand-in for a version withheld in full: its identity and the decision, no content at all."""
    check_decision(code, reason, reviewer, decided_at)
    return {"schema": WITHHELD_SCHEMA, "derived_from": original.to_json(),
            "withheld": {"code": code, "reason": reason, "reviewer": reviewer, "decided_at": decided_at}}


def assert_absent(outputs: Iterable[bytes | str] | Mapping[str, bytes | str], secrets: Iterable[str]) -> None:
    """Raise ExportError ``redaction_leak`` if any secret occurs in any output: the last guard before release.

    Outputs are text or UTF-8 bytes, named by key when given as a mapping, else by position. A secret is
    matched exactly (case-sensitive) and in its JSON-escaped forms (``\\u00e9``, ``\\uD83D…``, ``\\"``), so
    a serializer's escaping cannot hide it. Secrets shorter than :data:`MIN_SECRET` are skipped. The
    error names the secret by position and length only, so the leak is not repeated into logs. A
    secret that is part of the marker itself ("RED", "(b)(6)") will be reported: such values identify
    no one and should not be redacted as text.
    """
    forms = [(i, secret, (secret, *_json_forms(secret))) for i, secret in enumerate(secrets)
             if len(secret) >= MIN_SECRET]
    named = outputs.items() if isinstance(outputs, Mapping) else ((f"output {i}", o) for i, o in enumerate(outputs))
    for name, output in named:
        for i, secret, variants in forms:
            found = [form for form in variants
                     if (form.encode() in output if isinstance(output, bytes) else form in output)]
            if found:
                how = "" if found[0] == secret else " (JSON-escaped)"
                raise ExportError(f"redacted value #{i} ({len(secret)} characters) appears{how} in {name}; "
                                  "do not release it: burn that field too", code="redaction_leak")


def _json_forms(secret: str) -> list[str]:
    """How JSON writers may spell ``secret`` inside a string: \\u escapes in lower or upper case hex."""
    ascii_form = json.dumps(secret)[1:-1]
    upper = _upper_hex(ascii_form)
    plain = json.dumps(secret, ensure_ascii=False)[1:-1]
    return [form for form in dict.fromkeys((ascii_form, upper, plain)) if form != secret]


def _upper_hex(escaped: str) -> str:
    return _ESCAPE.sub(lambda m: "\\u" + m.group(1).upper(), escaped)
