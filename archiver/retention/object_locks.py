"""Object Lock on WARC objects: retained until their records' disposition date, legal hold while held.

The catalog decides (DESIGN.md invariant 6: holds and schedules are re-checked inside the
disposition transaction); Object Lock is a second lock that the store itself enforces, so even a
compromised server cannot delete evidence before its time.

- Retention, when ``object_lock_mode`` is GOVERNANCE or COMPLIANCE: an object's retain-until is
  raised to 00:00 UTC of the latest day on which the schedules in force make a record with a version
  in it eligible for its disposition action, holds left out (what the schedule alone gives). It is
  only ever extended, never shortened: a schedule change that brings dates forward leaves it as it
  is, because S3 refuses to shorten COMPLIANCE retention and Arsip never uses the GOVERNANCE bypass.
  A record whose date is not known yet (an event cutoff whose event is not recorded, a permanent
  record, a record no single schedule item covers) adds no date; its object is reported as undated
  and a later sync extends it once the date is known. An active retention keeps its mode (S3 refuses
  a change); a changed setting applies when an object's retention has run out.
- Legal hold: on while any record under an active hold has a version in the object, off when none
  has. A legal hold has no end date, so it is how a hold extends an object's retention: the object
  cannot be deleted until the hold is released, whatever its retain-until says.

A capture run locks the objects it wrote as it finishes; hold changes, disposition and
`arsip holds sync` go over every object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import islice

from archiver.db.catalog import Connection
from archiver.db.queries import warc_object_keys
from archiver.db.retention_rows import (
    RecordFactRow,
    StoredVersionRef,
    facts_for,
    record_facts,
    version_refs,
    versions_in_objects,
)
from archiver.retention.facts import FactsReader
from archiver.retention.holds import active_holds
from archiver.retention.schedules import schedules_in_force
from archiver.store.base import BlobStore, LockMode, ObjectInfo
from archiver.wiring import Archive
from retention_policies.evaluate import evaluate
from retention_policies.holds import HoldIndex
from retention_policies.model import RecordFacts, ScheduleSet

CHUNK = 5_000  # records (or versions) read at a time: memory is one chunk plus a little per object
ACTOR = "arsip"  # who loads the schedules when a sync records a new version of them


@dataclass(frozen=True)
class LockChanges:
    """What a sync did: legal holds set and cleared, retentions extended, and the objects holding
    records without a disposition date yet (their retain-until was left as it was)."""

    locked: tuple[str, ...]
    unlocked: tuple[str, ...]
    extended: tuple[str, ...] = ()
    undated: tuple[str, ...] = ()


@dataclass
class _Wanted:
    """What one object's records ask of its lock."""

    held: bool = False
    until: date | None = None  # the latest known eligibility day
    undated: bool = False


@dataclass(frozen=True)
class _Rules:
    """What one sync judges every record by, loaded once."""

    holds: HoldIndex
    schedules: ScheduleSet | None  # None when retention is off
    now: datetime


def sync_object_locks(archive: Archive, keys: Iterable[str] | None = None) -> LockChanges:
    """Bring the lock of every WARC object (or of ``keys`` only) in line with its records, as the
    module docstring says. With ``keys``, only the records with a version in them are evaluated."""
    store = archive.store
    wanted_keys = None if keys is None else sorted(set(keys))
    if not store.supports_object_lock or wanted_keys == []:
        return LockChanges((), ())
    mode = retention_mode(archive)
    schedules = schedules_in_force(archive, actor=ACTOR) if mode is not None else None
    with archive.catalog.read() as conn:
        rules = _Rules(HoldIndex(active_holds(archive, conn)), schedules, archive.clock.now())
        scope = sorted(warc_object_keys(conn)) if wanted_keys is None else wanted_keys
        needed = not rules.holds.empty or schedules is not None
        wanted = _wanted(conn, rules, set(scope), whole=wanted_keys is None) if needed else {}
    return _apply(store, scope, wanted, mode, rules.now)


