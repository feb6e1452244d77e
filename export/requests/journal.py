"""Each request's append-only journal in the object store: ``requests/<number>/<seq>.json``.

The object store is the source of truth (DESIGN invariant 1), so request case files live there and
need no catalog table: `arsip rebuild` has nothing to restore. Each event is a new object written
only if absent, so two people deciding at the same moment cannot overwrite each other: the second
write fails, the journal is re-read and the decision re-checked against the new state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from archiver.clock import isoformat_z
from archiver.store.base import ObjectExists
from archiver.wiring import Archive
from export.errors import ExportError
from export.requests.case import EVENT_KINDS, Case, Event, fold

PREFIX = "requests/"
NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_EVENT_BYTES = 64 * 1024 * 1024  # a scope of a million record ids fits; anything bigger is not an event
ATTEMPTS = 5


def check_number(number: str) -> str:
    if not NUMBER.fullmatch(number):
        raise ExportError(f"request number {number[:80]!r} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' "
                          "or '-', starting with a letter or digit", code="bad_request_number")
    return number


def _key(number: str, seq: int) -> str:
    return f"{PREFIX}{number}/{seq:08d}.json"


def read_events(archive: Archive, number: str) -> list[Event]:
    events = _read(archive, number)
    if not events:
        raise ExportError(f"no request {number}; list requests with `arsip requests list`", code="request_unknown")
    return events


def _read(archive: Archive, number: str) -> list[Event]:
    """The journal's events in order; none when the request does not exist."""
    keys = sorted(item.key for item in archive.store.list(f"{PREFIX}{check_number(number)}/"))
    events = []
    for expected, key in enumerate(keys, start=1):
        event = Event.from_json(json.loads(archive.store.get_bytes(key)))
        if event.seq != expected or key != _key(number, expected):
            raise ExportError(f"request {number}: journal object {key} is out of sequence; run "
                              "`arsip verify --archive`", code="journal_damaged")
        events.append(event)
    return events


def load(archive: Archive, number: str) -> Case:
    return fold(read_events(archive, number))


def numbers(archive: Archive) -> list[str]:
    """Every request number in the archive."""
    found = {item.key[len(PREFIX):].split("/", 1)[0] for item in archive.store.list(PREFIX)}
    return sorted(found)


def cases(archive: Archive) -> Iterator[Case]:
    for number in numbers(archive):
        yield load(archive, number)


def append(archive: Archive, number: str, kind: str, data: Mapping[str, Any], *, actor: str,
           check: Callable[[Case | None], object] = lambda _case: None) -> Case:
    """Append one event after ``check`` accepts the current state (None: no request yet); returns the new state.

    A concurrent writer taking the same sequence number makes this re-read and re-check, so a
    decision is always validated against the state it is applied to.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown request event kind {kind!r}")
    for _attempt in range(ATTEMPTS):
        events = _read(archive, number)
        case = fold(events) if events else None
        check(case)
        event = Event(seq=len(events) + 1, kind=kind, actor=actor, at=isoformat_z(archive.clock.now()), data=data)
        body = json.dumps(event.to_json(), ensure_ascii=False, sort_keys=True).encode()
        if len(body) > MAX_EVENT_BYTES:
            raise ExportError(f"this {kind} event would be {len(body)} bytes; split it into smaller steps",
                              code="event_too_large")
        try:
            archive.store.put_bytes(_key(number, event.seq), body, content_type="application/json", if_absent=True)
        except ObjectExists:
            continue
        return fold([*events, event])
    raise ExportError(f"request {number} changed {ATTEMPTS} times while this decision was being recorded; "
                      "try again", code="request_contention")
