"""Rewrite one stored WARC record as WARC 1.0 for transfer: version line and WARC-Date only, block untouched.

NARA accepts WARC 1.0 for permanent web records. Arsip stores WARC 1.1, which differs in what a
record may say, not in how it is framed, so a 1.1 record becomes 1.0 by changing two things:

* the version line ``WARC/1.1`` becomes ``WARC/1.0``;
* ``WARC-Date`` loses its decimal fraction, because 1.0 requires ``YYYY-MM-DDThh:mm:ssZ``. The exact
  capture time is not lost: the version's signed envelope (shipped alongside) carries it.

Every other header line and the block are copied byte for byte, so ``WARC-Record-ID``,
``WARC-Block-Digest`` and ``WARC-Payload-Digest`` still hold and the envelopes still point at the
records. The 1.1-only fields (``WARC-Refers-To-Target-URI``, ``WARC-Refers-To-Date``, only on revisit
records) are kept: WARC 1.0 tells readers to ignore fields they do not know, and dropping them would
lose what the record says about its source.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from export.errors import ExportError
from export.warc_digest import DigestCheck

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1024 * 1024
MAX_HEAD = 1024 * 1024
VERSIONS = (b"WARC/1.0", b"WARC/1.1")
_DATE = re.compile(rb"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?Z")
_HEAD_END = re.compile(rb"\n\r?\n")
TRAILER = b"\r\n\r\n"


class WarcConversionError(ExportError):
    """A stored record is corrupt, truncated or not WARC 1.0/1.1, so it cannot be transferred."""

    code = "warc_corrupt"


@dataclass(frozen=True)
class Head:
    """A record's rewritten version line and headers, its Content-Length and declared block digest."""

    data: bytes
    length: int
    block_digest: str | None


def convert_member(member: bytes, out: BinaryIO, *, gzip_level: int = 6) -> bool:
    """Write ``member`` (one record, gzip or plain) to ``out`` as one gzip member of WARC 1.0.

    The record is streamed in bounded chunks, so a member that inflates to gigabytes (or a gzip
    bomb) never sits in memory; anything after the record's end is refused, and a
    ``WARC-Block-Digest`` that does not match the block raises. Returns whether the block digest
    was checked (False when the record has none, or one in an algorithm we cannot compute).
    """
    chunks = _inflate(member)
    raw_head, rest = _read_head(chunks)
    head = rewrite_head(raw_head)
    digest = DigestCheck(head.block_digest) if head.block_digest else None
    compressor = zlib.compressobj(gzip_level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    out.write(compressor.compress(head.data))
    remaining, trailer = head.length, b""
    for data in _chain(rest, chunks):
        block = data[:remaining]
        if block:
            out.write(compressor.compress(block))
            if digest:
                digest.update(block)
            remaining -= len(block)
        trailer += data[len(block):]
        if len(trailer) > len(TRAILER):
            raise WarcConversionError("data after the end of the record (one record per stored member expected)")
    if remaining:
        raise WarcConversionError(f"record block is truncated: {remaining} of {head.length} bytes missing")
    if trailer != TRAILER:
        raise WarcConversionError("record does not end with CRLF CRLF after its block")
    if digest and digest.checkable and not digest.matches():
        raise WarcConversionError("block does not match its WARC-Block-Digest", code="warc_digest")
    out.write(compressor.compress(TRAILER) + compressor.flush())
    return bool(digest and digest.checkable)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _inflate(member: bytes) -> Iterator[bytes]:
    if not member.startswith(GZIP_MAGIC):
        if not member.startswith(b"WARC/"):
            raise WarcConversionError("stored member is neither gzip nor a WARC record")
        for start in range(0, len(member), CHUNK):
            yield member[start:start + CHUNK]
        return
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    pending = member
    try:
        while pending or not inflater.eof:
            data = inflater.decompress(pending, CHUNK)
            pending = inflater.unconsumed_tail
            if data:
                yield data
            elif not pending:
                break
        data = inflater.flush()
    except zlib.error as exc:
        raise WarcConversionError(f"gzip data is corrupt ({exc})") from None
    if data:
        yield data
    if not inflater.eof:
        raise WarcConversionError("gzip member is truncated")
    if inflater.unused_data:
        raise WarcConversionError("more than one gzip member (one record per stored member expected)")


def _read_head(chunks: Iterator[bytes]) -> tuple[bytes, bytes]:
    buffer = b""
    for data in chunks:
        buffer += data
        end = _HEAD_END.search(buffer)
        if end:
            return buffer[:end.end()], buffer[end.end():]
        if len(buffer) > MAX_HEAD:
            break
    raise WarcConversionError("no end of WARC headers found (truncated or not a WARC record)")


def rewrite_head(head: bytes) -> Head:
    """The 1.0 form of a record's version line and headers, with its Content-Length and block digest."""
    lines = head.splitlines(keepends=True)
    version, ending = _split_ending(lines[0])
    if version not in VERSIONS:
        raise WarcConversionError(f"unsupported WARC version line {version[:20]!r}", code="warc_version")
    out, length, dates, digest = [b"WARC/1.0" + ending], None, 0, None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        field = name.strip().lower() if colon and not line[:1].isspace() else b""
        if field == b"warc-date":
            dates += 1
            line = _date_line(name, value.strip(), line)
        elif field == b"content-length":
            if length is not None or not value.strip().isdigit():
                raise WarcConversionError("missing, repeated or malformed Content-Length")
            length = int(value.strip())
        elif field == b"warc-block-digest":
            digest = value.strip().decode("ascii", "replace")
        out.append(line)
    if length is None or dates != 1:
        raise WarcConversionError("a WARC record needs exactly one Content-Length and one WARC-Date")
    return Head(data=b"".join(out), length=length, block_digest=digest)


def _date_line(name: bytes, value: bytes, line: bytes) -> bytes:
    match = _DATE.fullmatch(value)
    if not match:
        raise WarcConversionError(f"WARC-Date {value[:40]!r} is not a UTC W3C-DTF timestamp", code="warc_date")
    if match.group(2) is None:
        return line  # already whole seconds: not a byte changes
    return name + b": " + match.group(1) + b"Z" + _split_ending(line)[1]


def _split_ending(line: bytes) -> tuple[bytes, bytes]:
    stripped = line.rstrip(b"\r\n")
    return stripped, line[len(stripped):]