def retention_mode(archive: Archive) -> LockMode | None:
    """The configured Object Lock mode, or None when retention is off (``object_lock_mode=none``)."""
    mode = archive.settings.object_lock_mode
    return None if mode.lower() == "none" else LockMode(mode.upper())


def _wanted(conn: Connection, rules: _Rules, scope: set[str], *, whole: bool) -> dict[str, _Wanted]:
    """Per object in ``scope``: whether a held record is in it and its records' latest eligibility day."""
    reader = FactsReader(conn)
    wanted: dict[str, _Wanted] = {}
    for rows, refs in _chunks(conn, scope, whole=whole):
        facts = [reader.facts(row) for row in rows]
        held = {f.record_id for f in facts if rules.holds.covering(f)}
        days = _eligible_days(facts, rules) if rules.schedules is not None else {}
        known = {f.record_id for f in facts}  # versions of records already disposed of count for nothing
        for ref in refs:
            if ref.record_id not in known:
                continue
            for key in {ref.warc_key, *(str(e["key"]) for e in ref.evidence)} & scope:
                want = wanted.setdefault(key, _Wanted())
                want.held = want.held or ref.record_id in held
                if rules.schedules is None:
                    continue
                day = days.get(ref.record_id)
                if day is None:
                    want.undated = True
                elif want.until is None or day > want.until:
                    want.until = day
    return wanted


def _chunks(conn: Connection, scope: set[str], *, whole: bool,
            ) -> Iterator[tuple[list[RecordFactRow], list[StoredVersionRef]]]:
    """(records, their versions) a chunk at a time: every record with all its versions, or, for
    given objects, the versions whose document is in them with those versions' records."""
    if whole:
        rows = record_facts(conn)
        while chunk := list(islice(rows, CHUNK)):
            yield chunk, list(version_refs(conn, [row.record_id for row in chunk]))
    else:
        refs = versions_in_objects(conn, scope)
        while found := list(islice(refs, CHUNK)):
            yield list(facts_for(conn, {ref.record_id for ref in found})), found


def _eligible_days(facts: Sequence[RecordFacts], rules: _Rules) -> dict[str, date | None]:
    """Record id -> the day its schedule item's action falls due, holds left out. A record that no
    single item covers is left out, so it counts as undated (`arsip retention due` names it)."""
    assert rules.schedules is not None
    decisions = evaluate(facts, rules.schedules, (), rules.now, on_problem=lambda _facts, _problem: None)
    return {d.record_id: d.eligible_on for d in decisions}


def _apply(store: BlobStore, scope: Sequence[str], wanted: dict[str, _Wanted], mode: LockMode | None,
           now: datetime) -> LockChanges:
    """Change only what differs, one object at a time (a HEAD each, then at most two lock calls)."""
    locked: list[str] = []
    unlocked: list[str] = []
    extended: list[str] = []
    undated: list[str] = []
    nothing = _Wanted()
    for key in scope:
        want = wanted.get(key, nothing)
        info = store.head(key)
        if info is None:
            continue
        if info.legal_hold != want.held:
            store.set_legal_hold(key, want.held)
            (locked if want.held else unlocked).append(key)
        if mode is None:
            continue
        if want.undated:
            undated.append(key)
        if want.until is not None and _extend(store, info, mode, want.until, now):
            extended.append(key)
    return LockChanges(tuple(locked), tuple(unlocked), tuple(extended), tuple(undated))


def _extend(store: BlobStore, info: ObjectInfo, mode: LockMode, day: date, now: datetime) -> bool:
    """Raise the object's retain-until to the start of ``day``; never lower it, never into the past."""
    until = datetime.combine(day, time(0), tzinfo=UTC)
    if until <= now or (info.retain_until is not None and info.retain_until >= until):
        return False
    running = info.retain_until is not None and info.retain_until > now
    store.set_retention(info.key, info.lock_mode if running and info.lock_mode else mode, until)
    return True
