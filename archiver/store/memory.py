"""An in-process object store for unit tests, with the same key, lock and error rules as the others."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO

from archiver.clock import Clock
from archiver.store.base import (
    BaseStore,
    LockDefaults,
    LockMode,
    LockOptions,
    ObjectExists,
    ObjectInfo,
    ObjectLocked,
    ObjectNotFound,
    PutResult,
    check_retention_change,
    lock_reason,
)
from archiver.store.streams import copy_hashing


@dataclass(frozen=True)
class _Entry:
    data: bytes
    info: ObjectInfo


class MemoryStore(BaseStore):
    """Objects in a dict. Object Lock is emulated exactly like the file store's.

    Holds every object in RAM by design, so it is for tests only; it keeps one version per key,
    so overwriting a locked object is refused rather than versioned (see docs/storage.md).
    """

    def __init__(self, name: str = "default", *, clock: Clock | None = None,
                 lock_defaults: LockDefaults | None = None) -> None:
        super().__init__(clock=clock, lock_defaults=lock_defaults)
        self._name = name
        self._objects: dict[str, _Entry] = {}
        self._mutex = threading.RLock()

    @property
    def url(self) -> str:
        return f"memory://{self._name}"

    @property
    def supports_object_lock(self) -> bool:
        return True

    def _put_stream(self, key: str, stream: BinaryIO, content_type: str,
                    lock: LockOptions | None, if_absent: bool) -> PutResult:
        buffer = bytearray()
        size, digest = copy_hashing(stream, buffer.extend)
        info = ObjectInfo(key=key, size=size, sha256=digest, last_modified=self._clock.now(),
                          retain_until=lock.retain_until if lock else None,
                          lock_mode=lock.mode if lock and lock.retain_until else None,
                          legal_hold=bool(lock and lock.legal_hold))
        with self._mutex:
            current = self._objects.get(key)
            if current is not None and if_absent:
                raise ObjectExists(f"object {key} already exists in {self.url}")
            if current is not None:
                reason = lock_reason(current.info, self._clock.now())
                if reason:
                    raise ObjectLocked(f"cannot overwrite {key} in {self.url}: {reason}")
            self._objects[key] = _Entry(bytes(buffer), info)
        return PutResult(key, size, digest, None)

    def _entry(self, key: str) -> _Entry:
        with self._mutex:
            entry = self._objects.get(key)
        if entry is None:
            raise ObjectNotFound(f"object {key} does not exist in {self.url}")
        return entry

    def _open(self, key: str) -> BinaryIO:
        return io.BytesIO(self._entry(key).data)

    def _get_range(self, key: str, offset: int, length: int) -> bytes:
        return self._entry(key).data[offset:offset + length]

    def _head(self, key: str) -> ObjectInfo | None:
        with self._mutex:
            entry = self._objects.get(key)
        return entry.info if entry else None

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        with self._mutex:
            snapshot = sorted((k, e.info) for k, e in self._objects.items() if k.startswith(prefix))
        for _, info in snapshot:
            yield replace(info, sha256=None, retain_until=None, lock_mode=None, legal_hold=False)

    def _delete(self, key: str) -> None:
        with self._mutex:
            reason = lock_reason(self._entry(key).info, self._clock.now())
            if reason:
                raise ObjectLocked(f"cannot delete {key} from {self.url}: {reason}")
            del self._objects[key]

    def _set_legal_hold(self, key: str, on: bool) -> None:
        with self._mutex:
            entry = self._entry(key)
            self._objects[key] = replace(entry, info=replace(entry.info, legal_hold=on))

    def _set_retention(self, key: str, mode: LockMode, retain_until: datetime) -> None:
        with self._mutex:
            entry = self._entry(key)
            check_retention_change(key, entry.info, mode, retain_until, self._clock.now())
            info = replace(entry.info, lock_mode=mode, retain_until=retain_until)
            self._objects[key] = replace(entry, info=info)


_NAMED: dict[str, MemoryStore] = {}
_NAMED_MUTEX = threading.Lock()


def named_memory_store(name: str, *, clock: Clock | None = None,
                       lock_defaults: LockDefaults | None = None) -> MemoryStore:
    """The process-wide store called ``name``, so ``memory://name`` reopens the same objects.

    ``clock`` and ``lock_defaults`` only apply when the store is first created.
    """
    with _NAMED_MUTEX:
        store = _NAMED.get(name)
        if store is None:
            store = _NAMED[name] = MemoryStore(name, clock=clock, lock_defaults=lock_defaults)
        return store


def forget_memory_store(name: str) -> None:
    """Drop a named store so the next ``memory://name`` starts empty (test isolation)."""
    with _NAMED_MUTEX:
        _NAMED.pop(name, None)
