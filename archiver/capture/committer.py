"""Commit batches in the background, strictly in order, while collection goes on.

Only one batch is ever in flight and each commit is the same atomic sequence as a synchronous one
(:func:`commit_batch`), so crash safety is unchanged; a failed commit is re-raised in the collecting
thread at its next hand-off or at the end of the run.

Where the batch is committed is a matter of CPU only. Normalizing, signing, WARC writing and catalog
inserts are mostly Python, so a commit thread shares one core with the collector through the GIL
(measured: both threads together saturate one core). Large batches therefore go to a worker
process that opens the same archive from the settings and uses the second core; small batches
(incremental captures, tests) stay in a thread because starting the worker costs about a second.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from archiver.capture.commit import BatchInput, CommittedBatch, commit_batch
from archiver.clock import Clock
from archiver.errors import ArchiverError
from archiver.settings import Settings
from archiver.wiring import Archive, open_archive

WORKER_DIED = ("the commit worker process stopped (killed, or out of memory) while committing; this run "
               "stops here and the next run recovers or re-captures what it lost")


class Committer:
    """Commits one batch at a time. After a failed commit it commits nothing more (``failed``):
    later batches would build on versions that never landed."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.failed = False
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arsip-commit")
        self._worker: ProcessPoolExecutor | None = None
        self._in_flight: tuple[Future[CommittedBatch], Callable[[], None]] | None = None

    def submit(self, batch: BatchInput, after: Callable[[], None]) -> None:
        """Wait for the batch in flight (re-raising its failure), then start committing ``batch``;
        ``after`` runs in this thread once it has committed."""
        self.wait()
        with self._failing():
            if self._use_worker(batch):
                future = self._worker_pool().submit(_commit_in_worker, batch)
            else:
                future = self._threads.submit(commit_batch, self.archive, batch)
        self._in_flight = (future, after)

    def wait(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            future, after = in_flight
            with self._failing():
                future.result()
            after()

    @contextmanager
    def _failing(self) -> Iterator[None]:
        try:
            yield
        except BrokenProcessPool:
            self.failed = True
            raise ArchiverError(WORKER_DIED, code="commit_failed") from None
        except BaseException:
            self.failed = True
            raise

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._threads.shutdown(wait=True)
            if self._worker is not None:
                self._worker.shutdown(wait=True)

    def _use_worker(self, batch: BatchInput) -> bool:
        threshold = self.archive.settings.commit_process_threshold
        return self.archive.reopenable and threshold > 0 and len(batch.versions) >= threshold

    def _worker_pool(self) -> Executor:
        if self._worker is None:
            # spawn, not fork: this process has threads and open database connections.
            self._worker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                               initializer=_open_worker_archive,
                                               initargs=(self.archive.settings, self.archive.clock))
        return self._worker


_worker_archive: Archive | None = None  # the worker process's own connection to the archive


def _open_worker_archive(settings: Settings, clock: Clock) -> None:
    global _worker_archive
    _worker_archive = open_archive(settings, clock=clock)


def _commit_in_worker(batch: BatchInput) -> CommittedBatch:
    assert _worker_archive is not None, "worker started without its archive"
    return commit_batch(_worker_archive, batch)
