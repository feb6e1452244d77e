"""A records request as the fold of its journal: every decision is an event, the case is their sum.

A request's history *is* the legal record (who scoped what, from which search, who redacted what and
why), so the state is never stored on its own: it is recomputed from the append-only events in
``export.requests.journal``. This module is pure (no I/O, no clock): events in, state out.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from export.errors import ExportError

TAGS = ("responsive", "non_responsive", "needs_review")
STATUSES = ("open", "in_review", "partially_produced", "closed")


@dataclass(frozen=True)
class Event:
    """One journal entry: ``kind`` says what happened, ``data`` its fields, ``actor`` and ``at`` who and when."""

    seq: int
    kind: str
    actor: str
    at: str  # RFC 3339, UTC
    data: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "actor": self.actor, "at": self.at, "data": dict(self.data)}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Event:
        return cls(seq=int(value["seq"]), kind=str(value["kind"]), actor=str(value["actor"]), at=str(value["at"]),
                   data=dict(value["data"]))


@dataclass(frozen=True)
class RedactionDecision:
    """A reviewer's decision to burn out ``start:end`` of ``field`` in one version of a record."""

    id: str
    record_id: str
    version: int
    field: str
    start: int
    end: int
    code: str
    reason: str
    reviewer: str
    decided_at: str
    suggested: str | None = None  # the suggestion kind (email, nik, ...) when it began as a suggestion


@dataclass(frozen=True)
class Withholding:
    record_id: str
    code: str
    reason: str
    reviewer: str
    decided_at: str


@dataclass(frozen=True)
class Production:
    id: str
    sequence: int
    created: str
    records: tuple[str, ...]
    first_bates: str
    last_bates: str
    last_number: int
    package_key: str
    package_sha256: str
    package_bytes: int
    record_id: str | None  # the package's own archive record (signed and logged)


@dataclass
class Case:
    """The current state of one request."""

    number: str
    requester: str
    received: date
    jurisdiction: str
    description: str
    expedited: bool
    assigned: list[str] = field(default_factory=list)
    status: str = "open"
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (at, actor, text)
    tolls: list[dict[str, Any]] = field(default_factory=list)  # {kind, start, end}
    extension: dict[str, Any] | None = None
    appeal_received: date | None = None
    objection_received: date | None = None
    objection_answered: date | None = None
    final_action: date | None = None
    scope: dict[str, str] = field(default_factory=dict)  # record id -> tag
    searches: list[dict[str, Any]] = field(default_factory=list)  # {query, backend, at, actor, matched, added}
    redactions: dict[str, RedactionDecision] = field(default_factory=dict)
    rejected_suggestions: list[dict[str, Any]] = field(default_factory=list)
    withheld: dict[str, Withholding] = field(default_factory=dict)
    productions: list[Production] = field(default_factory=list)
    events: int = 0

    def tagged(self, tag: str) -> list[str]:
        return sorted(record for record, value in self.scope.items() if value == tag)

    def produced_records(self) -> set[str]:
        return {record for production in self.productions for record in production.records}

    def redactions_for(self, record_id: str) -> list[RedactionDecision]:
        return sorted((r for r in self.redactions.values() if r.record_id == record_id),
                      key=lambda r: (r.version, r.field, r.start))


def fold(events: Iterable[Event]) -> Case:
    """The case after applying ``events`` in sequence order; the first must open it."""
    case: Case | None = None
    for event in events:
        if case is None:
            if event.kind != "opened":
                raise ExportError(f"request journal starts with {event.kind!r}, not 'opened'; the journal is damaged",
                                  code="journal_damaged")
            case = _opened(event.data)
        else:
            _APPLY[event.kind](case, event)
        case.events += 1
    if case is None:
        raise ExportError("request journal is empty", code="journal_damaged")
    return case


def apply(case: Case, event: Event) -> Case:
    """A copy of ``case`` with one more event applied (``case`` itself is left as it was)."""
    after = copy.deepcopy(case)
    _APPLY[event.kind](after, event)
    after.events += 1
    return after


