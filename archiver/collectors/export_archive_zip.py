"""Zip exports, read in place: the central directory is vetted before use and every read is metered.

``zipfile`` trusts the archive more than we can: it loads the whole central directory, lets entries
share compressed bytes (the overlapping-entry bomb), and believes declared sizes. We check the
declared entry count before ``zipfile`` parses anything, refuse overlapping entries, refuse
declared sizes and ratios over the limits, and meter real bytes while they are read.
"""

from __future__ import annotations

import io
import lzma
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from archiver.collectors.export_archive_rules import (
    CHUNK_BYTES,
    FRESH_EXPORT,
    ArchiveLimitError,
    CorruptArchiveError,
    ExportLimits,
    Inventory,
    Meter,
    check_ratio,
    show,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_READ_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, OSError)
_OPEN_ERRORS = (*_READ_ERRORS, struct.error, ValueError, NotImplementedError)
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_LOCAL_HEADER_SIZE = 30
_UNIX = 3
_DIRECTORY_BYTES_PER_ENTRY = 1024  # generous: a central-directory record is 46 bytes plus the name


def open_zip(path: Path, handle: BinaryIO, limits: ExportLimits, strict: bool
             ) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo], list[tuple[str, str]]]:
    """Parse and vet the central directory; the caller owns ``handle`` and the returned ZipFile."""
    size = handle.seek(0, io.SEEK_END)
    _check_declared_directory(path, handle, size, limits)
    try:
        zip_file = zipfile.ZipFile(handle)
    except _OPEN_ERRORS as exc:
        raise CorruptArchiveError(path, None, f"is corrupt or truncated: its central directory cannot be read "
                                  f"({show(str(exc))})", FRESH_EXPORT) from None
    try:
        infos = zip_file.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveLimitError(path, None, f"has {len(infos)} entries, over the limit of {limits.max_members}",
                                    "if this export is genuine, raise ExportLimits.max_members")
        _check_overlaps(path, infos, size)
        inventory: Inventory[zipfile.ZipInfo] = Inventory(path, limits, strict)
        for info in infos:
            _admit(path, inventory, info, limits)
        members, problems = inventory.finish()
    except BaseException:
        zip_file.close()
        raise
    return zip_file, members, problems


def open_zip_member(path: Path, zip_file: zipfile.ZipFile, info: zipfile.ZipInfo,
                    limits: ExportLimits) -> BinaryIO:
    """A buffered, metered reader of one member; corruption surfaces as ``CorruptArchiveError``."""
    try:
        inner = zip_file.open(info)
    except _OPEN_ERRORS as exc:
        raise CorruptArchiveError(path, info.filename, f"cannot be opened ({show(str(exc))})",
                                  FRESH_EXPORT) from None
    # zipfile never reads past compress_size, so the declared compressed size bounds the real one.
    meter = Meter(path, info.filename, limits, lambda: info.compress_size)
    return io.BufferedReader(_MeteredReader(path, info.filename, inner, meter), CHUNK_BYTES)


class _MeteredReader(io.RawIOBase):
    """Counts real bytes against the limits and turns decoder failures into one-line errors."""

    def __init__(self, path: Path, entry: str, inner: IO[bytes], meter: Meter) -> None:
        super().__init__()
        self._path = path
        self._entry = entry
        self._inner = inner
        self._meter = meter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            # Ask for at most one chunk: zipfile holds several copies of whatever it is asked for.
            data = self._inner.read(min(len(view), CHUNK_BYTES))
        except _READ_ERRORS as exc:
            raise CorruptArchiveError(self._path, self._entry, f"is corrupt or truncated ({show(str(exc))})",
                                      FRESH_EXPORT) from None
        self._meter.add(len(data))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


def _admit(path: Path, inventory: Inventory[zipfile.ZipInfo], info: zipfile.ZipInfo,
           limits: ExportLimits) -> None:
    raw = info.orig_filename  # ``filename`` is cut at a NUL byte, hiding the trick we must see
    name = inventory.name_of(raw, is_dir=info.is_dir())
    if name is None:
        return
    reason = _unsafe_reason(info)
    if reason is not None:
        inventory.unsafe(raw, reason)
        return
    inventory.declare(raw, info.file_size)
    check_ratio(path, raw, info.file_size, info.compress_size, limits)
    inventory.add(name, info)


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted entry; export again without a password"
    mode = info.external_attr >> 16
    if info.create_system == _UNIX and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return "symbolic link" if stat.S_ISLNK(mode) else f"not a regular file (mode {mode:o})"
    if info.compress_type not in _METHODS:
        return f"unsupported compression method {info.compress_type}"
    return None


def _check_overlaps(path: Path, infos: list[zipfile.ZipInfo], size: int) -> None:
    """Refuse entries whose data share bytes: the overlapping construction multiplies a small
    compressed kernel into many large entries while each one looks plausible on its own."""
    spans = sorted((info.header_offset, info.header_offset + _LOCAL_HEADER_SIZE + info.compress_size,
                    info.filename) for info in infos)
    bounds = [start for start, _, _ in spans[1:]] + [size]
    for (start, end, name), bound in zip(spans, bounds, strict=False):  # no spans, one bound: fine
        if start < 0 or end > bound:
            raise CorruptArchiveError(path, name, "overlaps another entry or runs past the end of the file "
                                      "(a zip-bomb construction)", FRESH_EXPORT)


def _check_declared_directory(path: Path, handle: BinaryIO, size: int, limits: ExportLimits) -> None:
    """Refuse a central directory that declares too many entries before zipfile loads all of it."""
    tail_size = min(size, _EOCD_SIZE + 0xFFFF)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    entries = directory_size = 0
    if 0 <= at <= len(tail) - _EOCD_SIZE:
        entries, directory_size = struct.unpack_from("<HI", tail, at + 10)
        if at >= 20 and tail[at - 20: at - 16] == _ZIP64_LOCATOR:
            handle.seek(struct.unpack_from("<Q", tail, at - 12)[0])
            record = handle.read(56)
            if len(record) == 56 and record[:4] == _ZIP64_EOCD:
                entries, directory_size = struct.unpack_from("<QQ", record, 32)
    handle.seek(0)
    if entries > limits.max_members or directory_size > limits.max_members * _DIRECTORY_BYTES_PER_ENTRY:
        raise ArchiveLimitError(path, None, f"declares {entries} entries in a {directory_size}-byte central "
                                f"directory, over the limit of {limits.max_members} entries",
                                "if this export is genuine, raise ExportLimits.max_members")
