"""Commit batches on one background thread, strictly in order, while collection goes on.

Compression, hashing, signing, SQLite and file writes mostly release the GIL, so committing batch
N while the collector parses batch N+1 uses the second core. Only one batch is ever in flight and
each commit is the same atomic sequence as a synchronous one, so crash safety is unchanged; a
failed commit is re-raised in the collecting thread at its next hand-off or at the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from archiver.capture.commit import BatchInput, CommittedBatch, commit_batch
from archiver.wiring import Archive


class Committer:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arsip-commit")
        self._in_flight: Future[CommittedBatch] | None = None

    def submit(self, batch: BatchInput, after: Callable[[], None]) -> None:
        """Wait for the batch in flight (re-raising its failure), then start committing ``batch``;
        ``after`` runs once it has committed."""
        self.wait()
        self._in_flight = self._pool.submit(self._commit, batch, after)

    def _commit(self, batch: BatchInput, after: Callable[[], None]) -> CommittedBatch:
        committed = commit_batch(self.archive, batch)
        after()
        return committed

    def wait(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
