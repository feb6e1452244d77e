"""WARC writing: exact bytes (golden), one gzip member per record, digests, redaction, independent reading."""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.warc.exchange import HttpExchange, redact_request, write_exchange
from archiver.warc.reader import iter_records, read_record_at
from archiver.warc.writer import WarcFile

T = datetime(2025, 3, 1, 15, 4, 5, 123456, tzinfo=UTC)
URL = "https://social.example.gov/api/v1/accounts/1/statuses?limit=1&access_token=s3cret"


def ids() -> Iterator[str]:
    return (f"<urn:uuid:00000000-0000-4000-8000-{i:012d}>" for i in itertools.count(1))


def exchange(body: bytes = b"[]") -> HttpExchange:
    url, headers, redactions = redact_request(URL, [("Host", "social.example.gov"), ("Authorization", "Bearer s3cret"),
                                                    ("Accept", "application/json")])
    return HttpExchange(method="GET", url=url, request_headers=headers, request_body=b"", http_version="HTTP/1.1",
                        status=200, reason="OK", response_headers=(("Content-Type", "application/json"),
                                                                   ("Content-Length", str(len(body)))),
                        body=body, body_path=None, started_at=T, redactions=redactions)


def write_sample(path: Path, version: str) -> WarcFile:
    counter = ids()
    warc = WarcFile(path, version=version, info={"software": "Arsip/test", "operator": "City of Example"}, date=T,
                    record_ids=lambda: next(counter))
    written = write_exchange(warc, exchange())
    warc.write("resource", "urn:arsip:record:abc:version:1", b'{"a":1}', date=T, content_type="application/json",
               concurrent_to=[written.response.record_id])
    warc.close()
    return warc


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def expected_resource(version: str, date: str) -> bytes:
    block = b'{"a":1}'
    return (f"WARC/{version}\r\nWARC-Type: resource\r\n"
            "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000004>\r\n"
            f"WARC-Date: {date}\r\nWARC-Target-URI: urn:arsip:record:abc:version:1\r\n"
            "WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
            f"WARC-Payload-Digest: {sha(block)}\r\nWARC-Block-Digest: {sha(block)}\r\n"
            "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n").encode() + block + b"\r\n\r\n"


def members(data: bytes) -> list[bytes]:
    """Split a .warc.gz into its gzip members with zlib, independently of the writer."""
    found = []
    while data:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        found.append(decompressor.decompress(data))
        data = decompressor.unused_data
    return found


@pytest.mark.parametrize("version, date", [("1.1", "2025-03-01T15:04:05.123456Z"), ("1.0", "2025-03-01T15:04:05Z")])
def test_records_are_exact_bytes_one_gzip_member_each(tmp_path: Path, version: str, date: str) -> None:
    write_sample(tmp_path / "s.warc.gz", version)
    parts = members((tmp_path / "s.warc.gz").read_bytes())
    assert [p.split(b"\r\n")[1] for p in parts] == [b"WARC-Type: warcinfo", b"WARC-Type: response",
                                                     b"WARC-Type: request", b"WARC-Type: resource"]
    assert parts[3] == expected_resource(version, date)
    response_block = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
    assert f"WARC-Block-Digest: {sha(response_block)}".encode() in parts[1]
    assert f"WARC-Payload-Digest: {sha(b'[]')}".encode() in parts[1]
    assert parts[0].startswith(f"WARC/{version}\r\n".encode())


def test_credentials_are_redacted_and_the_redaction_is_declared(tmp_path: Path) -> None:
    write_sample(tmp_path / "s.warc.gz", "1.1")
    text = gzip.decompress((tmp_path / "s.warc.gz").read_bytes())
    assert b"s3cret" not in text
    assert b"Authorization: Bearer REDACTED" in text
    assert b"access_token=REDACTED" in text
    assert b"WARC-Arsip-Redacted: header:Authorization; query:access_token" in text


