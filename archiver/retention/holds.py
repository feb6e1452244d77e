"""Legal holds: create, release, list; what they cover; and Object Lock legal holds on S3.

A hold's scope is kept as given (accounts, records, a posted-date range, a search query) and
re-evaluated every time holds are checked, so records captured after the hold was placed are
covered without anyone re-running anything. Query scopes are answered by the search package
(through ``arsip.record_queries``), after it has caught its index up with the catalog.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from archiver.audit import audit
from archiver.clock import isoformat_z, parse_timestamp
from archiver.db.catalog import Connection
from archiver.db.retention_rows import HoldRow, facts_for, find_hold, list_holds, save_hold
from archiver.errors import ArchiverError, CatalogError, InputError
from archiver.plugins import record_query
from archiver.store.base import BlobStore
from archiver.wiring import Archive
from retention_policies.model import Hold, HoldScope

HOLDS_PREFIX = "holds/"
MAX_TEXT = 4000


class HoldError(ArchiverError):
    code = "hold_error"


@dataclass(frozen=True)
class ScopeSpec:
    """What a hold covers, as the issuer described it (account and record references resolved to ids)."""

    accounts: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    posted_from: date | None = None
    posted_to: date | None = None
    query: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"accounts": list(self.accounts), "records": list(self.records),
                "posted_from": self.posted_from.isoformat() if self.posted_from else None,
                "posted_to": self.posted_to.isoformat() if self.posted_to else None, "query": self.query}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScopeSpec:
        return cls(accounts=tuple(data.get("accounts") or ()), records=tuple(data.get("records") or ()),
                   posted_from=date.fromisoformat(data["posted_from"]) if data.get("posted_from") else None,
                   posted_to=date.fromisoformat(data["posted_to"]) if data.get("posted_to") else None,
                   query=data.get("query"))


def create_hold(archive: Archive, *, matter: str, reason: str, issuer: str, scope: ScopeSpec,
                actor: str) -> HoldRow:
    """Place a hold. Hold creation takes the log head's lock, which disposition holds while it
    re-checks holds, so a hold is either seen by a running disposition or placed after it."""
    _require_text(matter=matter, reason=reason, issuer=issuer)
    _check_scope(archive, scope)
    with archive.catalog.begin() as conn:
        archive.catalog.lock_log_head(conn)
        row = HoldRow(id=f"h-{secrets.token_hex(6)}", matter=matter.strip(), reason=reason.strip(),
                      issuer=issuer.strip(), scope=scope.to_json(), created_by=actor, created_at=archive.clock.now())
        save_hold(conn, row)
        _publish(archive.store, row)
    audit(archive, actor=actor, action="hold.create", target=f"hold:{row.id}",
          details={"matter": row.matter, "issuer": row.issuer, "reason": row.reason, "scope": row.scope})
    return row


def release_hold(archive: Archive, hold_id: str, *, reason: str, actor: str) -> HoldRow:
    """Release one hold; its records become eligible again only when no other hold covers them."""
    _require_text(reason=reason)
    require_officer(archive, actor, "release holds")
    with archive.catalog.begin() as conn:
        current = find_hold(conn, hold_id)
        if current is None:
            raise HoldError(f"no hold {hold_id!r}; see `arsip holds list`", code="hold_unknown")
        if not current.active:
            raise HoldError(f"hold {hold_id} was already released on {isoformat_z(current.released_at)}",
                            code="hold_released")
        row = replace(current, released_at=archive.clock.now(), released_by=actor, release_reason=reason.strip(),
                      revision=current.revision + 1)
        save_hold(conn, row)
        _publish(archive.store, row)
    audit(archive, actor=actor, action="hold.release", target=f"hold:{row.id}",
          details={"matter": row.matter, "reason": row.release_reason})
    return row


def get_hold(archive: Archive, hold_id: str) -> HoldRow:
    with archive.catalog.read() as conn:
        row = find_hold(conn, hold_id)
    if row is None:
        raise HoldError(f"no hold {hold_id!r}; see `arsip holds list`", code="hold_unknown")
    return row


def active_holds(archive: Archive, conn: Connection) -> list[Hold]:
    """The active holds as the pure core sees them, query scopes turned into record ids now (a hold
    whose query matches nothing at the moment covers nothing and is left out)."""
    held = [_to_core(archive, row) for row in list_holds(conn, active_only=True)]
    return [h for h in held if h.scope.record_ids or h.scope.accounts or h.scope.posted_from or h.scope.posted_to]


def _to_core(archive: Archive, row: HoldRow) -> Hold:
    spec = ScopeSpec.from_json(row.scope)
    records = set(spec.records)
    if spec.query:
        records |= record_query(archive, spec.query)
    return Hold(id=row.id, matter=row.matter,
                scope=HoldScope(accounts=frozenset(spec.accounts), record_ids=frozenset(records),
                                posted_from=spec.posted_from, posted_to=spec.posted_to))


def require_officer(archive: Archive, actor: str, what: str) -> None:
    """Only the configured records officers may release holds or approve and execute dispositions."""
    if actor not in archive.settings.records_officers:
        raise HoldError(f"{actor} may not {what}: only records officers can (ARSIP_RECORDS_OFFICERS)",
                        code="not_authorised")


def _require_text(**values: str) -> None:
    for name, value in values.items():
        if not value or not value.strip() or len(value) > MAX_TEXT:
            raise InputError(f"a hold needs a {name} of 1-{MAX_TEXT} characters", code="bad_hold")


def _check_scope(archive: Archive, scope: ScopeSpec) -> None:
    if not (scope.accounts or scope.records or scope.query or scope.posted_from or scope.posted_to):
        raise InputError("a hold needs a scope: --account, --record, --query or a posted date range",
                         code="bad_hold")
    if scope.posted_from and scope.posted_to and scope.posted_from > scope.posted_to:
        raise InputError("the hold's --from date is after its --to date", code="bad_hold")
    if scope.query:
        record_query(archive, scope.query)  # a query that does not parse fails here, not at disposition
    with archive.catalog.read() as conn:
        missing = unknown_records(conn, scope.records)
    if missing:
        raise CatalogError(f"no record {missing[0]!r} in the catalog (of {len(missing)} unknown); give record "
                           "ids as `arsip records list` shows them", code="record_unknown")


def unknown_records(conn: Connection, record_ids: Sequence[str]) -> list[str]:
    known = {row.record_id for row in facts_for(conn, record_ids)}
    return [r for r in record_ids if r not in known]


def _publish(store: BlobStore, row: HoldRow) -> None:
    data = asdict(row)
    for field in ("created_at", "released_at"):
        data[field] = isoformat_z(data[field]) if data[field] else None
    store.put_bytes(f"{HOLDS_PREFIX}{row.id}/{row.revision:06d}.json", json.dumps(data, indent=1).encode(),
                    content_type="application/json", if_absent=True)


def latest_holds(store: BlobStore) -> Iterable[HoldRow]:
    """The latest revision of every hold in the store (for `arsip rebuild`)."""
    latest: dict[str, str] = {}
    for item in store.list(HOLDS_PREFIX):
        hold_id = item.key.split("/")[1]
        latest[hold_id] = max(latest.get(hold_id, ""), item.key)
    for key in sorted(latest.values()):
        data = json.loads(store.get_bytes(key))
        for field in ("created_at", "released_at"):
            data[field] = parse_timestamp(data[field]) if data[field] else None
        yield HoldRow(**data)
