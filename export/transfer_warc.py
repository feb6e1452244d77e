"""The transfer's WARC 1.0 files, ``<identifier>-00001.warc.gz`` onwards, rolled over between records."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from archiver.errors import IntegrityError
from archiver.store.streams import hash_file
from archiver.warc.reader import iter_records
from archiver.warc.writer import WarcFile
from export.errors import ExportError
from export.text import visible
from export.warc10 import WarcConversionError, convert_member


@dataclass(frozen=True)
class FinishedWarc:
    """A closed WARC file: its name, SHA-256 and how many transfer records it holds."""

    name: str
    sha256: str
    records: int


class WarcSeries:
    """Writes each transfer record's stored members, converted to WARC 1.0, into the current file.

    A record is never split across files. A file passes ``max_bytes`` only when its single record is
    larger than that: a record that would push a file over is moved to a new file.

    Each member's ``WARC-Block-Digest`` is checked while it is converted; the block is copied
    unchanged, so its payload digest holds when the block digest does. A record with a member whose
    block digest cannot be checked (absent, or an unknown algorithm) is read back with warcio
    instead, which checks whatever digests it has (about 0.5 ms a record, so not for every one).
    """

    def __init__(self, directory: Path, identifier: str, *, max_bytes: int, info: Mapping[str, str],
                 date: datetime, on_finish: Callable[[FinishedWarc], None]) -> None:
        self.directory, self.identifier, self.max_bytes = directory, identifier, max_bytes
        self.info, self.date, self.on_finish = dict(info), date, on_finish
        self.names: list[str] = []
        self._out: BinaryIO | None = None
        self._path = directory
        self._info_end = 0
        self._records = 0

    def add(self, record_id: str, members: Sequence[bytes]) -> str:
        """Append one record's members; return the name of the file that holds them."""
        out = self._current()
        start = out.tell()
        checked = self._convert(record_id, members, out)
        if out.tell() > self.max_bytes and start > self._info_end:
            out.seek(start)
            out.truncate()
            self._finish()
            out = self._current()
            start = out.tell()
            checked = self._convert(record_id, members, out)
        if not checked:
            self._verify(record_id, start, len(members))
        self._records += 1
        return self._path.name

    def close(self) -> None:
        if self._out is not None:
            self._finish()

    def abort(self) -> None:
        """Close the open file without finishing it (the package is being abandoned)."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def _current(self) -> BinaryIO:
        if self._out is None:
            name = f"{self.identifier}-{len(self.names) + 1:05d}.warc.gz"
            self._path = self.directory / name
            record_id = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:arsip:transfer:{self.identifier}/{name}')}>"
            WarcFile(self._path, version="1.0", info=self.info, date=self.date, record_ids=lambda: record_id).close()
            self._out = open(self._path, "r+b")  # noqa: SIM115 - closed by _finish()
            self._info_end = self._out.seek(0, os.SEEK_END)
            self._records = 0
            self.names.append(name)
        return self._out

    def _finish(self) -> None:
        assert self._out is not None
        self._out.close()
        self._out = None
        self.on_finish(FinishedWarc(name=self._path.name, sha256=hash_file(self._path), records=self._records))

    def _convert(self, record_id: str, members: Sequence[bytes], out: BinaryIO) -> bool:
        """Convert every member; True when each one's block digest was checked on the way."""
        checked = True
        for number, member in enumerate(members, start=1):
            if not isinstance(member, bytes | bytearray | memoryview):
                raise ExportError(f"record {visible(record_id, limit=200)}: WARC member {number} is not bytes",
                                  code="warc_corrupt")
            try:
                checked = convert_member(bytes(member), out) and checked
            except WarcConversionError as exc:
                raise ExportError(f"record {visible(record_id, limit=200)}: stored WARC member {number}: {exc}",
                                  code=exc.code) from None
        return checked

    def _verify(self, record_id: str, start: int, expected: int) -> None:
        assert self._out is not None
        self._out.flush()
        where = f"record {visible(record_id, limit=200)} in {self._path.name}"
        try:
            with open(self._path, "rb") as stream:
                stream.seek(start)
                found = list(iter_records(stream, key=self._path.name, want_payload=lambda _type: False))
        except IntegrityError as exc:
            raise ExportError(f"{where}: converted WARC does not read back ({exc})", code="warc_corrupt") from None
        if len(found) != expected:
            raise ExportError(f"{where}: wrote {expected} WARC records, read back {len(found)}", code="warc_corrupt")
        for read in found:
            if read.digest_problems:
                raise ExportError(f"{where}: WARC record {visible(read.record_id)} fails its digest check "
                                  f"({'; '.join(read.digest_problems)}); the stored member is corrupt",
                                  code="warc_digest")
