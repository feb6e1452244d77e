"""Stored WARC members to WARC 1.0: only the version line and WARC-Date change, digests still verify
(checked by warcio), and corrupt, truncated, doubled or bomb-like members are refused."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from export.errors import ExportError
from export.warc10 import WarcConversionError, convert_member, rewrite_head
from export.warc_digest import DigestCheck

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "transfer"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def convert(member: bytes) -> tuple[bytes, bool]:
    out = io.BytesIO()
    checked = convert_member(member, out)
    return out.getvalue(), checked


def test_a_1_1_record_changes_only_its_version_line_and_date_fraction() -> None:
    converted, checked = convert(sample("resource-1.1.warc.gz"))
    original = gzip.decompress(sample("resource-1.1.warc.gz"))
    expected = (original.replace(b"WARC/1.1\r\n", b"WARC/1.0\r\n", 1)
                .replace(b"WARC-Date: 2025-03-01T15:04:05.123456Z\r\n", b"WARC-Date: 2025-03-01T15:04:05Z\r\n", 1))
    assert gzip.decompress(converted) == expected
    assert checked
    assert len(expected) == len(original) - 7


def test_output_is_one_gzip_member() -> None:
    converted, _ = convert(sample("response-1.1.warc.gz"))
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    inflater.decompress(converted)
    assert inflater.eof and inflater.unused_data == b""


def test_a_1_0_record_with_whole_seconds_is_copied_unchanged() -> None:
    converted, _ = convert(sample("resource-1.0.warc.gz"))
    assert gzip.decompress(converted) == gzip.decompress(sample("resource-1.0.warc.gz"))


def test_an_uncompressed_member_is_accepted_and_written_gzipped() -> None:
    converted, _ = convert(gzip.decompress(sample("resource-1.1.warc.gz")))
    assert gzip.decompress(converted).startswith(b"WARC/1.0\r\n")


@pytest.mark.parametrize("name", ["response-1.1.warc.gz", "request-1.1.warc.gz", "resource-1.1.warc.gz",
                                  "revisit-1.1.warc.gz", "no-digest-1.1.warc.gz", "resource-1.0.warc.gz"])
def test_converted_records_read_back_as_warc_1_0_with_verified_digests(name: str) -> None:
    converted, _ = convert(sample(name))
    records = []
    for record in ArchiveIterator(io.BytesIO(converted), check_digests=True):
        record.content_stream().read()
        records.append(record)
    assert len(records) == 1
    (record,) = records
    assert record.rec_headers.protocol == "WARC/1.0"
    assert record.digest_checker.passed is not False, record.digest_checker.problems
    assert record.rec_headers.get_header("WARC-Date") == "2025-03-01T15:04:05Z"


def test_1_1_only_revisit_fields_are_kept_as_they_were() -> None:
    converted = gzip.decompress(convert(sample("revisit-1.1.warc.gz"))[0])
    assert b"WARC-Refers-To-Target-URI: https://social.example.gov/api/v1/statuses/110\r\n" in converted
    assert b"WARC-Refers-To-Date: 2025-02-01T10:00:00.5Z\r\n" in converted  # not a 1.0 field: untouched
    assert b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n" in converted


def test_a_record_without_digests_is_converted_but_reported_unchecked() -> None:
    converted, checked = convert(sample("no-digest-1.1.warc.gz"))
    assert not checked
    assert gzip.decompress(converted).startswith(b"WARC/1.0\r\n")


@pytest.mark.parametrize(("name", "code", "words"), [
    ("truncated.warc.gz", "warc_corrupt", "truncated"),
    ("bad-digest.warc.gz", "warc_digest", "WARC-Block-Digest"),
    ("two-records.warc.gz", "warc_corrupt", "after the end of the record"),
])
def test_damaged_members_are_refused(name: str, code: str, words: str) -> None:
    with pytest.raises(WarcConversionError) as raised:
        convert(sample(name))
    assert raised.value.code == code
    assert words in str(raised.value)
    assert isinstance(raised.value, ExportError)


def test_a_flipped_compressed_byte_is_refused() -> None:
    member = bytearray(sample("resource-1.1.warc.gz"))
    member[len(member) // 2] ^= 0x55
    with pytest.raises(WarcConversionError):
        convert(bytes(member))


def test_two_gzip_members_are_refused() -> None:
    member = sample("resource-1.1.warc.gz")
    with pytest.raises(WarcConversionError, match="more than one gzip member"):
        convert(member + member)


def test_a_bomb_is_refused_without_inflating_it() -> None:
    head = b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Date: 2025-03-01T15:04:05Z\r\nContent-Length: 2\r\n\r\nok\r\n\r\n"
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    bomb = compressor.compress(head)
    for _ in range(64):  # 64 MiB of zeros after the record, about 64 KiB compressed
        bomb += compressor.compress(bytes(1024 * 1024))
    bomb += compressor.flush()
    tracemalloc.start()
    try:
        with pytest.raises(WarcConversionError, match="after the end of the record"):
            convert(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(bomb) + 4 * 1024 * 1024  # the member itself plus a few inflate chunks


@pytest.mark.parametrize(("head", "code"), [
    (b"WARC/0.17\r\nWARC-Date: 2025-03-01T15:04:05Z\r\nContent-Length: 0\r\n\r\n", "warc_version"),
    (b"WARC/1.1\r\nWARC-Date: 2025-03-01\r\nContent-Length: 0\r\n\r\n", "warc_date"),
    (b"WARC/1.1\r\nWARC-Date: 2025-03-01T15:04:05+07:00\r\nContent-Length: 0\r\n\r\n", "warc_date"),
    (b"WARC/1.1\r\nContent-Length: 0\r\n\r\n", "warc_corrupt"),
    (b"WARC/1.1\r\nWARC-Date: 2025-03-01T15:04:05Z\r\n\r\n", "warc_corrupt"),
    (b"WARC/1.1\r\nWARC-Date: 2025-03-01T15:04:05Z\r\nContent-Length: -1\r\n\r\n", "warc_corrupt"),
    (b"WARC/1.1\r\nWARC-Date: 2025-03-01T15:04:05Z\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
     "warc_corrupt"),
])
def test_headers_that_cannot_become_warc_1_0_are_refused(head: bytes, code: str) -> None:
    with pytest.raises(WarcConversionError) as raised:
        rewrite_head(head)
    assert raised.value.code == code


def test_a_nine_digit_fraction_is_truncated_and_field_spelling_kept() -> None:
    head = rewrite_head(b"WARC/1.1\r\nwarc-date: 2025-03-01T15:04:05.123456789Z\r\nContent-Length: 0\r\n\r\n")
    assert head.data == b"WARC/1.0\r\nwarc-date: 2025-03-01T15:04:05Z\r\nContent-Length: 0\r\n\r\n"


def test_something_that_is_not_warc_is_refused() -> None:
    with pytest.raises(WarcConversionError, match="neither gzip nor a WARC record"):
        convert(b"filedesc://example.arc 0.0.0.0 20250301150405 text/plain 70\n")


@pytest.mark.parametrize("declared", [
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    "SHA-256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
    "sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N",
    "sha1:qvTGHdzF6KLavt4PO0gs2a6pQ00=",
])
def test_digest_labels_and_encodings_readers_should_accept(declared: str) -> None:
    check = DigestCheck(declared)
    check.update(b"hello")
    assert check.checkable and check.matches()


def test_an_unknown_digest_algorithm_is_not_checkable() -> None:
    assert not DigestCheck("blake3:abcd").checkable
    assert not DigestCheck("sha256:not-a-digest").checkable
