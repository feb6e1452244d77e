"""Pure change detection: compare an observation with the last stored version and decide what it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archiver.model import ChangeKind, PriorVersion, VersionState

VISIBLE = (VersionState.PRESENT, VersionState.EDITED)


@dataclass(frozen=True)
class Decision:
    """The detector's verdict; ``state`` and ``number`` are set only when a new version is due."""

    change: ChangeKind
    state: VersionState | None = None
    number: int | None = None

    @property
    def makes_version(self) -> bool:
        return self.change is not ChangeKind.UNCHANGED


def decide(prior: PriorVersion | None, observed: VersionState, fingerprint: str,
           revision_at: datetime | None) -> Decision:
    """Classify one observation.

    A platform revision already stored (same ``revision_at``) is unchanged even if our normalized
    form of it differs, because the same revision reaches us through different endpoints (a status
    and its edit history, a live capture and an export) that render it slightly differently.
    """
    if prior is None:
        return Decision(ChangeKind.NEW, observed, 1)
    following = prior.number + 1
    if observed is VersionState.DELETED:
        if prior.state is VersionState.DELETED:
            return Decision(ChangeKind.UNCHANGED)
        return Decision(ChangeKind.DELETED, VersionState.DELETED, following)
    if observed is VersionState.HIDDEN:
        if prior.state is VersionState.HIDDEN and prior.fingerprint == fingerprint:
            return Decision(ChangeKind.UNCHANGED)
        return Decision(ChangeKind.HIDDEN, VersionState.HIDDEN, following)
    return _decide_visible(prior, fingerprint, revision_at, following)


def _decide_visible(prior: PriorVersion, fingerprint: str, revision_at: datetime | None,
                    following: int) -> Decision:
    if prior.state is VersionState.DELETED:
        return Decision(ChangeKind.REAPPEARED, VersionState.PRESENT, following)
    if prior.state is VersionState.HIDDEN:
        return Decision(ChangeKind.UNHIDDEN, VersionState.PRESENT, following)
    if revision_at is not None and revision_at in prior.revisions:
        return Decision(ChangeKind.UNCHANGED)
    if fingerprint == prior.fingerprint:
        return Decision(ChangeKind.UNCHANGED)
    return Decision(ChangeKind.EDITED, VersionState.EDITED, following)
