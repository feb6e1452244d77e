"""Tar and tar.gz exports, read in one streaming pass into a private, index-named spool.

A gzip stream cannot seek, so random access would mean decompressing again and again. Instead the
archive is read once: every header is validated, every file's bytes are copied (and counted) into
``<spool>/<index>``, a name the archive never chose, so no entry can land outside the spool.
``tarfile`` itself needs two guards: it reads GNU long names and pax headers wholly into memory,
and it quietly ends the archive at a damaged header once past the first; ``_GuardedTarInfo``
refuses both, and the pass insists that only zero padding follows the end-of-archive marker.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import zlib
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from archiver.collectors.export_archive_rules import (
    CHUNK_BYTES,
    FRESH_EXPORT,
    ArchiveLimitError,
    CorruptArchiveError,
    ExportLimits,
    Inventory,
    Meter,
    show,
)

MAX_EXTENDED_HEADER_BYTES = 64 * 1024  # a pax record set or a GNU long name; real ones are tiny
SPOOL_RESERVE_BYTES = 64 * 1024 * 1024  # leave the disk this much room after each spooled entry
_EXTENDED = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
             tarfile.SOLARIS_XHDTYPE)
_TAR_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, RecursionError)


class _OversizedHeader(Exception):
    """Raised deep inside tarfile; translated to ``ArchiveLimitError`` where the archive is known."""


class _OverLimit(Exception):
    """The uncompressed stream passed ``max_total_bytes``."""


class _GuardedTarInfo(tarfile.TarInfo):
    """A TarInfo that refuses oversized extended headers and treats any damaged header as damage."""

    @classmethod
    def fromtarfile(cls, owner: tarfile.TarFile) -> _GuardedTarInfo:
        try:
            return super().fromtarfile(owner)
        except tarfile.HeaderError as exc:
            if isinstance(exc, tarfile.EOFHeaderError):  # type: ignore[attr-defined]
                raise  # the zero block that ends the archive: tarfile stops cleanly
            raise tarfile.ReadError(f"damaged or missing tar header ({exc})") from None

    def _proc_member(self, owner: tarfile.TarFile) -> Any:
        """The hook tarfile documents for subclasses; it runs before any header body is read."""
        if self.size < 0:
            raise tarfile.ReadError("negative entry size")
        if self.type in _EXTENDED and self.size > MAX_EXTENDED_HEADER_BYTES:
            raise _OversizedHeader(self.size)
        return super()._proc_member(owner)  # type: ignore[misc]


class _Counter:
    """A read-only pass-through that counts, optionally hashes, and stops past a cap."""

    def __init__(self, inner: Any, *, digest: Any = None, cap: int | None = None) -> None:
        self.inner = inner
        self.digest = digest
        self.cap = cap
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.inner.read(size)
        self.count += len(data)
        if self.digest is not None:
            self.digest.update(data)
        if self.cap is not None and self.count > self.cap:
            raise _OverLimit(self.count)
        return data


class _Pass:
    """State of the one streaming pass: where we are, for messages, and what has been spooled."""

    def __init__(self, path: Path, raw: _Counter, spool: Path, limits: ExportLimits, strict: bool) -> None:
        self.path = path
        self.raw = raw
        self.spool = spool
        self.limits = limits
        self.inventory: Inventory[Path] = Inventory(path, limits, strict)
        self.last: str | None = None
        self.copying = False

    def take(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        self.last = member.name
        self.inventory.count()
        name = self.inventory.name_of(member.name, is_dir=member.isdir())
        if name is None:
            return
        reason = _unsafe_reason(member)
        if reason is not None:
            self.inventory.unsafe(member.name, reason)
            return
        self.inventory.declare(member.name, member.size)
        target = self.spool / f"{len(self.inventory.members):08d}"
        self.copying = True
        self._copy(tar, member, target)
        self.copying = False
        self.inventory.add(name, target)

    def _copy(self, tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
        free = shutil.disk_usage(self.spool).free
        if member.size + SPOOL_RESERVE_BYTES > free:
            raise ArchiveLimitError(self.path, member.name, f"needs {member.size} bytes of spool space but only "
                                    f"{free} are free", "free disk space or pass a spool_dir on a larger disk")
        source = tar.extractfile(member)
        assert source is not None  # regular files always have data
        start = self.raw.count
        meter = Meter(self.path, member.name, self.limits, lambda: self.raw.count - start)
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                meter.add(len(chunk))
                out.write(chunk)
        if meter.produced != member.size:
            raise tarfile.ReadError(f"entry holds {meter.produced} of its {member.size} bytes")

    def corrupt(self, exc: BaseException) -> CorruptArchiveError:
        detail = show(str(exc) or type(exc).__name__)
        if self.copying:
            return CorruptArchiveError(self.path, self.last, f"is corrupt or truncated ({detail})", FRESH_EXPORT)
        where = f"after entry '{show(self.last)}'" if self.last is not None else "before its first entry"
        return CorruptArchiveError(self.path, None, f"is corrupt or truncated {where} ({detail})", FRESH_EXPORT)


def spool_tar(path: Path, handle: BinaryIO, gzipped: bool, spool: Path, limits: ExportLimits, strict: bool
              ) -> tuple[str, dict[str, Path], list[tuple[str, str]]]:
    """Validate and spool every file member; returns the archive's SHA-256, members and problems.

    The caller creates ``spool`` (private, 0700) and removes it if this raises.
    """
    raw = _Counter(handle, digest=hashlib.sha256())
    # _Counter is file-like enough for gzip and tarfile's stream mode: both only read() forward.
    inner: Any = gzip.GzipFile(fileobj=cast(IO[bytes], raw), mode="rb") if gzipped else raw
    stream = _Counter(inner, cap=limits.max_total_bytes)
    state = _Pass(path, raw, spool, limits, strict)
    try:
        with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|", tarinfo=_GuardedTarInfo) as tar:
            for member in tar:
                state.take(tar, member)
            _drain_padding(tar)
        while raw.read(CHUNK_BYTES):  # hash any bytes the decoder did not need
            pass
    except _TAR_ERRORS as exc:
        raise state.corrupt(exc) from None
    except _OversizedHeader as exc:
        raise ArchiveLimitError(path, None, f"has a {exc.args[0]}-byte extended header after entry "
                                f"'{show(state.last or '')}', over the {MAX_EXTENDED_HEADER_BYTES}-byte limit",
                                FRESH_EXPORT) from None
    except _OverLimit:
        raise ArchiveLimitError(path, state.last, f"expands past {limits.max_total_bytes} bytes uncompressed",
                                "if this export is genuine, raise ExportLimits.max_total_bytes") from None
    members, problems = state.inventory.finish()
    return raw.digest.hexdigest(), members, problems


def _drain_padding(tar: tarfile.TarFile) -> None:
    """Only zeros may follow the end-of-archive marker; reading to the end also makes gzip check
    its CRC, which catches damage inside entries that tarfile itself cannot see."""
    stream = cast(Any, tar.fileobj)
    while chunk := stream.read(CHUNK_BYTES):
        if chunk.count(0) != len(chunk):
            raise tarfile.ReadError("data after the end-of-archive marker")


def _unsafe_reason(member: tarfile.TarInfo) -> str | None:
    if member.issym():
        return f"symbolic link to '{show(member.linkname)}'"
    if member.islnk():
        return f"hard link to '{show(member.linkname)}'"
    if member.ischr() or member.isblk():
        return "device file"
    if member.isfifo():
        return "FIFO"
    if member.issparse():
        return "sparse file"
    if not member.isreg():
        return f"unsupported entry type {member.type!r}"
    return None
