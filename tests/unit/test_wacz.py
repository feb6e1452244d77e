"""WACZ 1.1.1 writer: every file hashes to what datapackage.json says, every CDXJ line points at its
record (re-read with warcio), the Ed25519 signature verifies, failures leave nothing behind, hostile
URLs stay one line each, and a large archive streams in bounded memory."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import json
import random
import tempfile
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.integrity.keys import Signer, key_id_for
from archiver.warc.exchange import HttpExchange, write_exchange
from archiver.warc.writer import WarcFile, WrittenRecord
from export.errors import ExportError
from export.production.wacz import WaczError, WaczPage, WaczWriter, surt

CREATED = datetime(2025, 3, 2, 9, 30, tzinfo=UTC)
CAPTURED = datetime(2025, 3, 1, 15, 4, 5, 123456, tzinfo=UTC)
URL = "https://social.example.gov/api/v1/statuses/110"
DOCUMENT = b'{"id":"110","text":"Pengumuman: layanan publik tutup | closed"}'
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "transfer"
PAGE = WaczPage(url=URL, ts="2025-03-01T15:04:05Z", title="Status 110", id="page-110")


def members_from(write: Callable[[WarcFile], list[WrittenRecord]], version: str = "1.1") -> list[bytes]:
    """Stored members exactly as Arsip's WARC writer makes them: one gzip member per record."""
    counter = itertools.count(1)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "sample.warc.gz"
        warc = WarcFile(path, version=version, date=CAPTURED,
                        record_ids=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>")
        written = [warc.warcinfo, *write(warc)]
        warc.close()
        data = path.read_bytes()
    return [data[r.offset:r.offset + r.length] for r in written]


def capture(warc: WarcFile) -> list[WrittenRecord]:
    exchange = HttpExchange(method="GET", url=URL, request_headers=(("Host", "social.example.gov"),),
                            request_body=b"", http_version="HTTP/1.1", status=200, reason="OK",
                            response_headers=(("Content-Type", "application/json; charset=utf-8"),),
                            body=DOCUMENT, body_path=None, started_at=CAPTURED)
    written = write_exchange(warc, exchange)
    resource = warc.write_resource("urn:arsip:record:r-110:version:1", DOCUMENT, date=CAPTURED,
                                   content_type="application/json", concurrent_to=[written.response.record_id])
    metadata = warc.write("metadata", "urn:arsip:record:r-110:version:1", b"via: test\r\n", date=CAPTURED,
                          content_type="application/warc-fields",
                          headers={"WARC-Refers-To": resource.record_id})
    return [written.response, written.request, resource, metadata]


def resources_only(urls: list[str]) -> Callable[[WarcFile], list[WrittenRecord]]:
    def write(warc: WarcFile) -> list[WrittenRecord]:
        return [warc.write_resource(url, DOCUMENT, date=CAPTURED, content_type="application/json") for url in urls]
    return write


def record_id(member: bytes) -> str:
    return next(ArchiveIterator(io.BytesIO(member))).rec_headers.get_header("WARC-Record-ID")


def write_wacz(path: Path, groups: list[tuple[list[bytes], WaczPage | None]], **options: object) -> WaczWriter:
    kwargs: dict = {"title": "Produksi 7", "description": "Records for *case 7*.", "created": CREATED,
                    "software": "Arsip test", **options}
    with WaczWriter(path, **kwargs) as wacz:
        for members, page in groups:
            wacz.add_records(members, page=page)
    return wacz


def index_lines(archive: zipfile.ZipFile) -> list[tuple[str, str, dict]]:
    text = archive.read("indexes/index.cdxj").decode("ascii")
    assert text.endswith("\n")
    lines = []
    for line in text[:-1].split("\n"):
        key, timestamp, block = line.split(" ", 2)
        lines.append((key, timestamp, json.loads(block)))
    return lines


@pytest.fixture
def signer() -> Signer:
    return Signer.from_seed(bytes(range(32)))


@pytest.fixture
def members() -> list[bytes]:
    return members_from(capture)


@pytest.fixture
def wacz_path(tmp_path: Path, members: list[bytes], signer: Signer) -> Path:
    path = tmp_path / "production.wacz"
    write_wacz(path, [(members, PAGE)], signer=signer)
    return path


def test_every_file_is_listed_with_the_hash_and_size_it_has(wacz_path: Path) -> None:
    with zipfile.ZipFile(wacz_path) as archive:
        package = json.loads(archive.read("datapackage.json"))
        names = {info.filename for info in archive.infolist()}
        for resource in package["resources"]:
            data = archive.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
            assert resource["name"] == resource["path"].rsplit("/", 1)[1]
    assert names == {"archive/data.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl", "datapackage.json",
                     "datapackage-digest.json"}
    assert {r["path"] for r in package["resources"]} == names - {"datapackage.json", "datapackage-digest.json"}
    assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
    assert package["created"] == package["modified"] == "2025-03-02T09:30:00.000000Z"
    assert (package["title"], package["software"]) == ("Produksi 7", "Arsip test")
    assert (package["mainPageUrl"], package["mainPageDate"]) == (URL, "2025-03-01T15:04:05Z")


def test_archive_is_stored_uncompressed_and_is_the_members_concatenated(wacz_path: Path,
                                                                        members: list[bytes]) -> None:
    with zipfile.ZipFile(wacz_path) as archive:
        info = archive.getinfo("archive/data.warc.gz")
        assert info.compress_type == zipfile.ZIP_STORED
        assert archive.read(info) == b"".join(members)
        assert archive.getinfo("indexes/index.cdxj").compress_type == zipfile.ZIP_DEFLATED


def test_warcio_rereads_every_record_and_each_index_entry_points_at_its_record(wacz_path: Path,
                                                                               members: list[bytes]) -> None:
    with zipfile.ZipFile(wacz_path) as archive:
        data = archive.read("archive/data.warc.gz")
        lines = index_lines(archive)
    reread = [(r.rec_type, r.rec_headers.get_header("WARC-Record-ID")) for r in ArchiveIterator(io.BytesIO(data))]
    assert [rid for _, rid in reread] == [record_id(m) for m in members]
    offsets = dict(zip(itertools.accumulate([0, *map(len, members)]), members, strict=False))
    for key, timestamp, entry in lines:
        start, length = int(entry["offset"]), int(entry["length"])
        stored = data[start:start + length]
        assert stored == offsets[start]
        assert entry["recordDigest"] == "sha256:" + hashlib.sha256(stored).hexdigest()
        record = next(ArchiveIterator(io.BytesIO(stored)))
        assert record.rec_headers.get_header("WARC-Record-ID") == record_id(offsets[start])
        assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
        assert timestamp == "20250301150405" and key == surt(entry["url"])
        assert entry["filename"] == "data.warc.gz"


def test_index_lists_responses_and_resources_sorted_but_not_requests_or_metadata(wacz_path: Path,
                                                                                members: list[bytes]) -> None:
    with zipfile.ZipFile(wacz_path) as archive:
        text = archive.read("indexes/index.cdxj").decode()
    lines = text.splitlines()
    assert lines == sorted(lines)
    response_digest = "sha256:" + hashlib.sha256(DOCUMENT).hexdigest()
    response_offset = len(members[0])
    assert lines == [
        'gov,example,social)/api/v1/statuses/110 20250301150405 {"url":"' + URL + '","mime":"application/json",'
        f'"status":"200","digest":"{response_digest}","length":"{len(members[1])}",'
        f'"offset":"{response_offset}","filename":"data.warc.gz",'
        f'"recordDigest":"sha256:{hashlib.sha256(members[1]).hexdigest()}"' + "}",
        'urn:arsip:record:r-110:version:1 20250301150405 {"url":"urn:arsip:record:r-110:version:1",'
        f'"mime":"application/json","status":"200","digest":"{response_digest}","length":"{len(members[3])}",'
        f'"offset":"{sum(map(len, members[:3]))}","filename":"data.warc.gz",'
        f'"recordDigest":"sha256:{hashlib.sha256(members[3]).hexdigest()}"' + "}",
    ]


def test_revisits_and_warc_1_0_records_from_other_writers_are_indexed(tmp_path: Path) -> None:
    revisit = (SAMPLES / "revisit-1.1.warc.gz").read_bytes()
    out = io.BytesIO()  # plain warcio: WARC/1.0, sha1 digests, 404
    writer = WARCWriter(out, gzip=True, warc_version="1.0")
    http = StatusAndHeaders("404 Not Found", [("Content-Type", "text/html")], protocol="HTTP/1.0")
    writer.write_record(writer.create_warc_record("http://www.Example.com/gone", "response",
                                                  payload=io.BytesIO(b"<p>gone</p>"), http_headers=http))
    path = tmp_path / "other.wacz"
    write_wacz(path, [([revisit, out.getvalue()], None)])
    with zipfile.ZipFile(path) as archive:
        lines = index_lines(archive)
        assert "mainPageUrl" not in json.loads(archive.read("datapackage.json"))
    gone, seen = lines
    assert gone[0] == "com,example)/gone" and gone[2]["status"] == "404" and gone[2]["mime"] == "text/html"
    assert gone[2]["digest"].startswith("sha1:")
    assert seen[2]["mime"] == "warc/revisit" and "status" not in seen[2]
    assert seen[2]["digest"] == "sha256:" + "ab" * 32


def test_pages_file_has_the_header_then_one_entry_per_page(tmp_path: Path) -> None:
    first, second = members_from(resources_only([URL])), members_from(resources_only([URL + "/context"]))
    later = WaczPage(url=URL + "/context", ts="2025-03-01T15:04:05.123456+00:00", title='Konteks "é"', id="p2")
    path = tmp_path / "pages.wacz"
    write_wacz(path, [(first, PAGE), (second, later)])
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("pages/pages.jsonl").decode("ascii").splitlines()
    assert json.loads(lines[0]) == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    assert [json.loads(line) for line in lines[1:]] == [
        {"id": "page-110", "url": URL, "ts": "2025-03-01T15:04:05Z", "title": "Status 110"},
        {"id": "p2", "url": URL + "/context", "ts": "2025-03-01T15:04:05.123456+00:00", "title": 'Konteks "é"'}]


def test_the_signature_verifies_with_the_embedded_ed25519_key(wacz_path: Path, signer: Signer) -> None:
    with zipfile.ZipFile(wacz_path) as archive:
        datapackage = archive.read("datapackage.json")
        digest = json.loads(archive.read("datapackage-digest.json"))
    expected = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    signed = digest["signedData"]
    assert digest["path"] == "datapackage.json" and digest["hash"] == signed["hash"] == expected
    assert signed["algorithm"] == "ed25519" and signed["version"] == "0.1.0"
    assert signed["created"] == json.loads(datapackage)["created"]
    public = base64.b64decode(signed["publicKey"])
    assert public == signer.public_key_bytes and signed["keyId"] == key_id_for(public) == signer.key_id
    key = Ed25519PublicKey.from_public_bytes(public)
    key.verify(base64.b64decode(signed["signature"]), expected.encode("ascii"))
    changed = "sha256:" + hashlib.sha256(datapackage + b" ").hexdigest()
    with pytest.raises(InvalidSignature):
        key.verify(base64.b64decode(signed["signature"]), changed.encode("ascii"))


def test_without_a_signer_the_digest_file_has_only_path_and_hash(tmp_path: Path, members: list[bytes]) -> None:
    path = tmp_path / "unsigned.wacz"
    summary = write_wacz(path, [(members, None)]).summary
    with zipfile.ZipFile(path) as archive:
        digest = json.loads(archive.read("datapackage-digest.json"))
        assert digest == {"path": "datapackage.json",
                          "hash": "sha256:" + hashlib.sha256(archive.read("datapackage.json")).hexdigest()}
    assert summary is not None and summary.key_id is None and summary.datapackage_hash == digest["hash"]
    assert (summary.records, summary.indexed, summary.pages, summary.size) == (5, 2, 0, path.stat().st_size)


def test_one_changed_byte_in_the_archive_fails_the_datapackage_hash(wacz_path: Path) -> None:
    with zipfile.ZipFile(wacz_path) as archive:
        data = bytearray(archive.read("archive/data.warc.gz"))
        listed = {r["path"]: r["hash"] for r in json.loads(archive.read("datapackage.json"))["resources"]}
    assert listed["archive/data.warc.gz"] == "sha256:" + hashlib.sha256(data).hexdigest()
    data[len(data) // 2] ^= 0x01
    assert listed["archive/data.warc.gz"] != "sha256:" + hashlib.sha256(data).hexdigest()


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path, members: list[bytes], signer: Signer) -> None:
    write_wacz(tmp_path / "a.wacz", [(members, PAGE)], signer=signer)
    write_wacz(tmp_path / "b.wacz", [(members, PAGE)], signer=signer)
    assert (tmp_path / "a.wacz").read_bytes() == (tmp_path / "b.wacz").read_bytes()


def test_an_exception_inside_with_leaves_nothing_behind(tmp_path: Path, members: list[bytes]) -> None:
    path = tmp_path / "broken.wacz"
    with pytest.raises(RuntimeError), WaczWriter(path, title="t", description="d", created=CREATED,
                                                 software="s") as wacz:
        wacz.add_records(members, page=PAGE)
        raise RuntimeError("collector failed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sample", ["truncated.warc.gz", "two-records.warc.gz"])
def test_a_corrupt_member_is_refused_and_nothing_is_written(tmp_path: Path, members: list[bytes],
                                                            sample: str) -> None:
    path = tmp_path / "corrupt.wacz"
    with pytest.raises(WaczError) as failure:
        write_wacz(path, [([*members, (SAMPLES / sample).read_bytes()], PAGE)])
    assert failure.value.code == "wacz_member" and "record 6" in str(failure.value)
    assert isinstance(failure.value, ExportError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("member", [
    b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 0\r\n\r\n\r\n\r\n",  # not gzipped
    gzip.compress(b"HTTP/1.1 200 OK\r\n\r\n"),
    gzip.compress(b"WARC/1.1\r\nno colon here\r\n\r\n"),
    gzip.compress(b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 9\r\n\r\nabc\r\n\r\n"),  # lies
])
def test_a_member_that_is_not_a_gzipped_warc_record_is_refused(tmp_path: Path, member: bytes) -> None:
    with pytest.raises(WaczError, match="record 1"):
        write_wacz(tmp_path / "x.wacz", [([member], None)])
    assert list(tmp_path.iterdir()) == []


def test_a_writer_refuses_to_continue_after_a_failed_group_or_once_closed(tmp_path: Path,
                                                                          members: list[bytes]) -> None:
    wacz = WaczWriter(tmp_path / "x.wacz", title="t", description="d", created=CREATED, software="s")
    with pytest.raises(WaczError):
        wacz.add_records([members[0], b"not gzip"])
    with pytest.raises(WaczError) as failure:
        wacz.close()
    assert failure.value.code == "wacz_state"
    closed = write_wacz(tmp_path / "y.wacz", [(members, None)])
    with pytest.raises(WaczError, match="already closed"):
        closed.add_records(members)


def test_an_empty_package_and_a_page_without_a_zone_are_refused(tmp_path: Path, members: list[bytes]) -> None:
    with pytest.raises(WaczError) as empty:
        write_wacz(tmp_path / "empty.wacz", [])
    assert empty.value.code == "wacz_empty"
    with pytest.raises(WaczError) as page:
        write_wacz(tmp_path / "page.wacz", [(members, WaczPage(URL, "2025-03-01T15:04:05", "t", "p"))])
    assert page.value.code == "wacz_page"
    assert list(tmp_path.iterdir()) == []


HOSTILE = [
    "https://social.example.gov/search?q=hello world&x=\"<b>\"",
    "https://bücher.example/ü/ścieżka?q=é",
    "https://example.com/" + "a" * 100_000,
    "javascript:alert(document.cookie) //x",
    "https://example.com/line\u2028separator\u0085next",
    "urn:arsip:record:r 1:version:1\\",
    "http://exa mple.com:99999/",
]


def test_hostile_urls_stay_one_json_escaped_line_each(tmp_path: Path) -> None:
    path = tmp_path / "hostile.wacz"
    write_wacz(path, [(members_from(resources_only(HOSTILE)), None)])
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("indexes/index.cdxj")
        data = archive.read("archive/data.warc.gz")
    assert raw.isascii() and len(raw.decode().splitlines()) == len(HOSTILE)
    with zipfile.ZipFile(path) as archive:
        lines = index_lines(archive)
    assert sorted(entry["url"] for _, _, entry in lines) == sorted(url.replace(" ", "%20") for url in HOSTILE)
    for key, timestamp, entry in lines:
        assert " " not in key and key == surt(entry["url"]) and len(timestamp) == 14
        record = next(ArchiveIterator(io.BytesIO(data[int(entry["offset"]):])))
        assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]


@pytest.mark.parametrize(("url", "key"), [
    ("https://www.Example.com/A/b?z=1&a=2#top", "com,example)/a/b?a=2&z=1"),
    ("http://www2.example.com", "com,example)/"),
    ("https://example.com:443/x/", "com,example)/x/"),
    ("https://example.com:8443/x", "com,example:8443)/x"),
    ("https://bücher.example/ü?q=é", "example,xn--bcher-kva)/%C3%BC?q=%C3%A9"),
    ("https://example.com/a b?c d", "com,example)/a%20b?c%20d"),
    ("urn:arsip:record:r-110:version:1", "urn:arsip:record:r-110:version:1"),
    ("javascript:alert(1) x", "javascript:alert(1)%20x"),
])
def test_index_keys_follow_the_players_surt(url: str, key: str) -> None:
    assert surt(url) == key


def test_an_index_larger_than_its_memory_budget_is_sorted_through_spilled_runs(tmp_path: Path) -> None:
    urls = [f"https://example.com/{n}" for n in random.Random(7).sample(range(10_000), 300)]
    members = members_from(resources_only(urls))
    write_wacz(tmp_path / "memory.wacz", [(members, None)])
    write_wacz(tmp_path / "spilled.wacz", [(members, None)], index_buffer_bytes=2_000)
    with zipfile.ZipFile(tmp_path / "memory.wacz") as a, zipfile.ZipFile(tmp_path / "spilled.wacz") as b:
        assert a.read("indexes/index.cdxj") == b.read("indexes/index.cdxj")
        lines = a.read("indexes/index.cdxj").decode().splitlines()
    assert len(lines) == 300 and lines == sorted(lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memory.wacz", "spilled.wacz"]


def test_py_wacz_validates_the_package_and_rejects_a_tampered_one(wacz_path: Path, tmp_path: Path) -> None:
    validator = pytest.importorskip("wacz.main")
    assert validator.main(["validate", "-f", str(wacz_path)]) == 0
    tampered = tmp_path / "tampered.wacz"
    with zipfile.ZipFile(wacz_path) as source, zipfile.ZipFile(tampered, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info, data.replace(b"Status 110", b"Status 111"))
    assert validator.main(["validate", "-f", str(tampered)]) == 1


def small_members(start: int, stop: int) -> Iterator[bytes]:
    """Resource members built on the fly (as WarcFile.write_resource lays them out), never all at once."""
    for n in range(start, stop):
        payload = b'{"id":"%d","text":"halo"}' % n
        digest = "sha256:" + hashlib.sha256(payload).hexdigest()
        head = (f"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{n:012d}>\r\n"
                f"WARC-Date: 2025-03-01T15:04:05.123456Z\r\nWARC-Target-URI: https://social.example.gov/api/v1/"
                f"statuses/{n}\r\nWARC-Payload-Digest: {digest}\r\nWARC-Block-Digest: {digest}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        yield compressor.compress(head.encode() + payload + b"\r\n\r\n") + compressor.flush()


@pytest.mark.slow
def test_fifty_thousand_records_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.wacz"
    tracemalloc.start()
    try:
        with WaczWriter(path, title="t", description="d", created=CREATED, software="s") as wacz:
            for start in range(0, 50_000, 1_000):
                page = WaczPage(f"https://social.example.gov/api/v1/statuses/{start}", "2025-03-01T15:04:05Z",
                                f"Status {start}", f"p{start}")
                wacz.add_records(small_members(start, start + 1_000), page=page)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 60 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert wacz.summary is not None and (wacz.summary.records, wacz.summary.indexed) == (50_000, 50_000)
    with zipfile.ZipFile(path) as archive:
        with archive.open("indexes/index.cdxj") as index:
            assert sum(1 for _ in index) == 50_000
        assert sum(1 for _ in ArchiveIterator(archive.open("archive/data.warc.gz"))) == 50_000
