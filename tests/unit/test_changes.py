"""Change detection is pure: the same observation against the same prior always decides the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from archiver.capture.changes import decide
from archiver.model import ChangeKind, PriorVersion, VersionState

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def prior(state: VersionState = VersionState.PRESENT, fingerprint: str = "a", revisions: tuple[datetime, ...] = (T0,),
          number: int = 1) -> PriorVersion:
    return PriorVersion(number=number, state=state, fingerprint=fingerprint, revisions=frozenset(revisions))


def test_first_sighting_is_new_version_one() -> None:
    decision = decide(None, VersionState.PRESENT, "a", T0)
    assert (decision.change, decision.state, decision.number) == (ChangeKind.NEW, VersionState.PRESENT, 1)


def test_same_content_is_unchanged_and_makes_no_version() -> None:
    assert not decide(prior(), VersionState.PRESENT, "a", None).makes_version


def test_different_content_is_an_edit_with_the_next_number() -> None:
    decision = decide(prior(number=3), VersionState.PRESENT, "b", T0 + timedelta(minutes=5))
    assert (decision.change, decision.state, decision.number) == (ChangeKind.EDITED, VersionState.EDITED, 4)


def test_known_revision_is_unchanged_even_if_normalized_differently() -> None:
    assert decide(prior(fingerprint="a"), VersionState.PRESENT, "other", T0).change is ChangeKind.UNCHANGED


def test_disappearance_becomes_a_deleted_version_once() -> None:
    deleted = decide(prior(), VersionState.DELETED, "", None)
    assert (deleted.change, deleted.state, deleted.number) == (ChangeKind.DELETED, VersionState.DELETED, 2)
    assert decide(prior(VersionState.DELETED, number=2), VersionState.DELETED, "", None).change is ChangeKind.UNCHANGED


def test_hide_and_unhide_are_versions() -> None:
    hidden = decide(prior(), VersionState.HIDDEN, "a", None)
    assert (hidden.change, hidden.state) == (ChangeKind.HIDDEN, VersionState.HIDDEN)
    unhidden = decide(prior(VersionState.HIDDEN, number=2), VersionState.PRESENT, "a", T0)
    assert (unhidden.change, unhidden.state, unhidden.number) == (ChangeKind.UNHIDDEN, VersionState.PRESENT, 3)


def test_record_seen_again_after_tombstone_reappears() -> None:
    decision = decide(prior(VersionState.DELETED, number=2), VersionState.PRESENT, "a", T0)
    assert (decision.change, decision.number) == (ChangeKind.REAPPEARED, 3)


states = st.sampled_from(list(VersionState))
prints = st.sampled_from(["a", "b", "c"])


@given(st.lists(st.tuples(states, prints), min_size=1, max_size=12))
def test_replaying_observations_adds_nothing(observations: list[tuple[VersionState, str]]) -> None:
    """Idempotence: after a sequence is applied, observing its last state again is unchanged."""
    current: PriorVersion | None = None
    for state, fp in observations:
        decision = decide(current, state, fp, None)
        if decision.makes_version:
            assert decision.number == (current.number + 1 if current else 1)
            assert decision.state is not None
            current = prior(decision.state, fp, (), decision.number)
    assert current is not None
    last_state, last_fp = observations[-1]
    assert not decide(current, last_state, last_fp, None).makes_version
