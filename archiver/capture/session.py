"""The capture session: what collectors and importers talk to while a capture run is under way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archiver.capture.changes import decide
from archiver.capture.commit import BatchInput, PendingVersion
from archiver.capture.committer import Committer
from archiver.capture.document import build_document, fingerprint, record_id_for
from archiver.capture.evidence import RawEvidence
from archiver.capture.partition import record_partition
from archiver.capture.spool import Spool
from archiver.errors import ArchiverError
from archiver.model import AccountInfo, ChangeKind, Observation, PriorVersion, Problem, RunInfo
from archiver.wiring import Archive


@dataclass
class _Window:
    """Evidence and versions since the last commit."""

    evidence: dict[str, RawEvidence] = field(default_factory=dict)
    evidence_bytes: int = 0
    versions: list[PendingVersion] = field(default_factory=list)
    seen: dict[str, datetime] = field(default_factory=dict)
    seen_partitions: dict[str, set[str]] = field(default_factory=dict)
    latest: dict[str, PriorVersion] = field(default_factory=dict)


class CaptureSession:
    """Receives raw evidence and observations, detects changes and commits them in batches.

    Contract with collectors: call :meth:`record` for every exchange as soon as it is received and
    before parsing it; call :meth:`observe` for every record state parsed from it; call
    :meth:`commit_point` only when every recorded exchange has been fully observed (between pages),
    because evidence not referenced by then is filed as operational evidence of the run.
    """

    def __init__(self, archive: Archive, account: AccountInfo, run: RunInfo, *, collector: str,
                 state: Mapping[str, Any] | None = None) -> None:
        self.archive = archive
        self.account = account
        self.run = run
        self.collector = collector
        self.spool = Spool(archive.settings.spool_dir / run.id, warc_version=archive.settings.warc_version,
                           clock=archive.clock)
        self.state: dict[str, Any] = dict(state or {})  # the collector's resume cursors, saved with the run
        self.counts: Counter[str] = Counter()
        self.problems: list[Problem] = []
        self._window = _Window()
        self._in_flight: dict[str, PriorVersion] = {}  # latest versions of the batch being committed
        self._looked_up: dict[str, PriorVersion | None] = {}  # catalog answers, cleared at each hand-off
        self._committer = Committer(archive)
        self._sequence = 0

    def record(self, evidence: RawEvidence) -> str:
        """Write raw evidence to the spool now; returns the id observations cite it by."""
        evidence_id = self.spool.add(evidence)
        self._window.evidence[evidence_id] = evidence
        self._window.evidence_bytes += evidence.size
        self.counts["evidence"] += 1
        return evidence_id

    def observe(self, observation: Observation) -> ChangeKind:
        """Compare an observed record state with what the archive holds and queue a version if new."""
        unknown = [e for e in observation.exchanges if e not in self._window.evidence]
        if unknown:
            raise ArchiverError(f"observation of {observation.platform_id} cites evidence not recorded in "
                                "this batch; record exchanges before observing them", code="collector_bug")
        record_id = record_id_for(observation.platform, observation.platform_id)
        prior = self._prior(record_id)
        content_print = fingerprint(observation)
        decision = decide(prior, observation.state, content_print, observation.revision_at)
        self.counts[str(decision.change)] += 1
        captured_at = self._captured_at(observation)
        if not decision.makes_version:
            self._note_seen(record_id, observation, captured_at)
            return decision.change
        assert decision.state is not None and decision.number is not None
        uris = [self._window.evidence[e].uri for e in observation.exchanges]
        document, fields = build_document(observation, account_id=self.account.id, number=decision.number,
                                          state=decision.state, change=decision.change, captured_at=captured_at,
                                          run=self.run, collector=self.collector, evidence_uris=uris,
                                          content_fingerprint=content_print)
        self._window.versions.append(PendingVersion(
            observation=observation, record_id=record_id, number=decision.number, state=decision.state,
            document=document, fields=fields, captured_at=captured_at))
        revisions = set(prior.revisions) if prior else set()
        if observation.revision_at is not None:
            revisions.add(observation.revision_at)
        self._window.latest[record_id] = PriorVersion(number=decision.number, state=decision.state,
                                                      fingerprint=content_print, revisions=frozenset(revisions))
        return decision.change

    def would_change(self, observation: Observation) -> bool:
        """Whether observing this would make a new version (so a collector fetches media only then)."""
        prior = self._prior(record_id_for(observation.platform, observation.platform_id))
        return decide(prior, observation.state, fingerprint(observation), observation.revision_at).makes_version

    def prior(self, platform: str, platform_id: str) -> PriorVersion | None:
        return self._prior(record_id_for(platform, platform_id))

    def prefetch(self, observations: Sequence[Observation]) -> None:
        """Look up the stored versions of a page's records in one query instead of one per record."""
        wanted = [record_id_for(o.platform, o.platform_id) for o in observations]
        missing = [rid for rid in wanted if rid not in self._window.latest and rid not in self._in_flight
                   and rid not in self._looked_up]
        if not missing:
            return
        with self.archive.catalog.read() as conn:
            found = self.archive.catalog.prior_versions(conn, missing)
        for rid in missing:
            self._looked_up[rid] = found.get(rid)

    def problem(self, problem: Problem) -> None:
        self.problems.append(problem)
        self.counts["problems"] += 1

    def commit_point(self) -> None:
        """Commit the window if it is full. Collectors call this between pages."""
        settings = self.archive.settings
        window = self._window
        if (len(window.versions) >= settings.batch_max_versions
                or window.evidence_bytes >= settings.batch_max_bytes
                or len(window.evidence) >= 4 * settings.batch_max_versions):
            self._hand_off()

    def flush(self) -> None:
        """Commit everything observed so far and wait until it is committed."""
        self._hand_off()
        self._committer.wait()

    def close(self) -> None:
        """Wait for the batch in flight (re-raising its failure) and stop the committer."""
        self._committer.close()

    def _hand_off(self) -> None:
        window = self._window
        if not window.evidence and not window.versions and not window.seen:
            return
        if self._committer.failed:
            # The failure was raised once already. What is left stays in the spool for inspection
            # and is captured again by the next run, which starts from what actually committed.
            self.counts["uncommitted_versions"] += len(window.versions)
            self._window = _Window()
            return
        self._sequence += 1
        batch = BatchInput(run=self.run, account=self.account, sequence=self._sequence, versions=window.versions,
                           evidence=window.evidence, seen=window.seen, seen_partitions=window.seen_partitions)
        spool_file = self.spool.seal()

        def release() -> None:
            if spool_file is not None:
                spool_file.unlink(missing_ok=True)
            for evidence in batch.evidence.values():
                evidence.release()

        self._committer.submit(batch, after=release)
        # The previous batch is committed now (submit waited for it): its versions are in the
        # catalog, and catalog answers from before may predate them, so both caches start afresh.
        self._in_flight = window.latest
        self._looked_up = {}
        self.counts["versions"] += len(window.versions)
        self.counts["batches"] += 1
        self._window = _Window()

    def _prior(self, record_id: str) -> PriorVersion | None:
        for overlay in (self._window.latest, self._in_flight):
            if record_id in overlay:
                return overlay[record_id]
        if record_id not in self._looked_up:
            with self.archive.catalog.read() as conn:
                self._looked_up[record_id] = self.archive.catalog.prior_versions(conn, [record_id]).get(record_id)
        return self._looked_up[record_id]

    def _captured_at(self, observation: Observation) -> datetime:
        if observation.exchanges:
            return self._window.evidence[observation.exchanges[0]].captured_at
        return self.archive.clock.now()

    def _note_seen(self, record_id: str, observation: Observation, captured_at: datetime) -> None:
        self._window.seen[record_id] = captured_at
        partition = record_partition(observation.platform, self.account.id, observation.kind,
                                     observation.posted_at or captured_at)
        for evidence_id in observation.exchanges:
            self._window.seen_partitions.setdefault(evidence_id, set()).add(partition)
