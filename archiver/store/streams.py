"""Bounded-memory stream plumbing shared by the stores: hashing copies, part scans, file slices."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

CHUNK_SIZE = 1024 * 1024
# Small objects stay in memory while spooling; anything larger goes to a temporary file so a
# multi-gigabyte WARC never sits in RAM.
SPOOL_MEMORY_LIMIT = CHUNK_SIZE


def copy_hashing(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[int, str]:
    """Copy ``source`` to ``write`` chunk by chunk; return (bytes copied, sha256 hex)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def hash_file(path: str | os.PathLike[str]) -> str:
    """Return the sha256 hex digest of a file, reading it in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class SeekableSource:
    """A stream we may read twice: the caller's own (if seekable) or our spool of it."""

    stream: BinaryIO
    start: int
    size: int
    owned: bool

    def close(self) -> None:
        if self.owned:
            self.stream.close()


def seekable_source(stream: BinaryIO) -> SeekableSource:
    """Make ``stream`` re-readable: use it in place when it can seek, else spool it.

    S3 wants the object's sha256 in its metadata at upload start, so the bytes must be read
    once to hash and once to send; spooling to a temporary file keeps that in bounded memory.
    """
    if _can_seek(stream):
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
        return SeekableSource(stream, start, end - start, owned=False)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_LIMIT)  # noqa: SIM115 - closed by owner
    try:
        size, _ = copy_hashing(stream, spool.write)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return SeekableSource(spool, 0, size, owned=True)  # type: ignore[arg-type]


def _can_seek(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


@dataclass(frozen=True)
class PartScan:
    """Digests of a whole object and of each fixed-size part of it, from one read."""

    sha256: bytes
    part_sha256: tuple[bytes, ...]


def scan_parts(source: SeekableSource, part_size: int) -> PartScan:
    """Hash the object and each ``part_size`` slice of it in a single pass."""
    source.stream.seek(source.start)
    whole = hashlib.sha256()
    parts: list[bytes] = []
    remaining = source.size
    while remaining > 0 or not parts:
        part = hashlib.sha256()
        left_in_part = min(part_size, remaining)
        while left_in_part > 0:
            chunk = source.stream.read(min(CHUNK_SIZE, left_in_part))
            if not chunk:
                raise OSError(f"stream ended {left_in_part} bytes early while hashing; it changed "
                              "while being stored")
            whole.update(chunk)
            part.update(chunk)
            left_in_part -= len(chunk)
        parts.append(part.digest())
        remaining -= min(part_size, remaining)
    return PartScan(whole.digest(), tuple(parts))


class SliceReader(io.RawIOBase):
    """A seekable window ``[start, start+length)`` over a shared seekable stream.

    Handing S3 a window instead of ``bytes`` lets botocore sign and send a part while only
    ever holding a chunk of it in memory. It exposes no ``fileno`` (botocore would measure the
    whole underlying file) and no ``__len__`` (an empty window would be falsy).
    """

    def __init__(self, stream: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._stream = stream
        self._start = start
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, min(self._length, base + offset))
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._length - self._pos)
        if wanted <= 0:
            return 0
        self._stream.seek(self._start + self._pos)
        data = self._stream.read(wanted)
        view = memoryview(buffer)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


class ReadableBody(io.RawIOBase):
    """A raw stream over anything with ``read(n)`` (botocore's StreamingBody), for BufferedReader.

    ``translate`` turns a transport error into the error to raise instead, or returns None to
    let it propagate unchanged.
    """

    def __init__(self, body: Any, translate: Callable[[Exception], Exception | None]) -> None:
        super().__init__()
        self._body = body
        self._translate = translate

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._body.read(len(buffer))
        except Exception as err:
            replacement = self._translate(err)
            if replacement is None:
                raise
            raise replacement from err
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()
