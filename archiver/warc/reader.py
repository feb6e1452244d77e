"""Read WARC records back: one record by a single range read, or every record of a file in order."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archiver.errors import IntegrityError

CHUNK = 1024 * 1024


class RangeReader(Protocol):
    def get_range(self, key: str, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class ReadRecord:
    """A record's headers and, when asked for, its payload; plus whether its digests verified."""

    warc_type: str
    record_id: str
    offset: int
    length: int
    headers: dict[str, list[str]]
    http_status: int | None
    payload: bytes | None
    digest_problems: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def read_record_at(store: RangeReader, key: str, offset: int, length: int) -> ReadRecord:
    """Fetch one record with one range read and verify its digests on the way."""
    member = store.get_range(key, offset, length)
    records = list(iter_records(io.BytesIO(member), key=key, want_payload=lambda _t: True))
    if len(records) != 1:
        raise IntegrityError(f"{key} at offset {offset}: expected one WARC record, found {len(records)}",
                             code="warc_range")
    found = records[0]
    return ReadRecord(warc_type=found.warc_type, record_id=found.record_id, offset=offset, length=length,
                      headers=found.headers, http_status=found.http_status, payload=found.payload,
                      digest_problems=found.digest_problems)


def iter_records(stream: BinaryIO, *, key: str,
                 want_payload: Callable[[str], bool] = lambda warc_type: warc_type == "resource",
                 ) -> Iterator[ReadRecord]:
    """Stream every record of a WARC, verifying block and payload digests as the bytes pass.

    Payload bytes are kept only for record types ``want_payload`` accepts, so verifying a WARC full
    of media never holds a video in memory.
    """
    try:
        iterator = ArchiveIterator(stream, check_digests=True, arc2warc=False)
        for record in iterator:
            payload = _drain(record.content_stream(), want_payload(record.rec_type))
            iterator.read_to_end(record)  # completes the digest check and fixes the record length
            yield _to_read_record(record, payload, iterator.get_record_offset(), iterator.get_record_length())
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        raise IntegrityError(f"{key}: unreadable WARC data ({exc})", code="warc_corrupt") from None


def _drain(stream: BinaryIO, keep: bool) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        if keep:
            chunks.append(chunk)
    return b"".join(chunks) if keep else None


def _to_read_record(record: Any, payload: bytes | None, offset: int, length: int) -> ReadRecord:
    headers: dict[str, list[str]] = {}
    for name, value in record.rec_headers.headers:
        headers.setdefault(name.lower(), []).append(value)
    checker = record.digest_checker
    problems = tuple(str(p) for p in checker.problems)
    if checker.passed is False and not problems:
        problems = ("digest mismatch",)
    status = None
    if record.http_headers is not None and record.rec_type in ("response", "revisit"):
        status_code = record.http_headers.get_statuscode()
        status = int(status_code) if status_code and status_code.isdigit() else None
    return ReadRecord(warc_type=record.rec_type, record_id=record.rec_headers.get_header("WARC-Record-ID"),
                      offset=offset, length=length, headers=headers, http_status=status, payload=payload,
                      digest_problems=problems)
