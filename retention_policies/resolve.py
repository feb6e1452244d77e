"""Assign each record exactly one schedule item ("class determines destiny", MoReq2010)."""

from __future__ import annotations

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.model import COMMENT_KINDS, RecordFacts, ScheduleItem, ScheduleSet

# Matching depends only on (platform, kind, acted-on for comments, account tags), which take few
# distinct values across an archive; the bound only guards against a pathological tag explosion.
_CACHE_LIMIT = 65_536

_MatchKey = tuple[str, str, bool, frozenset[str]]


class Resolver:
    """Resolves records against one ScheduleSet; build once, call per record (a dict hit when warm)."""

    def __init__(self, schedules: ScheduleSet) -> None:
        self.schedules = schedules
        self._general = tuple(item for item in schedules.items if not item.applies_to.record_ids)
        by_record: dict[str, list[ScheduleItem]] = {}
        for item in schedules.items:
            for record_id in item.applies_to.record_ids:
                by_record.setdefault(record_id, []).append(item)
        self._by_record = {record_id: tuple(found) for record_id, found in by_record.items()}
        self._cache: dict[_MatchKey, tuple[ScheduleItem, ...]] = {}

    def resolve(self, facts: RecordFacts) -> ScheduleItem:
        """The item governing ``facts``: the records officer's assignment if any, else the one match."""
        if facts.assigned_item is not None:
            return self._assigned(facts)
        kind = facts.kind
        key = (facts.platform, kind, facts.acted_on and kind in COMMENT_KINDS, facts.account_tags)
        matches = self._cache.get(key)
        if matches is None:
            matches = tuple(item for item in self._general if item.applies_to.matches(facts))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = matches
        specific = self._by_record.get(facts.record_id)
        if specific:
            matches += tuple(item for item in specific if item.applies_to.matches(facts))
        if len(matches) == 1:
            return matches[0]
        raise self._unresolved(facts, matches)

    def _assigned(self, facts: RecordFacts) -> ScheduleItem:
        try:
            return self.schedules.item(facts.assigned_item or "")
        except PolicyError:
            raise PolicyError(f"record {facts.record_id} is assigned to schedule item {facts.assigned_item!r}, "
                              "which is not in the loaded schedules; load the schedule that defines it or "
                              "reassign the record", code=ErrorCode.UNKNOWN_ITEM) from None

    @staticmethod
    def _unresolved(facts: RecordFacts, matches: tuple[ScheduleItem, ...]) -> PolicyError:
        tags = ", ".join(sorted(facts.account_tags)) or "none"
        what = (f"record {facts.record_id} ({facts.platform} {facts.kind}, account {facts.account_id}, "
                f"account tags: {tags})")
        if not matches:
            return PolicyError(f"{what} matches no schedule item; add an item that covers it or assign it an "
                               "item explicitly", code=ErrorCode.NO_SCHEDULE)
        return PolicyError(f"{what} matches items {', '.join(item.id for item in matches)}; give the account "
                           "tags of only one item, narrow the items, or assign the record an item explicitly",
                           code=ErrorCode.AMBIGUOUS_SCHEDULE)


def resolve(facts: RecordFacts, schedules: ScheduleSet) -> ScheduleItem:
    """One-off resolution; for many records build a :class:`Resolver` once and reuse it."""
    return Resolver(schedules).resolve(facts)
