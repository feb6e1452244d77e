"""What legal staff do with a request: open it, scope it, tag, redact, withhold, toll, extend, close.

Every operation validates against the current case, appends one journal event and one audit-log
entry. Nothing here redacts on its own: suggestions are proposals a person accepts or rejects.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from archiver.audit import audit
from archiver.plugins import record_query
from archiver.wiring import Archive
from export.errors import ExportError
from export.redaction.suggest import Suggestion, suggest
from export.requests import documents, journal
from export.requests.case import TAGS, Case, Event, apply
from export.requests.jurisdictions import Clock, Extension, Toll, deadlines, exemption, jurisdiction

MAX_TEXT = 10_000


@dataclass(frozen=True)
class Intake:
    number: str
    requester: str
    received: date
    jurisdiction: str
    description: str
    assigned: tuple[str, ...] = ()
    expedited: bool = False


def open_request(archive: Archive, intake: Intake, *, actor: str) -> Case:
    journal.check_number(intake.number)
    jurisdiction(intake.jurisdiction)  # refuses an unknown profile, listing the known ones
    _text(requester=intake.requester, description=intake.description)
    if intake.received > archive.clock.now().date():
        raise ExportError(f"received date {intake.received} is in the future", code="bad_date")
    # An expedited request where the jurisdiction has no expedited clock is refused here, not later.
    deadlines(jurisdiction(intake.jurisdiction), received=intake.received, expedited=intake.expedited)

    def new(case: Case | None) -> None:
        if case is not None:
            raise ExportError(f"request {intake.number} already exists; choose another number",
                              code="request_exists")

    case = journal.append(archive, intake.number, "opened", {
        "number": intake.number, "requester": intake.requester, "received": intake.received.isoformat(),
        "jurisdiction": intake.jurisdiction, "description": intake.description,
        "assigned": list(intake.assigned), "expedited": intake.expedited}, actor=actor, check=new)
    _audit(archive, actor, "request.open", case, {"jurisdiction": intake.jurisdiction})
    return case


def clocks(case: Case, today: date) -> list[Clock]:
    """Every deadline running on the request, by its jurisdiction's rules."""
    extension = case.extension
    return deadlines(
        jurisdiction(case.jurisdiction), received=case.received,
        tolls=[Toll(start=date.fromisoformat(t["start"]), end=date.fromisoformat(t["end"]) if t["end"] else None,
                    kind=t["kind"]) for t in case.tolls],
        extension=Extension(days=int(extension["days"]), notice=extension["notice"],
                            requester_agreed=bool(extension.get("requester_agreed"))) if extension else None,
        expedited=case.expedited, appeal_received=case.appeal_received,
        objection_received=case.objection_received, objection_answered=case.objection_answered, today=today)


def record(archive: Archive, number: str, kind: str, data: Mapping[str, Any], *, actor: str) -> Case:
    """Append a simple case event (assignment, note, toll, extension, key dates) after checking it
    still makes a valid set of deadlines (a second information toll, an over-long extension are refused)."""
    today = archive.clock.now().date()

    def valid(case: Case | None) -> None:
        current = _open(case, number)
        clocks(apply(current, Event(seq=current.events + 1, kind=kind, actor=actor, at="", data=data)), today)

    case = journal.append(archive, number, kind, data, actor=actor, check=valid)
    _audit(archive, actor, f"request.{kind}", case, dict(data))
    return case


def scope_from_search(archive: Archive, number: str, query: str, *, actor: str) -> tuple[Case, int]:
    """Add every record a search matches; the query, backend and time go into the journal."""
    matched = sorted(record_query(archive, query))
    data = {"query": query, "backend": archive.settings.search_backend, "records": matched}
    case = journal.append(archive, number, "scoped", data, actor=actor, check=lambda c: _open(c, number))
    _audit(archive, actor, "request.scope", case, {"query": query, "backend": data["backend"],
                                                   "matched": len(matched)})
    return case, len(matched)


def scope_records(archive: Archive, number: str, refs: Sequence[str], *, actor: str) -> Case:
    """Add records named by id or ``platform:platform_id`` (each must exist; duplicates are ignored)."""
    ids = sorted({documents.record_id(archive, ref) for ref in refs})
    if not ids:
        raise ExportError("name at least one record", code="no_records")
    case = journal.append(archive, number, "scoped", {"records": ids}, actor=actor,
                          check=lambda c: _open(c, number))
    _audit(archive, actor, "request.scope", case, {"records": len(ids)})
    return case


def tag(archive: Archive, number: str, record_ids: Sequence[str], value: str, *, actor: str) -> Case:
    if value not in TAGS:
        raise ExportError(f"tag must be one of {', '.join(TAGS)}", code="bad_tag")

    def in_scope(case: Case | None) -> None:
        _require_scoped(_open(case, number), record_ids)

    case = journal.append(archive, number, "tagged", {"records": sorted(set(record_ids)), "tag": value},
                          actor=actor, check=in_scope)
    _audit(archive, actor, "request.tag", case, {"tag": value, "records": len(record_ids)})
    return case


def redact(archive: Archive, number: str, record_id: str, *, version: int, field: str, start: int, end: int,
           code: str, reason: str, actor: str, suggested: str | None = None) -> Case:
    """Decide to burn out ``field[start:end]`` of one version, citing an exemption of the request's jurisdiction."""
    _text(reason=reason)
    rid, value = documents.version_field(archive, record_id, version, field)
    if not 0 <= start < end <= len(value):
        raise ExportError(f"span {start}:{end} is outside {field!r} ({len(value)} characters)",
                          code="redaction_span")

    def allowed(case: Case | None) -> None:
        current = _open(case, number)
        _require_scoped(current, [rid])
        exemption(jurisdiction(current.jurisdiction), code)

    data = {"id": secrets.token_hex(6), "record_id": rid, "version": version, "field": field,
            "start": start, "end": end, "code": code, "reason": reason, "suggested": suggested}
    case = journal.append(archive, number, "redacted", data, actor=actor, check=allowed)
    _audit(archive, actor, "request.redact", case, {k: v for k, v in data.items() if k != "reason"})
    return case