def test_field_placement_follows_warc_1_1(tmp_path: Path) -> None:
    """No payload digest on warcinfo/metadata; no Refers-To on response, resource or request."""
    path = tmp_path / "s.warc.gz"
    warc = WarcFile(path, version="1.1", date=T)
    response = write_exchange(warc, exchange()).response
    warc.write("metadata", "urn:x", b"via: test\r\n", date=T, content_type="application/warc-fields",
               headers={"WARC-Refers-To": response.record_id})
    warc.close()
    for record in iter_records(path.open("rb"), key="s"):
        if record.warc_type in ("warcinfo", "metadata"):
            assert record.header("warc-payload-digest") is None
        if record.warc_type in ("response", "resource", "request"):
            assert record.header("warc-refers-to") is None
        assert record.header("warc-block-digest") is not None


def test_every_record_reads_back_with_one_range_read(tmp_path: Path) -> None:
    path = tmp_path / "s.warc.gz"
    warc = WarcFile(path, version="1.1", date=T)
    written = [warc.write("resource", f"urn:r:{i}", f'{{"n":{i}}}'.encode(), date=T, content_type="application/json")
               for i in range(5)]
    warc.close()

    class Store:
        def get_range(self, key: str, offset: int, length: int) -> bytes:
            with path.open("rb") as handle:
                handle.seek(offset)
                return handle.read(length)

    for i, record in enumerate(written):
        found = read_record_at(Store(), "s", record.offset, record.length)
        expected = (record.record_id, f'{{"n":{i}}}'.encode(), ())
        assert (found.record_id, found.payload, found.digest_problems) == expected


def test_an_independent_reader_accepts_the_file(tmp_path: Path) -> None:
    write_sample(tmp_path / "s.warc.gz", "1.1")
    with (tmp_path / "s.warc.gz").open("rb") as handle:
        records = list(ArchiveIterator(handle, check_digests="raise"))
    assert len(records) == 4


def test_one_changed_byte_fails_the_digest(tmp_path: Path) -> None:
    write_sample(tmp_path / "s.warc.gz", "1.1")
    parts = members((tmp_path / "s.warc.gz").read_bytes())
    parts[3] = parts[3].replace(b'{"a":1}', b'{"a":2}')
    tampered = b"".join(gzip.compress(p) for p in parts)
    problems = [r.digest_problems for r in iter_records(io.BytesIO(tampered), key="t")]
    assert problems[:3] == [(), (), ()]
    assert problems[3] and "digest failed" in problems[3][0]


@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_fast_resource_writer_matches_warcio_byte_for_byte(tmp_path: Path, version: str) -> None:
    payload = '{"text":"Jalan Merdeka ditutup — \\u00e9 ü 👍"}'.encode()
    outputs = []
    for name, fast in (("general", False), ("fast", True)):
        counter = ids()
        (tmp_path / name).mkdir()
        warc = WarcFile(tmp_path / name / "x.warc.gz", version=version, info={"software": "x"}, date=T,
                        record_ids=lambda counter=counter: next(counter))
        if fast:
            written = warc.write_resource("urn:r:1", payload, date=T, content_type="application/json",
                                          concurrent_to=["<urn:uuid:a>", "<urn:uuid:b>"])
        else:
            written = warc.write("resource", "urn:r:1", payload, date=T, content_type="application/json",
                                 concurrent_to=["<urn:uuid:a>", "<urn:uuid:b>"])
        warc.close()
        outputs.append((members((tmp_path / name / "x.warc.gz").read_bytes())[1], written))
    (general, general_written), (fast, fast_written) = outputs
    assert fast == general
    assert fast_written == general_written


def test_warc_file_refuses_to_overwrite(tmp_path: Path) -> None:
    write_sample(tmp_path / "s.warc.gz", "1.1")
    with pytest.raises(FileExistsError):
        WarcFile(tmp_path / "s.warc.gz", date=T)