def _opened(data: Mapping[str, Any]) -> Case:
    return Case(number=data["number"], requester=data["requester"], received=date.fromisoformat(data["received"]),
                jurisdiction=data["jurisdiction"], description=data["description"],
                expedited=bool(data.get("expedited")), assigned=list(data.get("assigned", [])))


def _assigned(case: Case, event: Event) -> None:
    case.assigned = list(event.data["staff"])


def _note(case: Case, event: Event) -> None:
    case.notes.append((event.at, event.actor, event.data["text"]))


def _status(case: Case, event: Event) -> None:
    case.status = event.data["status"]


def _toll(case: Case, event: Event) -> None:
    if event.data.get("end"):
        open_tolls = [toll for toll in case.tolls if toll["end"] is None]
        open_tolls[-1]["end"] = event.data["end"]
    else:
        case.tolls.append({"kind": event.data["toll"], "start": event.data["start"], "end": None})


def _extension(case: Case, event: Event) -> None:
    case.extension = dict(event.data)


def _dates(case: Case, event: Event) -> None:
    for name in ("appeal_received", "objection_received", "objection_answered"):
        if name in event.data:
            setattr(case, name, date.fromisoformat(event.data[name]))


def _scoped(case: Case, event: Event) -> None:
    added = [record for record in event.data["records"] if record not in case.scope]
    for record in added:
        case.scope[record] = "needs_review"
    if event.data.get("query") is not None:
        case.searches.append({"query": event.data["query"], "backend": event.data.get("backend"), "at": event.at,
                              "actor": event.actor, "matched": len(event.data["records"]), "added": len(added)})
    if case.status == "open":
        case.status = "in_review"


def _tagged(case: Case, event: Event) -> None:
    for record in event.data["records"]:
        case.scope[record] = event.data["tag"]


def _removed(case: Case, event: Event) -> None:
    for record in event.data["records"]:
        case.scope.pop(record, None)


def _redacted(case: Case, event: Event) -> None:
    d = event.data
    case.redactions[d["id"]] = RedactionDecision(
        id=d["id"], record_id=d["record_id"], version=int(d["version"]), field=d["field"], start=int(d["start"]),
        end=int(d["end"]), code=d["code"], reason=d["reason"], reviewer=event.actor, decided_at=event.at,
        suggested=d.get("suggested"))


def _unredacted(case: Case, event: Event) -> None:
    case.redactions.pop(event.data["id"], None)


def _suggestion_rejected(case: Case, event: Event) -> None:
    case.rejected_suggestions.append({**event.data, "reviewer": event.actor, "at": event.at})


def _withheld(case: Case, event: Event) -> None:
    d = event.data
    case.withheld[d["record_id"]] = Withholding(record_id=d["record_id"], code=d["code"], reason=d["reason"],
                                                reviewer=event.actor, decided_at=event.at)


def _released(case: Case, event: Event) -> None:
    case.withheld.pop(event.data["record_id"], None)


def _produced(case: Case, event: Event) -> None:
    d = event.data
    case.productions.append(Production(
        id=d["id"], sequence=int(d["sequence"]), created=event.at, records=tuple(d["records"]),
        first_bates=d["first_bates"], last_bates=d["last_bates"], last_number=int(d["last_number"]),
        package_key=d["package_key"], package_sha256=d["package_sha256"], package_bytes=int(d["package_bytes"]),
        record_id=d.get("record_id")))
    case.status = "partially_produced"


def _closed(case: Case, event: Event) -> None:
    case.status = "closed"
    case.final_action = date.fromisoformat(event.data["final_action"])


_APPLY = {
    "assigned": _assigned, "note": _note, "status": _status, "toll": _toll, "extension": _extension,
    "dates": _dates, "scoped": _scoped, "tagged": _tagged, "removed": _removed, "redacted": _redacted,
    "unredacted": _unredacted, "suggestion_rejected": _suggestion_rejected, "withheld": _withheld,
    "released": _released, "produced": _produced, "closed": _closed,
}
EVENT_KINDS = frozenset({"opened", *_APPLY})
