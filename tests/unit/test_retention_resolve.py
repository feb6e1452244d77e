"""Every record resolves to exactly one schedule item, and a file plan that could say two things is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.model import RecordKind
from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.loader import builtin_schedules, load_schedules
from retention_policies.model import COMMENT_KINDS, KNOWN_KINDS, AppliesTo, CommentScope
from retention_policies.overlap import scopes_overlap
from retention_policies.resolve import Resolver, resolve
from tests.unit.test_retention_helpers import make_facts, make_item, make_set, write_schedule

SOCIAL_KINDS = sorted(kind.value for kind in RecordKind if kind is not RecordKind.REQUEST_PACKAGE)


def test_the_known_kinds_are_the_archive_record_kinds() -> None:
    assert {kind.value for kind in RecordKind} == KNOWN_KINDS


@pytest.mark.parametrize("kind", SOCIAL_KINDS)
@pytest.mark.parametrize("acted_on", [False, True])
@pytest.mark.parametrize("tags", [frozenset(), frozenset({"press"}), frozenset({"transitory", "press"})])
def test_every_social_media_record_resolves_to_one_nara_item(kind: str, acted_on: bool, tags: frozenset[str]) -> None:
    item = resolve(make_facts(kind, acted_on=acted_on, tags=tags), builtin_schedules(["nara-grs"]))
    if "transitory" in tags:
        expected = "nara-grs/5.2-010"
    elif kind in COMMENT_KINDS and not acted_on:
        expected = "nara-grs/6.4-020"
    else:
        expected = "nara-grs/6.4-010"
    assert item.id == expected


def test_a_request_package_resolves_to_the_request_case_file_item() -> None:
    item = resolve(make_facts("request_package", posted=None), builtin_schedules(["nara-grs"]))
    assert item.id == "nara-grs/4.2-020"


@pytest.mark.parametrize("name", ["state-sample", "jra-example"])
@pytest.mark.parametrize("kind", [*SOCIAL_KINDS, "request_package"])
@pytest.mark.parametrize("acted_on", [False, True])
def test_the_sample_sets_cover_every_kind_too(name: str, kind: str, acted_on: bool) -> None:
    resolver = Resolver(builtin_schedules([name]))
    assert resolver.resolve(make_facts(kind, acted_on=acted_on)).schedule_id == name


def test_an_assigned_item_wins_over_matching() -> None:
    facts = make_facts("comment", assigned_item="nara-grs/6.4-010")
    assert resolve(facts, builtin_schedules(["nara-grs"])).id == "nara-grs/6.4-010"


def test_an_unknown_assigned_item_is_refused_naming_the_record() -> None:
    with pytest.raises(PolicyError, match="record r1 is assigned") as raised:
        resolve(make_facts(assigned_item="nara-grs/9.9-999"), builtin_schedules(["nara-grs"]))
    assert raised.value.code == ErrorCode.UNKNOWN_ITEM


def test_the_schedule_set_refuses_an_unknown_item_id() -> None:
    with pytest.raises(PolicyError) as raised:
        builtin_schedules(["nara-grs"]).item("nara-grs/nope")
    assert raised.value.code == ErrorCode.UNKNOWN_ITEM


def test_a_record_no_item_covers_is_refused_naming_it() -> None:
    schedules = make_set(make_item(applies_to=AppliesTo(platforms=frozenset({"x"}))))
    with pytest.raises(PolicyError) as raised:
        resolve(make_facts("post", record_id="r9", platform="mastodon"), schedules)
    assert raised.value.code == ErrorCode.NO_SCHEDULE
    assert "record r9 (mastodon post" in str(raised.value)


def test_an_account_carrying_the_tags_of_two_items_is_refused_at_assignment(tmp_path: Path) -> None:
    body = "".join(f'[[item]]\ncode = "{tag}"\ntitle = "t"\nauthority = "a"\naction = "destroy"\n'
                   f'retention = "P1Y"\naccount_tags = ["{tag}"]\n' for tag in ("press", "health"))
    schedules = load_schedules([write_schedule(tmp_path, body)])  # different tags: loads
    resolver = Resolver(schedules)
    assert resolver.resolve(make_facts(tags=frozenset({"press"}))).id == "test/press"
    with pytest.raises(PolicyError) as raised:
        resolver.resolve(make_facts(tags=frozenset({"press", "health"})))
    assert raised.value.code == ErrorCode.AMBIGUOUS_SCHEDULE
    assert "test/press" in str(raised.value) and "test/health" in str(raised.value)


def test_the_resolver_cache_keeps_comment_scopes_apart() -> None:
    resolver = Resolver(builtin_schedules(["nara-grs"]))
    for _ in range(2):  # the second round is answered from the cache
        assert resolver.resolve(make_facts("comment", acted_on=True)).code == "6.4-010"
        assert resolver.resolve(make_facts("comment", acted_on=False)).code == "6.4-020"


def test_an_item_for_listed_records_applies_to_those_records_only() -> None:
    listed = make_item("L", applies_to=AppliesTo(record_ids=frozenset({"r7"})))
    rest = make_item("R", applies_to=AppliesTo(platforms=frozenset({"x"})))
    resolver = Resolver(make_set(listed, rest))
    assert resolver.resolve(make_facts(record_id="r7", platform="mastodon")).id == "test/L"
    assert resolver.resolve(make_facts(record_id="r8", platform="x")).id == "test/R"
    with pytest.raises(PolicyError) as raised:  # r7 on x matches both, which the loader would have refused
        resolver.resolve(make_facts(record_id="r7", platform="x"))
    assert raised.value.code == ErrorCode.AMBIGUOUS_SCHEDULE


# -- ambiguity at load ---------------------------------------------------------------------------------


def _two_items(first: str, second: str) -> str:
    head = '[[item]]\ncode = "{code}"\ntitle = "t"\nauthority = "a"\naction = "destroy"\nretention = "P1Y"\n'
    return head.format(code="A") + first + "\n" + head.format(code="B") + second + "\n"


@pytest.mark.parametrize(("first", "second"), [
    ("", ""),
    ('kinds = ["comment"]', 'kinds = ["comment", "reply"]\ncomments = "acted_on"'),
    ('kinds = ["post", "comment"]\ncomments = "acted_on"', 'kinds = ["post", "comment"]\ncomments = "no_action"'),
    ('account_tags = ["press"]', 'platforms = ["x"]'),
    ('account_tags = ["press", "health"]', 'account_tags = ["health"]'),
    ('record_ids = ["r1"]', 'kinds = ["post"]'),
    ('excluded_account_tags = ["press"]', 'account_tags = ["press", "health"]'),
])
def test_overlapping_items_are_refused_naming_both(tmp_path: Path, first: str, second: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_schedules([write_schedule(tmp_path, _two_items(first, second))])
    assert raised.value.code == ErrorCode.AMBIGUOUS_SCHEDULE
    assert "test/A" in str(raised.value) and "test/B" in str(raised.value)


@pytest.mark.parametrize(("first", "second"), [
    ('kinds = ["comment", "reply"]\ncomments = "acted_on"', 'kinds = ["comment", "reply"]\ncomments = "no_action"'),
    ('kinds = ["post"]', 'kinds = ["comment"]'),
    ('platforms = ["x"]', 'platforms = ["mastodon"]'),
    ('account_tags = ["press"]', 'account_tags = ["health"]'),
    ('excluded_account_tags = ["transitory"]', 'account_tags = ["transitory"]'),
    ('record_ids = ["r1"]', 'record_ids = ["r2"]'),
])
def test_disjoint_items_load(tmp_path: Path, first: str, second: str) -> None:
    assert len(load_schedules([write_schedule(tmp_path, _two_items(first, second))]).items) == 2


def test_two_sets_for_the_same_records_cannot_be_loaded_together() -> None:
    with pytest.raises(PolicyError, match="nara-grs/6.4-010 and state-sample/SM-01") as raised:
        builtin_schedules(["nara-grs", "state-sample"])
    assert raised.value.code == ErrorCode.AMBIGUOUS_SCHEDULE


TAGS = st.frozensets(st.sampled_from(["a", "b", "c"]), max_size=2)
SCOPES = st.builds(
    AppliesTo, platforms=st.frozensets(st.sampled_from(["x", "mastodon"]), max_size=1), account_tags=TAGS,
    kinds=st.frozensets(st.sampled_from(["post", "comment", "reply"]), max_size=2),
    comments=st.sampled_from(list(CommentScope)), record_ids=st.frozensets(st.sampled_from(["r1", "r2"]), max_size=1),
    excluded_account_tags=TAGS,
)


@given(first=SCOPES, second=SCOPES, kind=st.sampled_from(["post", "comment", "reply"]), acted_on=st.booleans(),
       platform=st.sampled_from(["x", "mastodon"]), tags=st.frozensets(st.sampled_from(["a", "b", "c"])),
       record_id=st.sampled_from(["r1", "r2"]))
def test_scopes_judged_disjoint_never_both_match_a_record(first: AppliesTo, second: AppliesTo, kind: str,
                                                          acted_on: bool, platform: str, tags: frozenset[str],
                                                          record_id: str) -> None:
    facts = make_facts(kind, acted_on=acted_on, platform=platform, tags=tags, record_id=record_id)
    if first.matches(facts) and second.matches(facts) and not scopes_overlap(first, second):
        # The one documented gap: an account carrying a tag of each of two different tag lists.
        assert first.account_tags and second.account_tags and first.account_tags.isdisjoint(second.account_tags)
