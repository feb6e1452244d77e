"""The BlobStore port: value objects, errors, key rules and the behaviour every backend shares."""

from __future__ import annotations

import io
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self

from archiver.clock import Clock, SystemClock, isoformat_z, utc
from archiver.errors import ObjectNotFound, StoreError
from archiver.store.keys import (  # noqa: F401 - re-exported: the port's public vocabulary
    MAX_KEY_BYTES,
    RESERVED_PREFIX,
    BadKey,
    is_valid_key,
    validate_key,
    validate_prefix,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"

_log = logging.getLogger(__name__)


class ObjectExists(StoreError):
    """``if_absent`` was asked for and the key already holds an object."""

    code = "object_exists"


class ObjectLocked(StoreError):
    """Retention or a legal hold forbids deleting, overwriting or loosening an object."""

    code = "object_locked"


class LockNotSupported(StoreError):
    """Object Lock was asked for but the store (an S3 bucket without it) cannot provide it."""

    code = "object_lock_unsupported"


class InvalidLock(StoreError):
    """Lock options that no store would accept (a retain-until date in the past)."""

    code = "invalid_lock"


class KeyConflict(StoreError):
    """The file store cannot hold both ``a`` and ``a/b``: one would be a file and a directory."""

    code = "key_conflict"


class LockMode(StrEnum):
    """S3 Object Lock retention modes; GOVERNANCE can be bypassed by privileged users, COMPLIANCE not."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


def whole_second_ceiling(value: datetime) -> datetime:
    """Round a retain-until date *up* to a whole second in UTC.

    S3 keeps second precision; rounding up (never down) means storing a date can never
    shorten the retention that was asked for, and every backend reports the same value.
    """
    value = utc(value)
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value


@dataclass(frozen=True)
class LockOptions:
    """Object Lock to apply when writing: retention (mode + retain-until) and/or a legal hold.

    ``retain_until=None`` means no retention, only the legal hold (if any); ``mode`` is then unused.
    """

    mode: LockMode
    retain_until: datetime | None
    legal_hold: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", LockMode(self.mode))
        if self.retain_until is not None:
            object.__setattr__(self, "retain_until", whole_second_ceiling(self.retain_until))


@dataclass(frozen=True)
class LockDefaults:
    """Store-wide minimum Object Lock for new objects (settings ``object_lock_mode``/``_retain_days``)."""

    mode: LockMode
    retain_days: int

    @classmethod
    def from_settings(cls, mode: str | None, retain_days: int) -> LockDefaults | None:
        """Build from the settings strings; ``none`` or an empty mode means no defaults."""
        if not mode or mode.lower() == "none":
            return None
        return cls(LockMode(mode.upper()), retain_days)


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about one object.

    ``list`` fills only key, size and last_modified (one request per 1000 keys on S3); call
    ``head`` for sha256 and lock state. Lock fields are reported as stored, even once expired.
    """

    key: str
    size: int
    sha256: str | None
    last_modified: datetime | None
    retain_until: datetime | None
    lock_mode: LockMode | None
    legal_hold: bool


@dataclass(frozen=True)
class PutResult:
    """The outcome of a write: the sha256 we computed while streaming, and the S3 version id."""

    key: str
    size: int
    sha256: str
    version_id: str | None


def lock_reason(info: ObjectInfo, now: datetime) -> str | None:
    """Why the object cannot be deleted now, or None if nothing protects it."""
    if info.legal_hold:
        return "a legal hold is on"
    if info.retain_until is not None and info.retain_until > now:
        return f"{info.lock_mode} retention runs until {isoformat_z(info.retain_until)}"
    return None


def check_retention_change(key: str, info: ObjectInfo, mode: LockMode, until: datetime,
                           now: datetime) -> None:
    """Refuse loosening an active retention, as S3 does for callers without bypass rights.

    Arsip never bypasses GOVERNANCE, so for both modes an active retention may only be
    extended, never shortened or switched to the other mode.
    """
    if info.retain_until is None or info.retain_until <= now:
        return
    if info.lock_mode is not None and mode != info.lock_mode:
        raise ObjectLocked(f"{key} is under {info.lock_mode} retention until "
                           f"{isoformat_z(info.retain_until)}; its mode cannot change to {mode}")
    if until < info.retain_until:
        raise ObjectLocked(f"{key} is under {info.lock_mode} retention until "
                           f"{isoformat_z(info.retain_until)}; retention can only be extended")


class BlobStore(Protocol):
    """The object store port. Keys are validated by :func:`validate_key` in every method."""

    @property
    def url(self) -> str: ...

    @property
    def supports_object_lock(self) -> bool: ...

    def put_stream(self, key: str, stream: BinaryIO, *, content_type: str = DEFAULT_CONTENT_TYPE,
                   lock: LockOptions | None = None, if_absent: bool = False) -> PutResult: ...

    def put_bytes(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE,
                  lock: LockOptions | None = None, if_absent: bool = False) -> PutResult: ...

    def put_file(self, key: str, path: Path | str, *, content_type: str = DEFAULT_CONTENT_TYPE,
                 lock: LockOptions | None = None, if_absent: bool = False) -> PutResult: ...

    def open(self, key: str) -> BinaryIO: ...

    def get_range(self, key: str, offset: int, length: int) -> bytes: ...

    def get_bytes(self, key: str) -> bytes: ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def delete(self, key: str) -> None: ...

    def set_legal_hold(self, key: str, on: bool) -> None: ...

    def set_retention(self, key: str, mode: LockMode, retain_until: datetime) -> None: ...

    def close(self) -> None: ...


class BaseStore(ABC):
    """Shared front half of every backend: validation, lock defaults, convenience wrappers.

    Backends implement the ``_``-prefixed primitives and receive only valid keys and lock
    options that have already been checked against the clock.
    """

    def __init__(self, *, clock: Clock | None = None, lock_defaults: LockDefaults | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock_defaults = lock_defaults
        self._warned_no_lock = False

    @property
    @abstractmethod
    def url(self) -> str:
        """The store's URL, never carrying credentials."""

    @property
    @abstractmethod
    def supports_object_lock(self) -> bool:
        """Whether retention and legal holds are honoured (emulated by file and memory stores)."""

    def put_stream(self, key: str, stream: BinaryIO, *, content_type: str = DEFAULT_CONTENT_TYPE,
                   lock: LockOptions | None = None, if_absent: bool = False) -> PutResult:
        """Write ``stream`` under ``key``, hashing as it goes; ``if_absent`` refuses to replace."""
        validate_key(key)
        return self._put_stream(key, stream, content_type, self._effective_lock(key, lock), if_absent)

    def put_bytes(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE,
                  lock: LockOptions | None = None, if_absent: bool = False) -> PutResult:
        return self.put_stream(key, io.BytesIO(data), content_type=content_type, lock=lock,
                               if_absent=if_absent)

    def put_file(self, key: str, path: Path | str, *, content_type: str = DEFAULT_CONTENT_TYPE,
                 lock: LockOptions | None = None, if_absent: bool = False) -> PutResult:
        with open(path, "rb") as handle:
            return self.put_stream(key, handle, content_type=content_type, lock=lock,
                                   if_absent=if_absent)

    def open(self, key: str) -> BinaryIO:
        """Open the object for streaming reads; the caller closes it."""
        return self._open(validate_key(key))

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """Read ``length`` bytes from ``offset`` in one request; shorter at the object's end."""
        validate_key(key)
        if offset < 0 or length < 0:
            raise StoreError(f"range offset={offset} length={length} for {key} must not be negative")
        if length == 0:
            if self._head(key) is None:
                raise ObjectNotFound(f"object {key} does not exist in {self.url}")
            return b""
        return self._get_range(key, offset, length)

    def get_bytes(self, key: str) -> bytes:
        """Read a whole object; only for objects known to be small."""
        with self.open(key) as handle:
            return handle.read()

    def head(self, key: str) -> ObjectInfo | None:
        """Size, sha256 and lock state of one object, or None if it does not exist."""
        return self._head(validate_key(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, sorted by key (see :class:`ObjectInfo`)."""
        return self._list(validate_prefix(prefix))

    def delete(self, key: str) -> None:
        """Destroy an object; refused with :class:`ObjectLocked` while retention or a hold applies."""
        self._delete(validate_key(key))

    def set_legal_hold(self, key: str, on: bool) -> None:
        validate_key(key)
        self._require_lock_support(key)
        self._set_legal_hold(key, on)

    def set_retention(self, key: str, mode: LockMode, retain_until: datetime) -> None:
        """Set or extend retention; shortening or switching an active retention is refused."""
        validate_key(key)
        self._require_lock_support(key)
        until = self._future_retain_until(key, retain_until)
        self._set_retention(key, LockMode(mode), until)

    def close(self) -> None:  # noqa: B027 - an optional hook; only S3 holds connections
        """Release connections; the data stays."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _effective_lock(self, key: str, lock: LockOptions | None) -> LockOptions | None:
        """Merge the store's lock defaults into ``lock`` and check the result is acceptable."""
        if lock is not None and not self.supports_object_lock:
            raise LockNotSupported(
                f"cannot write {key} with Object Lock: {self.url} does not support it; use a bucket "
                "created with Object Lock enabled, or write without lock options")
        defaults = self._lock_defaults
        if defaults is not None and defaults.retain_days > 0:
            if self.supports_object_lock:
                lock = _apply_defaults(lock, defaults, self._clock.now())
            elif not self._warned_no_lock:
                self._warned_no_lock = True
                _log.warning("object_lock_mode is %s but %s has no Object Lock; objects are "
                             "written without retention", defaults.mode, self.url)
        if lock is None or (lock.retain_until is None and not lock.legal_hold):
            return None
        if lock.retain_until is not None:
            self._future_retain_until(key, lock.retain_until)
        return lock

    def _future_retain_until(self, key: str, retain_until: datetime) -> datetime:
        until = whole_second_ceiling(retain_until)
        if until <= self._clock.now():
            raise InvalidLock(f"retain-until {isoformat_z(until)} for {key} is not in the future; "
                              "retention must end after now")
        return until

    def _require_lock_support(self, key: str) -> None:
        if not self.supports_object_lock:
            raise LockNotSupported(f"cannot change the lock of {key}: {self.url} has no Object Lock")

    @abstractmethod
    def _put_stream(self, key: str, stream: BinaryIO, content_type: str,
                    lock: LockOptions | None, if_absent: bool) -> PutResult: ...

    @abstractmethod
    def _open(self, key: str) -> BinaryIO: ...

    @abstractmethod
    def _get_range(self, key: str, offset: int, length: int) -> bytes: ...

    @abstractmethod
    def _head(self, key: str) -> ObjectInfo | None: ...

    @abstractmethod
    def _list(self, prefix: str) -> Iterator[ObjectInfo]: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def _set_legal_hold(self, key: str, on: bool) -> None: ...

    @abstractmethod
    def _set_retention(self, key: str, mode: LockMode, retain_until: datetime) -> None: ...


def _apply_defaults(lock: LockOptions | None, defaults: LockDefaults, now: datetime) -> LockOptions:
    """Raise retain-until to the configured minimum; an explicit mode wins over the default."""
    minimum = now + timedelta(days=defaults.retain_days)
    if lock is None:
        return LockOptions(defaults.mode, minimum)
    if lock.retain_until is None or lock.retain_until < minimum:
        return LockOptions(lock.mode if lock.retain_until else defaults.mode, minimum, lock.legal_hold)
    return lock
