"""Which records a production contains and in which order: rolling, family-grouped, stable.

A production takes every record tagged responsive or withheld in full that no earlier production
of the request contained (rolling productions); records still "needs review" block it, because a
partial production must be a decision, not an accident. Documents are ordered by family (a post,
then its comments and replies in this production, by posting time), so Bates ranges of a family
are contiguous and BEGATTACH/ENDATTACH can name them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from archiver.db.retention_rows import facts_for
from archiver.wiring import Archive
from export.errors import ExportError
from export.requests.case import Case


@dataclass(frozen=True)
class PlannedDocument:
    record_id: str
    family: str  # record id of the family's first document (the post)
    status: str  # produced | redacted | withheld


@dataclass(frozen=True)
class _Facts:
    record_id: str
    key: tuple[str, str]  # (platform, platform_id)
    parent: tuple[str, str] | None
    posted: datetime | None


def plan(archive: Archive, case: Case, *, only: Sequence[str] = ()) -> list[PlannedDocument]:
    """The documents of the next production (``only``: a subset of what is due, for a partial one)."""
    pending = [r for r in case.tagged("needs_review") if r not in case.withheld]
    if pending and not only:
        raise ExportError(f"{len(pending)} scoped records still need review (e.g. {pending[0]}); tag them "
                          "responsive or non_responsive, or produce named records with --record",
                          code="review_pending")
    produced = case.produced_records()
    due = sorted({*case.tagged("responsive"), *case.withheld} - produced)
    if only:
        unknown = sorted(set(only) - set(due))
        if unknown:
            raise ExportError(f"record {unknown[0]} is not responsive-and-unproduced in request {case.number}",
                              code="not_producible")
        due = sorted(set(only))
    if not due:
        raise ExportError(f"request {case.number} has nothing new to produce: tag records responsive first",
                          code="nothing_to_produce")
    facts = _facts(archive, due)
    redacted = {r.record_id for r in case.redactions.values()}
    ordered = _family_order(facts)
    return [PlannedDocument(record_id=f.record_id, family=family,
                            status="withheld" if f.record_id in case.withheld
                            else "redacted" if f.record_id in redacted else "produced")
            for family, f in ordered]


def _facts(archive: Archive, record_ids: Sequence[str]) -> list[_Facts]:
    with archive.catalog.read() as conn:
        found = [_Facts(row.record_id, (row.platform, row.platform_id),
                        (row.platform, row.parent_platform_id) if row.parent_platform_id else None, row.posted_at)
                 for row in facts_for(conn, record_ids)]
    if len(found) != len(set(record_ids)):
        gone = sorted(set(record_ids) - {f.record_id for f in found})
        raise ExportError(f"record {gone[0]} has been disposed of under its retention schedule; take it out of "
                          "the request (its tombstone and certificate say what it was)", code="record_disposed")
    return found


def _family_order(facts: Sequence[_Facts]) -> list[tuple[str, _Facts]]:
    by_key = {f.key: f for f in facts}

    def root(f: _Facts) -> _Facts:
        seen = {f.key}
        while f.parent in by_key and f.parent not in seen:  # a cycle in hostile data ends the walk
            f = by_key[f.parent]
            seen.add(f.key)
        return f

    families: dict[str, list[_Facts]] = defaultdict(list)
    roots: dict[str, _Facts] = {}
    for f in facts:
        top = root(f)
        roots[top.record_id] = top
        families[top.record_id].append(f)

    def when(f: _Facts) -> tuple[str, str]:
        return (f.posted.isoformat() if f.posted else "", f.record_id)

    ordered = []
    for top in sorted(roots.values(), key=when):
        members = sorted(families[top.record_id], key=lambda f: (f is not top, *when(f)))
        ordered += [(top.record_id, f) for f in members]
    return ordered
