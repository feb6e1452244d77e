"""Find schedule items that could both claim one record, so a file plan never leaves the choice to chance."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from retention_policies.model import COMMENT_KINDS, AppliesTo, CommentScope, ScheduleItem


def overlapping_pairs(items: Sequence[ScheduleItem]) -> Iterator[tuple[ScheduleItem, ScheduleItem]]:
    """Every pair of items whose scopes overlap in every dimension, in file order.

    Pairwise is quadratic, but a file plan has hundreds of items at most and is loaded once.
    """
    for index, first in enumerate(items):
        for second in items[index + 1:]:
            if scopes_overlap(first.applies_to, second.applies_to):
                yield first, second


def scopes_overlap(a: AppliesTo, b: AppliesTo) -> bool:
    """Whether some record could match both scopes.

    Account tags are the one dimension judged loosely: two different non-empty tag lists overlap only
    when they share a tag, although an account carrying a tag of each would match both. Demanding
    that every tag list be disjoint from every other would forbid ordinary file plans, so such an
    account is refused when its records are assigned (``ambiguous_schedule`` from the resolver).
    """
    return (_sets_overlap(a.platforms, b.platforms) and _sets_overlap(a.record_ids, b.record_ids)
            and _tags_overlap(a, b) and _kinds_overlap(a, b))


def _sets_overlap(first: frozenset[str], second: frozenset[str]) -> bool:
    return not first or not second or not first.isdisjoint(second)


def _tags_overlap(a: AppliesTo, b: AppliesTo) -> bool:
    if not a.account_tags and not b.account_tags:
        return True  # an account with no tags at all is excluded by neither
    if a.account_tags and b.account_tags:
        candidates = a.account_tags & b.account_tags
    else:
        candidates = a.account_tags or b.account_tags
    return bool(candidates - a.excluded_account_tags - b.excluded_account_tags)


def _kinds_overlap(a: AppliesTo, b: AppliesTo) -> bool:
    if a.kinds and b.kinds:
        shared = a.kinds & b.kinds
        if not shared:
            return False
    else:
        shared = a.kinds or b.kinds  # still empty when both mean "any kind"
    if not shared or not shared <= COMMENT_KINDS:
        return True  # a shared kind that is not a comment ignores the comment scope
    return CommentScope.ANY in (a.comments, b.comments) or a.comments is b.comments
