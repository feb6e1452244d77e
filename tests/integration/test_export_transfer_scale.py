"""A 100,000-record NARA transfer streams through in bounded memory and still validates as a bag."""

from __future__ import annotations

import csv
import hashlib
import tracemalloc
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import bagit
import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.integrity.envelope import Envelope, WarcRef, sign_envelope
from archiver.integrity.keys import Signer
from export.transfer import TransferPackage, TransferRecord, write_transfer_package

RECORDS = 100_000
SIGNER = Signer.from_seed(bytes(range(32)))
CAPTURED = datetime(2025, 3, 1, 15, 4, 5, 123456, tzinfo=UTC)


def stored_member(number: int) -> tuple[bytes, WarcRef]:
    """A version-document record as capture stores it: WARC 1.1, sha256 digests, its own gzip member."""
    body = b'{"id":"%d","text":"Terima kasih atas informasinya | thanks"}' % number
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    record_id = f"<urn:uuid:{uuid.UUID(int=number)}>"
    head = (f"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: {record_id}\r\n"
            f"WARC-Date: 2025-03-01T15:04:05.123456Z\r\nWARC-Target-URI: urn:arsip:record:r-{number}:version:1\r\n"
            f"WARC-Payload-Digest: {digest}\r\nWARC-Block-Digest: {digest}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    member = compressor.compress(head + body + b"\r\n\r\n") + compressor.flush()
    return member, WarcRef(key="warc/run.warc.gz", offset=0, length=len(member), record_id=record_id, digest=digest)


def records(count: int) -> Iterator[TransferRecord]:
    for number in range(count):
        member, ref = stored_member(number)
        record_id = f"r-{number:06d}"
        envelope = Envelope(log_index=number, record_id=record_id, platform="mastodon", platform_id=str(number),
                            account_id="acct-1", kind="comment", version=1, state="present", reason=None,
                            detection=None, content_sha256=ref.digest[7:], captured_at=CAPTURED, run_id="run-1",
                            source="api", version_ref=ref, evidence=(), previous=None)
        yield TransferRecord(record_id=record_id, platform="mastodon", platform_id=str(number), kind="comment",
                             title=f"Comment {number}", description="Public comment", creator="@warga@example",
                             created=date(2025, 3, 1), rights="Public domain", warc_members=[member],
                             envelopes=[sign_envelope(envelope, SIGNER).to_line()])


def transfer(directory: Path, count: int) -> TransferPackage:
    return write_transfer_package(directory, identifier="NARA-2025-0100", source_organization="Agency",
                                  bagging_date=date(2025, 3, 2), records=records(count), max_warc_bytes=10_000_000)


def traced_peak(directory: Path, count: int) -> int:
    tracemalloc.start()
    try:
        transfer(directory, count)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_number_of_records(tmp_path: Path) -> None:
    small, large = traced_peak(tmp_path / "small", 1_000), traced_peak(tmp_path / "large", 10_000)
    assert large < 8 * 1024 * 1024, f"peak traced memory {large / 2**20:.1f} MiB"
    assert large - small < 512 * 1024, f"10x the records took {(large - small) / 1024:.0f} KiB more"


@pytest.mark.slow
def test_a_hundred_thousand_records_make_a_valid_bag(tmp_path: Path) -> None:
    package = transfer(tmp_path / "bag", RECORDS)
    assert len(package.warc_files) > 1
    bagit.Bag(str(package.path)).validate()
    with open(package.path / "data" / "metadata.csv", encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream, delimiter="|"))
    assert len(rows) == 1 + RECORDS + 2
    assert [row[1] for row in rows[1:RECORDS + 1]] == [f"r-{n:06d}" for n in range(RECORDS)]
    with open(package.path / package.warc_files[-1], "rb") as stream:
        found = [(r.rec_headers.protocol, r.digest_checker.passed)
                 for r in ArchiveIterator(stream, check_digests=True) if r.content_stream().read() is not None]
    assert {protocol for protocol, _ in found} == {"WARC/1.0"} and all(ok is not False for _, ok in found)