def unredact(archive: Archive, number: str, redaction_id: str, *, actor: str) -> Case:
    def known(case: Case | None) -> None:
        if redaction_id not in _open(case, number).redactions:
            raise ExportError(f"request {number} has no redaction {redaction_id}", code="redaction_unknown")

    case = journal.append(archive, number, "unredacted", {"id": redaction_id}, actor=actor, check=known)
    _audit(archive, actor, "request.unredact", case, {"id": redaction_id})
    return case


@dataclass(frozen=True)
class VersionSuggestion:
    record_id: str
    version: int
    field: str
    suggestion: Suggestion


def suggestions(archive: Archive, number: str, record_id: str, *,
                minors: Sequence[str] = ()) -> list[VersionSuggestion]:
    """Personal data found in every version's text that no decision has yet covered or rejected."""
    case = journal.load(archive, number)
    detail = documents.record(archive, record_id)
    decided = {(r.version, r.field, r.start, r.end) for r in case.redactions_for(detail.record.id)}
    decided |= {(int(s["version"]), s["field"], int(s["start"]), int(s["end"])) for s in case.rejected_suggestions
                if s["record_id"] == detail.record.id}
    found = []
    for version in detail.versions:
        text = documents.field_value(documents.document(archive, version), "text")
        for item in suggest(text, flagged_minor_names=minors):
            if (version.number, "text", item.start, item.end) not in decided:
                found.append(VersionSuggestion(detail.record.id, version.number, "text", item))
    return found


def reject_suggestion(archive: Archive, number: str, found: VersionSuggestion, *, actor: str) -> Case:
    data = {"record_id": found.record_id, "version": found.version, "field": found.field,
            "start": found.suggestion.start, "end": found.suggestion.end, "kind": found.suggestion.kind}
    case = journal.append(archive, number, "suggestion_rejected", data, actor=actor, check=lambda c: _open(c, number))
    _audit(archive, actor, "request.suggestion_rejected", case, data)
    return case


def withhold(archive: Archive, number: str, record_id: str, *, code: str, reason: str, actor: str) -> Case:
    """Withhold a record in full: its own logged decision, with an exemption and the harm it would cause."""
    _text(reason=reason)
    rid = documents.record_id(archive, record_id)

    def allowed(case: Case | None) -> None:
        current = _open(case, number)
        _require_scoped(current, [rid])
        exemption(jurisdiction(current.jurisdiction), code)

    case = journal.append(archive, number, "withheld", {"record_id": rid, "code": code, "reason": reason},
                          actor=actor, check=allowed)
    _audit(archive, actor, "request.withhold", case, {"record_id": rid, "code": code})
    return case


def release(archive: Archive, number: str, record_id: str, *, actor: str) -> Case:
    def withheld(case: Case | None) -> None:
        if record_id not in _open(case, number).withheld:
            raise ExportError(f"record {record_id} is not withheld in request {number}", code="not_withheld")

    case = journal.append(archive, number, "released", {"record_id": record_id}, actor=actor, check=withheld)
    _audit(archive, actor, "request.release", case, {"record_id": record_id})
    return case


def close(archive: Archive, number: str, final_action: date, *, actor: str) -> Case:
    """Close the request; ``final_action`` starts the retention period of its production packages."""
    if final_action > archive.clock.now().date():
        raise ExportError(f"final action date {final_action} is in the future", code="bad_date")
    case = journal.append(archive, number, "closed", {"final_action": final_action.isoformat()}, actor=actor,
                          check=lambda c: _open(c, number))
    _audit(archive, actor, "request.close", case, {"final_action": final_action.isoformat()})
    return case


def _open(case: Case | None, number: str) -> Case:
    if case is None:
        raise ExportError(f"no request {number}; open it with `arsip requests open`", code="request_unknown")
    if case.status == "closed":
        raise ExportError(f"request {number} is closed; nothing more can be decided on it", code="request_closed")
    return case


def _require_scoped(case: Case, record_ids: Sequence[str]) -> None:
    missing = [r for r in record_ids if r not in case.scope]
    if missing:
        raise ExportError(f"record {missing[0]} is not in the scope of request {case.number}"
                          f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}; add it first",
                          code="not_in_scope")


def _text(**values: str) -> None:
    for name, value in values.items():
        if not value or not value.strip() or len(value) > MAX_TEXT:
            raise ExportError(f"{name} must be 1-{MAX_TEXT} characters", code="bad_text")


def _audit(archive: Archive, actor: str, action: str, case: Case, details: dict[str, Any]) -> None:
    audit(archive, actor=actor, action=action, target=f"request:{case.number}", details=details)


def match_spans(archive: Archive, record_id: str, version: int, field: str, text: str) -> list[tuple[int, int]]:
    """Every (start, end) of ``text`` in one version's field, for redacting by example."""
    _rid, value = documents.version_field(archive, record_id, version, field)
    spans = [(at, at + len(text)) for at in documents.occurrences(value, text)]
    if not spans:
        raise ExportError(f"{text[:80]!r} does not occur in {field!r} of version {version}", code="no_match")
    return spans
