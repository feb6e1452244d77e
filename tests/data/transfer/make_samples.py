"""Regenerate the committed stored-WARC-member samples for the transfer tests.

Run from the repository root: ``.venv/bin/python -m tests.data.transfer.make_samples``. Each sample is
one stored member as Arsip archives it (one gzip member per record), written with fixed record ids
and a capture time with microseconds, so converting it to WARC 1.0 must truncate WARC-Date.

* ``response-1.1.warc.gz`` — an HTTP response record (block and payload digests differ).
* ``request-1.1.warc.gz`` — the matching request record, concurrent to the response.
* ``resource-1.1.warc.gz`` — a version document (``resource``), as capture writes it.
* ``revisit-1.1.warc.gz`` — a revisit with the 1.1-only WARC-Refers-To-Target-URI/-Date fields.
* ``no-digest-1.1.warc.gz`` — a resource record with no digest fields at all.
* ``resource-1.0.warc.gz`` — a record already in WARC 1.0 (whole-second date).
* ``truncated.warc.gz`` — ``resource-1.1.warc.gz`` cut short, as an interrupted copy is.
* ``bad-digest.warc.gz`` — ``resource-1.1.warc.gz`` with one block byte changed, re-gzipped: valid
  gzip, but the block no longer matches WARC-Block-Digest.
* ``two-records.warc.gz`` — two records in one member, which a stored member must never be.
"""

from __future__ import annotations

import gzip
import itertools
import tempfile
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from archiver.warc.exchange import HttpExchange, write_exchange
from archiver.warc.writer import WarcFile, WrittenRecord

HERE = Path(__file__).resolve().parent
CAPTURED = datetime(2025, 3, 1, 15, 4, 5, 123456, tzinfo=UTC)
URL = "https://social.example.gov/api/v1/statuses/110"
DOCUMENT = b'{"id":"110","text":"Pengumuman: layanan publik tutup | closed"}'


def _members(version: str, write: Callable[[WarcFile], list[WrittenRecord]]) -> list[bytes]:
    counter = itertools.count(1)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "sample.warc.gz"
        warc = WarcFile(path, version=version, date=CAPTURED,
                        record_ids=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>")
        written = write(warc)
        warc.close()
        data = path.read_bytes()
    return [data[r.offset:r.offset + r.length] for r in written]


def _exchange(warc: WarcFile) -> list[WrittenRecord]:
    exchange = HttpExchange(method="GET", url=URL, request_headers=(("Host", "social.example.gov"),),
                            request_body=b"", http_version="HTTP/1.1", status=200, reason="OK",
                            response_headers=(("Content-Type", "application/json"),), body=DOCUMENT,
                            body_path=None, started_at=CAPTURED)
    written = write_exchange(warc, exchange)
    return [written.response, written.request]


def _resource(warc: WarcFile) -> list[WrittenRecord]:
    return [warc.write_resource("urn:arsip:record:r-110:version:1", DOCUMENT, date=CAPTURED,
                                content_type="application/json")]


def _revisit(warc: WarcFile) -> list[WrittenRecord]:
    headers = {"WARC-Profile": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
               "WARC-Refers-To-Target-URI": URL, "WARC-Refers-To-Date": "2025-02-01T10:00:00.5Z",
               "WARC-Payload-Digest": "sha256:" + "ab" * 32}
    return [warc.write("revisit", URL, b"", date=CAPTURED, headers=headers)]


def _gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


def make_samples(target: Path = HERE) -> list[Path]:
    """Write every sample into ``target`` and return their paths."""
    response, request = _members("1.1", _exchange)
    (resource,) = _members("1.1", _resource)
    (revisit,) = _members("1.1", _revisit)
    (resource_10,) = _members("1.0", _resource)
    plain = gzip.decompress(resource)
    no_digest = b"".join(line for line in plain.split(b"\r\n\r\n", 1)[0].splitlines(keepends=True)
                         if not line.startswith((b"WARC-Block-Digest", b"WARC-Payload-Digest")))
    samples = {
        "response-1.1.warc.gz": response, "request-1.1.warc.gz": request, "resource-1.1.warc.gz": resource,
        "revisit-1.1.warc.gz": revisit, "resource-1.0.warc.gz": resource_10,
        "no-digest-1.1.warc.gz": _gzip(no_digest + b"\r\n\r\n" + plain.split(b"\r\n\r\n", 1)[1]),
        "truncated.warc.gz": resource[: len(resource) - 12],
        "bad-digest.warc.gz": _gzip(plain.replace(b"tutup", b"tutuP")),
        "two-records.warc.gz": _gzip(plain + plain),
    }
    paths = []
    for name, data in samples.items():
        (target / name).write_bytes(data)
        paths.append(target / name)
    return paths


if __name__ == "__main__":
    for written in make_samples():
        print(written)
