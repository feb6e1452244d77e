"""Safe, streaming access to a production package's zip: nothing is extracted and no header size is trusted.

``zipfile`` reads the central directory; the entries' data is read here, from the raw bytes, so that
every limit holds however the headers lie: a name that could escape a directory, a duplicate, a
symlink, an encrypted or exotic entry, entries that overlap (the "overlapping files" zip bomb) or a
declared size or ratio past the limits refuse the whole package before anything is read. While an
entry is inflated its output is counted chunk by chunk and may never exceed what its header declared
(so the declared total is a real cap), nor ``max_ratio`` times its compressed size; its CRC-32 is
checked at the end. Memory stays bounded by one chunk.
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from archiver.collectors.export_archive_rules import UnsafeName, normalize_member_name
from export.verify_package.errors import UnreadableInput

CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_SUPPORTED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


@dataclass(frozen=True)
class Limits:
    """What a package may hold before it is refused unread."""

    max_entries: int = 2_000_000
    max_total_bytes: int = 1 << 40  # 1 TiB uncompressed
    max_ratio: int = 200  # deflate can reach ~1032:1 on zeros; real JSON, CSV and text stay far below 100:1
    ratio_floor: int = 1 << 20  # entries that expand to less than this are never ratio-checked
    max_name_length: int = 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """A file in the zip, as the central directory describes it (its sizes are upper bounds we enforce)."""

    name: str
    size: int
    compressed: int
    method: int
    crc: int
    header_offset: int
    end_offset: int  # where the next entry's local header, or the central directory, starts
    utf8: bool


def refuse(name: str, why: str) -> UnreadableInput:
    return UnreadableInput(f"zip entry {name[:200]!r} {why}; the package is refused unread")


def check_name(name: str, limits: Limits) -> None:
    """A bag-relative POSIX path that cannot land anywhere but inside the bag, on any system (the
    archive-path rules the export importers use), written in its one canonical form."""
    if not name or len(name) > limits.max_name_length:
        raise refuse(name, f"has an empty name or one longer than {limits.max_name_length} characters")
    try:
        canonical = normalize_member_name(name)
    except UnsafeName as exc:
        raise refuse(name, f"is unsafe: {exc}") from None
    if canonical != name.rstrip("/"):
        raise refuse(name, "is not in canonical form (an empty or '.' path component, or not Unicode NFC)")


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


class PackageZip:
    """The files of one zip by bag-relative name, read by streaming; use as a context manager."""

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        self.entries: dict[str, Entry] = {}
        try:
            self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise UnreadableInput(f"cannot open package {self.path}: {exc.strerror or exc}") from None
        try:
            self._read_directory()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> PackageZip:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.entries.values())

    def _read_directory(self) -> None:
        try:
            with zipfile.ZipFile(self._file) as directory:
                infos = directory.infolist()
                start_dir = int(getattr(directory, "start_dir", 0)) or self.path.stat().st_size
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, ValueError,
                EOFError, struct.error) as exc:
            raise UnreadableInput(f"{self.path} is not a readable zip file ({exc}); it may be truncated, "
                                  "damaged or not a production package") from None
        if len(infos) > self.limits.max_entries:
            raise UnreadableInput(f"{self.path} has {len(infos)} entries, more than the limit of "
                                  f"{self.limits.max_entries}; the package is refused unread")
        self._check_layout(infos, start_dir)
        folded: dict[str, str] = {}
        total = 0
        for info in infos:
            name = info.orig_filename
            check_name(name, self.limits)
            key = name.casefold()  # check_name admits only NFC names
            if key in folded:
                same = "twice" if folded[key] == name else f"twice (as {folded[key]!r}, differing only in case)"
                raise refuse(name, f"appears {same}, so extracting it would overwrite a file")
            folded[key] = name
            if _is_symlink(info):
                raise refuse(name, "is a symbolic link")
            if name.endswith("/"):
                continue
            total += self._check_entry(info)
            if total > self.limits.max_total_bytes:
                raise UnreadableInput(f"{self.path} declares more than {self.limits.max_total_bytes} bytes "
                                      "uncompressed in all; the package is refused unread")

    def _check_layout(self, infos: list[zipfile.ZipInfo], start_dir: int) -> None:
        """No two entries' data may overlap, and none may run into the central directory."""
        ordered = sorted(infos, key=lambda info: info.header_offset)
        self._ends: dict[str, int] = {}
        for position, info in enumerate(ordered):
            end = ordered[position + 1].header_offset if position + 1 < len(ordered) else start_dir
            minimum = _LOCAL_HEADER.size + len(_encoded_name(info)) + info.compress_size
            if info.header_offset < 0 or info.header_offset + minimum > end:
                raise refuse(info.orig_filename, "overlaps the next entry or the central directory "
                                                 "(a crafted zip)")
            self._ends[info.orig_filename] = end

    def _check_entry(self, info: zipfile.ZipInfo) -> int:
        name, limits = info.orig_filename, self.limits
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise refuse(name, "is encrypted")
        if info.compress_type not in _SUPPORTED_METHODS:
            raise refuse(name, f"uses compression method {info.compress_type}; only stored and deflate are "
                               "supported")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise refuse(name, "is stored uncompressed but declares two different sizes")
        if info.file_size > limits.ratio_floor and info.file_size > info.compress_size * limits.max_ratio:
            raise refuse(name, f"declares a compression ratio above {limits.max_ratio}:1 (a zip bomb?)")
        self.entries[name] = Entry(name=name, size=info.file_size, compressed=info.compress_size,
                                   method=info.compress_type, crc=info.CRC, header_offset=info.header_offset,
                                   end_offset=self._ends[name], utf8=bool(info.flag_bits & _UTF8_FLAG))
        return info.file_size

    def stream(self, name: str) -> Iterator[bytes]:
        """The entry's bytes in chunks of at most ``CHUNK``; raises UnreadableInput if it breaks a limit."""
        entry = self.entries[name]
        start = self._data_start(entry)
        if entry.method == zipfile.ZIP_STORED:
            yield from self._stored(entry, start)
        else:
            yield from self._inflated(entry, start)

    def read(self, name: str) -> bytes:
        return b"".join(self.stream(name))

    def _raw(self, entry: Entry, start: int) -> Iterator[bytes]:
        position, remaining = start, entry.compressed
        while remaining:
            self._file.seek(position)
            chunk = self._file.read(min(CHUNK, remaining))
            if not chunk:
                raise refuse(entry.name, "is cut short: the zip is truncated")
            position += len(chunk)
            remaining -= len(chunk)
            yield chunk

    def _data_start(self, entry: Entry) -> int:
        self._file.seek(entry.header_offset)
        header = self._file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise refuse(entry.name, "has no local header where the central directory says")
        fields = _LOCAL_HEADER.unpack(header)
        flags, method, name_length, extra_length = fields[2], fields[3], fields[9], fields[10]
        local_name = self._file.read(name_length).decode("utf-8" if flags & _UTF8_FLAG else "cp437", "replace")
        if local_name != entry.name or method != entry.method or flags & _ENCRYPTED_FLAG:
            raise refuse(entry.name, f"has a local header that disagrees with the central directory "
                                     f"(name {local_name[:200]!r}, method {method})")
        start = entry.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        if start + entry.compressed > entry.end_offset:
            raise refuse(entry.name, "overlaps the next entry (a crafted zip)")
        return start

    def _stored(self, entry: Entry, start: int) -> Iterator[bytes]:
        crc = 0
        for chunk in self._raw(entry, start):
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if crc != entry.crc:
            raise refuse(entry.name, "fails its CRC-32 check: the zip is damaged")

    def _inflated(self, entry: Entry, start: int) -> Iterator[bytes]:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        cap = min(entry.size, max(entry.compressed * self.limits.max_ratio, self.limits.ratio_floor))
        produced = crc = 0
        try:
            for chunk in self._raw(entry, start):
                if inflater.eof:
                    raise refuse(entry.name, "has data after the end of its compressed stream")
                for out in inflate(inflater, chunk):
                    produced += len(out)
                    if produced > cap:
                        raise refuse(entry.name, f"expands beyond {cap} bytes, more than its header declares or "
                                                 f"{self.limits.max_ratio}:1 (a zip bomb?)")
                    crc = zlib.crc32(out, crc)
                    yield out
        except zlib.error as exc:
            raise refuse(entry.name, f"is not valid deflate data ({exc}): the zip is damaged") from None
        if not inflater.eof or inflater.unused_data:
            raise refuse(entry.name, "has a compressed stream that is cut short or followed by other data")
        if produced != entry.size or crc != entry.crc:
            raise refuse(entry.name, f"inflates to {produced} bytes with CRC-32 {crc:08x}, but its header says "
                                     f"{entry.size} bytes, {entry.crc:08x}: the zip is damaged")


def inflate(inflater: zlib._Decompress, data: bytes | memoryview) -> Iterator[bytes]:
    """Everything ``data`` inflates to, in chunks of at most ``CHUNK`` (output pending inside zlib
    after a full chunk is drained too, so a chunk-sized output never hides the end of a stream)."""
    while True:
        out = inflater.decompress(data, CHUNK)
        if out:
            yield out
        data = inflater.unconsumed_tail
        if inflater.eof or (not data and len(out) < CHUNK):
            return


def _encoded_name(info: zipfile.ZipInfo) -> bytes:
    name = info.orig_filename
    if info.flag_bits & _UTF8_FLAG:
        return name.encode("utf-8")
    try:
        return name.encode("cp437")
    except UnicodeEncodeError:
        return name.encode("utf-8")
