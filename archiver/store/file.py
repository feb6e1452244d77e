"""Objects as plain files under one directory, with a sidecar metadata tree and emulated Object Lock.

Layout under ``root``::

    <key>                     the object's bytes, exactly as written
    .arsip-meta/<key>         JSON sidecar: sha256, content type, lock state, commit state
    .arsip-lock               lock file serialising publishes, deletes and lock changes
    <dir>/.arsip-tmp-*        writes in flight (a crash may leave some; they are never listed)

A write streams into a temporary file next to its target, fsyncs it, then - holding the store
lock - records a *pending* sidecar, publishes the file (``os.link`` for ``if_absent``, so an
existing object is never replaced, else ``os.replace``), fsyncs the directory and marks the
sidecar *committed*. A crash between those steps leaves a pending sidecar; readers settle it by
hashing the file: if it matches, the write landed; if not, the sidecar's ``previous`` entry
(the state before the write) applies. Committed sidecars are trusted as recorded, so a file
changed behind the store's back shows up as a digest mismatch in verification, not as a new
digest.

Object Lock is emulated: deletes, overwrites and retention shortening are refused while a
retention date lies ahead or a legal hold is on. Nothing stops an administrator with shell
access from deleting the files; use S3 Object Lock where that matters.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from archiver.clock import Clock, isoformat_z, parse_timestamp
from archiver.store.base import (
    RESERVED_PREFIX,
    BadKey,
    BaseStore,
    KeyConflict,
    LockDefaults,
    LockMode,
    LockOptions,
    ObjectExists,
    ObjectInfo,
    ObjectLocked,
    ObjectNotFound,
    PutResult,
    StoreError,
    check_retention_change,
    is_valid_key,
    lock_reason,
)
from archiver.store.streams import copy_hashing, hash_file

META_DIR = RESERVED_PREFIX + "meta"
LOCK_FILE = RESERVED_PREFIX + "lock"
TMP_PREFIX = RESERVED_PREFIX + "tmp-"
META_FORMAT = "arsip-file-store-meta/1"


@dataclass(frozen=True)
class _Meta:
    sha256: str | None
    content_type: str
    lock_mode: LockMode | None
    retain_until: datetime | None
    legal_hold: bool

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "content_type": self.content_type,
                "lock_mode": self.lock_mode and str(self.lock_mode),
                "retain_until": self.retain_until and isoformat_z(self.retain_until),
                "legal_hold": self.legal_hold}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> _Meta:
        until = raw.get("retain_until")
        return cls(raw.get("sha256"), raw.get("content_type") or "application/octet-stream",
                   LockMode(raw["lock_mode"]) if raw.get("lock_mode") else None,
                   parse_timestamp(until) if until else None, bool(raw.get("legal_hold")))


_UNLOCKED = _Meta(None, "application/octet-stream", None, None, False)


class FileStore(BaseStore):
    """A directory of objects; the default store (``$ARSIP_HOME/objects``). Linux/Unix only."""

    def __init__(self, root: Path | str, *, clock: Clock | None = None,
                 lock_defaults: LockDefaults | None = None) -> None:
        super().__init__(clock=clock, lock_defaults=lock_defaults)
        self._root = Path(root).absolute()
        self._meta_root = self._root / META_DIR
        self._thread_lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root

    @property
    def url(self) -> str:
        return self._root.as_uri()

    @property
    def supports_object_lock(self) -> bool:
        return True

    def _data_path(self, key: str) -> Path:
        return self._root.joinpath(*key.split("/"))

    def _meta_path(self, key: str) -> Path:
        return self._meta_root.joinpath(*key.split("/"))

    # --- writing -------------------------------------------------------------------------

    def _put_stream(self, key: str, stream: BinaryIO, content_type: str,
                    lock: LockOptions | None, if_absent: bool) -> PutResult:
        target = self._data_path(key)
        if if_absent and target.is_file():  # fail fast; the link below decides atomically
            raise ObjectExists(f"object {key} already exists in {self.url}")
        self._make_parents(target.parent, key)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                size, digest = copy_hashing(stream, out.write)
                out.flush()
                os.fsync(out.fileno())
            meta = _Meta(digest, content_type,
                         lock.mode if lock and lock.retain_until else None,
                         lock.retain_until if lock else None, bool(lock and lock.legal_hold))
            with self._exclusive(key):
                self._publish(key, Path(tmp_name), meta, if_absent)
        except OSError as err:
            raise _os_error(err, key, self.url) from err
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp_name)
        return PutResult(key, size, digest, None)

    def _publish(self, key: str, tmp: Path, meta: _Meta, if_absent: bool) -> None:
        target = self._data_path(key)
        current = self._state(key)
        if current is not None and if_absent:
            raise ObjectExists(f"object {key} already exists in {self.url}")
        if current is not None:
            reason = lock_reason(self._info(key, *current), self._clock.now())
            if reason:
                raise ObjectLocked(f"cannot overwrite {key} in {self.url}: {reason}")
        elif target.is_dir():
            raise KeyConflict(f"cannot write {key}: {target} is a directory holding other objects; "
                              "the file store cannot hold both 'a' and 'a/b'")
        self._write_meta(key, meta, pending=True, previous=current[1] if current else None)
        try:
            if if_absent:
                os.link(tmp, target)
            else:
                os.replace(tmp, target)
        except FileExistsError as err:
            # Only a writer that bypasses the store lock gets here; its file wins, ours is dropped.
            self._meta_path(key).unlink(missing_ok=True)
            raise ObjectExists(f"object {key} appeared in {self.url} while writing it") from err
        _fsync_dir(target.parent)
        self._write_meta(key, meta, pending=False, previous=None)

    def _write_meta(self, key: str, meta: _Meta, *, pending: bool, previous: _Meta | None) -> None:
        record = {"format": META_FORMAT, "state": "pending" if pending else "committed",
                  **meta.to_json(), "previous": previous.to_json() if previous else None}
        path = self._meta_path(key)
        self._make_parents(path.parent, key)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(record, out, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, path)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp_name)
        _fsync_dir(path.parent)

    def _make_parents(self, directory: Path, key: str) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as err:
            raise KeyConflict(f"cannot write {key}: part of its path is already an object in "
                              f"{self.url}; the file store cannot hold both 'a' and 'a/b'") from err
        except OSError as err:
            raise _os_error(err, key, self.url) from err

    @contextmanager
    def _exclusive(self, key: str) -> Iterator[None]:
        """Serialise state changes across threads (mutex) and processes (flock)."""
        try:
            handle = open(self._root / LOCK_FILE, "a+b")  # noqa: SIM115 - closed below
        except FileNotFoundError as err:  # no root yet, so no objects either
            raise ObjectNotFound(f"object {key} does not exist in {self.url}") from err
        with self._thread_lock, handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # --- state ---------------------------------------------------------------------------

    def _state(self, key: str) -> tuple[os.stat_result, _Meta] | None:
        """The object's file status and its settled sidecar, or None if there is no object."""
        path = self._data_path(key)
        try:
            status = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as err:
            raise _os_error(err, key, self.url) from err
        if not path.is_file():
            return None
        record = self._read_meta(key)
        if record is None:
            return status, replace(_UNLOCKED, sha256=hash_file(path))
        meta = _Meta.from_json(record)
        if record.get("state") == "committed":
            return status, meta
        actual = hash_file(path)
        if actual == meta.sha256:
            return status, meta
        previous = record.get("previous")
        settled = _Meta.from_json(previous) if previous else _UNLOCKED
        return status, replace(settled, sha256=actual)

    def _read_meta(self, key: str) -> dict[str, Any] | None:
        path = self._meta_path(key)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except (ValueError, UnicodeDecodeError) as err:
            raise StoreError(f"metadata sidecar {path} is corrupt ({err}); restore it from backup, "
                             "or delete it to have the digest recomputed (its lock state is lost)"
                             ) from err
        if not isinstance(raw, dict) or raw.get("format") != META_FORMAT:
            raise StoreError(f"metadata sidecar {path} is not in {META_FORMAT} format; restore it "
                             "from backup")
        return raw

    def _info(self, key: str, status: os.stat_result, meta: _Meta) -> ObjectInfo:
        return ObjectInfo(key=key, size=status.st_size, sha256=meta.sha256,
                          last_modified=datetime.fromtimestamp(status.st_mtime, UTC),
                          retain_until=meta.retain_until, lock_mode=meta.lock_mode,
                          legal_hold=meta.legal_hold)

    def _require(self, key: str) -> tuple[os.stat_result, _Meta]:
        state = self._state(key)
        if state is None:
            raise ObjectNotFound(f"object {key} does not exist in {self.url}")
        return state

    # --- reading -------------------------------------------------------------------------

    def _open(self, key: str) -> BinaryIO:
        try:
            return open(self._data_path(key), "rb")  # noqa: SIM115 - the caller closes it
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as err:
            raise ObjectNotFound(f"object {key} does not exist in {self.url}") from err
        except OSError as err:
            raise _os_error(err, key, self.url) from err

    def _get_range(self, key: str, offset: int, length: int) -> bytes:
        with self._open(key) as handle:
            handle.seek(offset)
            return handle.read(length)

    def _head(self, key: str) -> ObjectInfo | None:
        state = self._state(key)
        return self._info(key, *state) if state else None

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        directory, _, name_prefix = prefix.rpartition("/")
        start = self._root.joinpath(*directory.split("/")) if directory else self._root
        return self._walk(start, directory, name_prefix)

    def _walk(self, directory: Path, key_prefix: str, name_prefix: str) -> Iterator[ObjectInfo]:
        """Yield objects in key order without sorting the whole store.

        Sorting a directory's entries with a trailing '/' on subdirectory names puts every key
        below ``d/`` exactly where plain string order of full keys would put it.
        """
        try:
            with os.scandir(directory) as entries:
                chosen = [_listing_entry(entry) for entry in entries
                          if entry.name.startswith(name_prefix)
                          and not entry.name.lower().startswith(RESERVED_PREFIX)]
        except (FileNotFoundError, NotADirectoryError):
            return
        for _, entry, is_dir in sorted((c for c in chosen if c is not None), key=lambda c: c[0]):
            key = f"{key_prefix}/{entry.name}" if key_prefix else entry.name
            if is_dir:
                yield from self._walk(Path(entry.path), key, "")
            elif is_valid_key(key):
                status = entry.stat(follow_symlinks=False)
                yield ObjectInfo(key, status.st_size, None,
                                 datetime.fromtimestamp(status.st_mtime, UTC), None, None, False)

    # --- deleting and locking -------------------------------------------------------------

    def _delete(self, key: str) -> None:
        with self._exclusive(key):
            info = self._info(key, *self._require(key))
            reason = lock_reason(info, self._clock.now())
            if reason:
                raise ObjectLocked(f"cannot delete {key} from {self.url}: {reason}")
            path = self._data_path(key)
            path.unlink()
            _fsync_dir(path.parent)
            self._meta_path(key).unlink(missing_ok=True)

    def _set_legal_hold(self, key: str, on: bool) -> None:
        with self._exclusive(key):
            _, meta = self._require(key)
            self._write_meta(key, replace(meta, legal_hold=on), pending=False, previous=None)

    def _set_retention(self, key: str, mode: LockMode, retain_until: datetime) -> None:
        with self._exclusive(key):
            status, meta = self._require(key)
            check_retention_change(key, self._info(key, status, meta), mode, retain_until,
                                   self._clock.now())
            new = replace(meta, lock_mode=mode, retain_until=retain_until)
            self._write_meta(key, new, pending=False, previous=None)


def _listing_entry(entry: os.DirEntry[str]) -> tuple[str, os.DirEntry[str], bool] | None:
    if entry.is_dir(follow_symlinks=False):
        return entry.name + "/", entry, True
    if entry.is_file(follow_symlinks=False):
        return entry.name, entry, False
    return None  # symlinks, sockets and the like are not objects


def _fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable, not just the file's bytes."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_error(err: OSError, key: str, url: str) -> StoreError:
    if err.errno == errno.ENAMETOOLONG:
        return BadKey(f"object key {key!r} has a segment too long for the file system under {url}")
    return StoreError(f"file store {url} failed on {key}: {err.strerror or err}; check the "
                      "directory's permissions and free space")
