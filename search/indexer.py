"""Keep the index in step with the catalog: incremental catch-up, full rebuild, removal.

The index records how far into the Merkle log it has indexed (``indexed_upto``, a log size) in
``state.json`` beside it, written only after the engine has committed. A crash between the two
leaves the state behind the index, never ahead, and re-indexing a range is harmless because a
record is always replaced whole. One writer at a time: an exclusive lock file beside the index.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from archiver.clock import Clock, isoformat_z
from archiver.db.catalog import Catalog
from archiver.db.index_feed import all_record_rows, log_size, record_rows, touched_records
from search.backends.base import SearchBackend
from search.entries import RecordEntry
from search.errors import SearchIndexError
from search.feed import group_records
from search.fields import documents

STATE_FILE = "state.json"
LOCK_FILE = "writer.lock"
SCHEMA_VERSION = 1
CHUNK_VERSIONS = 20_000  # log entries per catch-up step (one engine commit each)


@dataclass(frozen=True)
class IndexState:
    backend: str
    schema: int
    indexed_upto: int
    updated_at: str | None = None

    @classmethod
    def empty(cls, backend: str) -> IndexState:
        return cls(backend=backend, schema=SCHEMA_VERSION, indexed_upto=0)


@dataclass(frozen=True)
class IndexReport:
    backend: str
    indexed_upto: int
    log_size: int
    records_indexed: int

    @property
    def behind(self) -> int:
        return self.log_size - self.indexed_upto


def read_state(directory: Path, backend: str) -> IndexState:
    path = directory / STATE_FILE
    if not path.exists():
        return IndexState.empty(backend)
    try:
        data = json.loads(path.read_text())
        state = IndexState(backend=str(data["backend"]), schema=int(data["schema"]),
                           indexed_upto=int(data["indexed_upto"]), updated_at=data.get("updated_at"))
    except (ValueError, KeyError, TypeError) as exc:
        raise SearchIndexError(f"{path} is unreadable ({exc}); run `arsip index rebuild`",
                               code="index_state") from None
    if state.schema != SCHEMA_VERSION or state.backend != backend:
        raise SearchIndexError(f"the index in {directory} was built by another version or backend; "
                               "run `arsip index rebuild`", code="index_schema")
    return state


def _write_state(directory: Path, state: IndexState) -> None:
    path = directory / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=1))
    os.replace(temporary, path)


@contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """The single-writer lock; a second writer fails at once with a clear message."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_FILE, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SearchIndexError(f"another process is writing the index in {directory}; try again when "
                                   "it has finished", code="index_locked") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Indexer:
    def __init__(self, catalog: Catalog, backend: SearchBackend, directory: Path, clock: Clock) -> None:
        self.catalog = catalog
        self.backend = backend
        self.directory = directory
        self.clock = clock

    def status(self) -> IndexReport:
        upto, size = self._progress()
        return IndexReport(self.backend.name, upto, size, self.backend.document_count())

    def behind(self) -> int:
        """Log entries not yet indexed (cheap: no engine query, unlike :meth:`status`)."""
        upto, size = self._progress()
        return size - upto

    def _progress(self) -> tuple[int, int]:
        """(log entries indexed, log size)."""
        upto = read_state(self.directory, self.backend.name).indexed_upto
        with self.catalog.read() as conn:
            return upto, log_size(conn)

    def catch_up(self) -> IndexReport:
        """Index every version the log gained since the last run, in committed steps."""
        with writer_lock(self.directory):
            state = read_state(self.directory, self.backend.name)
            with self.catalog.read() as conn:
                target = log_size(conn)
            upto = state.indexed_upto
            while upto < target:
                end = min(upto + CHUNK_VERSIONS, target)
                with self.catalog.read() as conn:
                    record_ids = touched_records(conn, upto, end)
                    self.backend.delete(record_ids)
                    self._add(group_records(record_rows(conn, record_ids)))
                self._commit(end)
                upto = end
        return self.status()

    def rebuild(self) -> IndexReport:
        """Empty the index and index every record in the catalog."""
        with writer_lock(self.directory):
            with self.catalog.read() as conn:
                target = log_size(conn)
            self.backend.clear()
            self._commit(0)
            with self.catalog.read() as conn:  # no deletes: the index is empty
                self._add(group_records(all_record_rows(conn)))
            self._commit(target)
        return self.status()

    def _add(self, records: Iterable[RecordEntry]) -> None:
        """Hand the records' documents to the engine; on any failure, drop what it has not committed."""
        try:
            self.backend.add(document for record in records for document in documents(record))
        except BaseException:
            self.backend.close()
            raise

    def remove(self, record_ids: Sequence[str]) -> None:
        """Take destroyed records out of the index now (disposition calls this before it commits)."""
        with writer_lock(self.directory):
            self.backend.delete(record_ids)
            self.backend.commit()

    def _commit(self, upto: int) -> None:
        self.backend.commit()
        _write_state(self.directory, IndexState(backend=self.backend.name, schema=SCHEMA_VERSION,
                                                indexed_upto=upto, updated_at=isoformat_z(self.clock.now())))
