"""Index active holds by record and by account so checking a record against hundreds of holds is a few lookups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.model import Hold, HoldScope, RecordFacts

_Dated = tuple[str, date | None, date | None]  # hold id, posted_from, posted_to


def utc_day(moment: datetime) -> date:
    """The UTC calendar date of an aware datetime; a naive one is refused rather than guessed at."""
    if moment.tzinfo is UTC:
        return moment.date()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PolicyError(f"datetime {moment.isoformat()} has no time zone; pass timezone-aware UTC datetimes",
                          code=ErrorCode.NAIVE_DATETIME)
    return moment.astimezone(UTC).date()


def posted_day(facts: RecordFacts) -> date:
    """The date holds are scoped by: posted, or captured when the platform gave no posting date."""
    return utc_day(facts.posted_at if facts.posted_at is not None else facts.captured_at)


class HoldIndex:
    """The active holds, indexed. Coverage follows the rule documented on :class:`HoldScope`."""

    def __init__(self, holds: Sequence[Hold]) -> None:
        by_record: dict[str, set[str]] = {}
        by_account: dict[str, list[_Dated]] = {}
        dated: list[_Dated] = []  # holds scoped by date alone
        for hold in holds:
            scope = _checked(hold)
            for record_id in scope.record_ids:
                by_record.setdefault(record_id, set()).add(hold.id)
            for account in scope.accounts:
                by_account.setdefault(account, []).append((hold.id, scope.posted_from, scope.posted_to))
            if not scope.accounts and not scope.record_ids:
                dated.append((hold.id, scope.posted_from, scope.posted_to))
        # Tuples, sorted once here, so the common case returns them without building anything.
        self._by_record = {record_id: tuple(sorted(ids)) for record_id, ids in by_record.items()}
        self._by_account = {account: tuple(found) for account, found in by_account.items()}
        self._dated = tuple(dated)
        self.empty = not holds

    def covering(self, facts: RecordFacts, day: date | None = None) -> tuple[str, ...]:
        """Ids of every hold covering the record, sorted; ``day`` is :func:`posted_day` if already known."""
        if self.empty:
            return ()
        by_record = self._by_record.get(facts.record_id, ())
        by_account = self._by_account.get(facts.account_id)
        if by_account is None and not self._dated:
            return by_record
        when = posted_day(facts) if day is None else day
        found: list[str] = []
        for dated in (by_account or (), self._dated):
            for hold_id, start, end in dated:
                if (start is None or start <= when) and (end is None or when <= end):
                    found.append(hold_id)
        if not found:
            return by_record
        return tuple(sorted(set(by_record).union(found)))


def _checked(hold: Hold) -> HoldScope:
    """A hold's scope, refused when it could cover nothing (a hold that protects nothing in silence
    is worse than a stopped evaluation)."""
    scope = hold.scope
    start, end = scope.posted_from, scope.posted_to
    if start is not None and end is not None and start > end:
        raise PolicyError(f"hold {hold.id} ({hold.matter}) runs from {start} to {end}, so it covers no date; "
                          "correct the date range", code=ErrorCode.BAD_HOLD)
    if not (scope.record_ids or scope.accounts or start or end):
        raise PolicyError(f"hold {hold.id} ({hold.matter}) names no record, account or date, so it covers "
                          "nothing; give it a scope or release it", code=ErrorCode.BAD_HOLD)
    return scope
