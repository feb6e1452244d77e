"""NARA transfer packages: a valid BagIt 1.0 bag of WARC 1.0 files (re-read and digest-checked by warcio),
signed envelopes and a pipe-delimited CSV listing every payload file; hostile values stay in the CSV,
damaged input names its record and leaves nothing behind."""

from __future__ import annotations

import csv
import gzip
import hashlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import bagit
import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.integrity.envelope import Envelope, WarcRef, sign_envelope
from archiver.integrity.keys import Signer
from archiver.warc.exchange import HttpExchange, write_exchange
from archiver.warc.writer import WarcFile
from export.bag import validate_bag
from export.errors import ExportError
from export.transfer import TransferPackage, TransferRecord, write_transfer_package
from export.transfer_csv import COLUMNS

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "transfer"
SIGNER = Signer.from_seed(bytes(range(32)))
CAPTURED = datetime(2025, 3, 1, 15, 4, 5, 123456, tzinfo=UTC)
BAGGED = date(2025, 3, 2)
HOSTILE_ID = "../../etc/passwd\n|x\x00y\r\n\"q\""


def stored_members(scratch: Path, number: int, body: bytes = b'{"text":"hello"}') -> tuple[list[bytes], WarcRef]:
    """A record's response, request and version-document members, as capture stores them (WARC 1.1)."""
    counter = itertools.count(1)
    path = scratch / f"stored-{number}.warc.gz"
    warc = WarcFile(path, version="1.1", date=CAPTURED,
                    record_ids=lambda: f"<urn:uuid:00000000-0000-4000-{number:04d}-{next(counter):012d}>")
    url = f"https://social.example.gov/api/v1/statuses/{number}"
    exchange = HttpExchange(method="GET", url=url, request_headers=(("Host", "social.example.gov"),),
                            request_body=b"", http_version="HTTP/1.1", status=200, reason="OK",
                            response_headers=(("Content-Type", "application/json"),), body=body, body_path=None,
                            started_at=CAPTURED)
    written = write_exchange(warc, exchange)
    document = warc.write_resource(f"urn:arsip:record:{number}:version:1", body, date=CAPTURED,
                                   content_type="application/json", concurrent_to=[written.response.record_id])
    warc.close()
    data = path.read_bytes()
    members = [data[r.offset:r.offset + r.length] for r in (written.response, written.request, document)]
    ref = WarcRef(key=f"warc/run-{number}.warc.gz", offset=document.offset, length=document.length,
                  record_id=document.record_id, digest=document.block_digest)
    return members, ref


def envelope_line(record_id: str, number: int, ref: WarcRef, version: int = 1) -> bytes:
    envelope = Envelope(log_index=number * 10 + version, record_id=record_id, platform="mastodon",
                        platform_id=str(number), account_id="acct-1", kind="comment", version=version,
                        state="present", reason=None, detection=None, content_sha256="ab" * 32,
                        captured_at=CAPTURED, run_id="run-1", source="api", version_ref=ref, evidence=(),
                        previous=None)
    return sign_envelope(envelope, SIGNER).to_line()


def transfer_record(scratch: Path, number: int, record_id: str | None = None, **changes: object) -> TransferRecord:
    record_id = record_id or f"rec-{number:04d}"
    members, ref = stored_members(scratch, number)
    record = TransferRecord(record_id=record_id, platform="mastodon", platform_id=str(number), kind="comment",
                            title=f"Comment {number} on the flood notice", description="Public comment",
                            creator="@warga@social.example", created=date(2025, 3, 1), rights="Public domain",
                            warc_members=members, envelopes=[envelope_line(record_id, number, ref)])
    return replace(record, **changes)  # type: ignore[arg-type]


def build(tmp_path: Path, records: Sequence[TransferRecord] | Iterator[TransferRecord], name: str = "bag",
          **options: object) -> TransferPackage:
    return write_transfer_package(tmp_path / name, identifier="NARA-2025-0001",
                                  source_organization="U.S. Example Agency", bagging_date=BAGGED,
                                  records=records, **options)  # type: ignore[arg-type]


def three(tmp_path: Path) -> list[TransferRecord]:
    return [transfer_record(tmp_path, n) for n in range(1, 4)]


def read_csv(package: TransferPackage) -> list[list[str]]:
    with open(package.path / "data" / "metadata.csv", encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream, delimiter="|"))


def manifest(package: TransferPackage, algorithm: str = "sha256") -> dict[str, str]:
    lines = (package.path / f"manifest-{algorithm}.txt").read_text(encoding="utf-8").splitlines()
    return {path: digest for digest, path in (line.split(maxsplit=1) for line in lines)}


def warc_records(path: Path) -> list[tuple[str, str, str | None, str, bool | None]]:
    """(protocol, type, record id, date, digests passed) of every record, with payloads read through."""
    found = []
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, check_digests=True):
            record.content_stream().read()
            headers = record.rec_headers
            found.append((headers.protocol, record.rec_type, headers.get_header("WARC-Record-ID"),
                          headers.get_header("WARC-Date"), record.digest_checker.passed))
    return found


def test_package_is_a_valid_bagit_1_0_bag_with_its_bag_info(tmp_path: Path) -> None:
    package = build(tmp_path, three(tmp_path))
    bag = bagit.Bag(str(package.path))
    bag.validate()
    assert (package.path / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    assert bag.info["External-Identifier"] == "NARA-2025-0001"
    assert bag.info["Source-Organization"] == "U.S. Example Agency"
    assert bag.info["Bagging-Date"] == "2025-03-02"
    assert "3 permanent records (3 versions)" in bag.info["External-Description"]
    assert bag.info["Payload-Oxum"] == package.payload_oxum == f"{package.payload_bytes}.{package.files}"
    assert sorted(manifest(package)) == sorted(manifest(package, "sha512")) == [
        "data/envelopes/NARA-2025-0001.jsonl", "data/metadata.csv", "data/warc/NARA-2025-0001-00001.warc.gz"]
    assert package.files == 3
    assert package.payload_bytes == sum((package.path / p).stat().st_size for p in manifest(package))
    assert package.warc_files == ("data/warc/NARA-2025-0001-00001.warc.gz",)


def test_every_warc_record_reads_back_as_warc_1_0_with_verified_digests(tmp_path: Path) -> None:
    records = three(tmp_path)
    package = build(tmp_path, records)
    found = [r for name in package.warc_files for r in warc_records(package.path / name)]
    assert {protocol for protocol, *_ in found} == {"WARC/1.0"}
    assert all(passed is not False for *_, passed in found)
    assert [kind for _, kind, *_ in found] == ["warcinfo"] + ["response", "request", "resource"] * 3
    stored_ids = {gzip.decompress(m).split(b"WARC-Record-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
                  for r in records for m in r.warc_members}
    assert {record_id for _, kind, record_id, *_ in found if kind != "warcinfo"} == stored_ids
    assert {when for _, kind, _, when, _ in found if kind != "warcinfo"} == {"2025-03-01T15:04:05Z"}


def test_sample_members_of_every_type_transfer_with_their_digests(tmp_path: Path) -> None:
    members = [(SAMPLES / f"{name}.warc.gz").read_bytes()
               for name in ("response-1.1", "request-1.1", "resource-1.1", "revisit-1.1", "no-digest-1.1")]
    record = replace(transfer_record(tmp_path, 1), warc_members=members)
    package = build(tmp_path, [record])
    found = warc_records(package.path / package.warc_files[0])
    assert [kind for _, kind, *_ in found] == ["warcinfo", "response", "request", "resource", "revisit", "resource"]
    assert all(protocol == "WARC/1.0" and passed is not False for protocol, *_, passed in found)


def test_metadata_csv_lists_every_payload_file_with_the_nara_elements(tmp_path: Path) -> None:
    package = build(tmp_path, three(tmp_path))
    header, *rows = read_csv(package)
    assert tuple(header) == COLUMNS
    assert header[:7] == ["File Name", "Record ID", "Title", "Description", "Creator", "Creation Date", "Rights"]
    digests = manifest(package)
    assert {row[0] for row in rows} == set(digests)  # every payload file, and nothing else
    warc_rows = [row for row in rows if row[0].startswith("data/warc/")]
    assert [row[1] for row in warc_rows] == ["rec-0001", "rec-0002", "rec-0003"]
    assert warc_rows[0] == ["data/warc/NARA-2025-0001-00001.warc.gz", "rec-0001", "Comment 1 on the flood notice",
                            "Public comment", "@warga@social.example", "2025-03-01", "Public domain", "mastodon", "1",
                            "comment", digests["data/warc/NARA-2025-0001-00001.warc.gz"]]
    by_file = {row[0]: row for row in rows if not row[0].startswith("data/warc/")}
    envelopes = by_file["data/envelopes/NARA-2025-0001.jsonl"]
    assert envelopes[1] == "NARA-2025-0001" and envelopes[10] == digests["data/envelopes/NARA-2025-0001.jsonl"]
    assert by_file["data/metadata.csv"][10] == ""  # a file cannot hold its own digest; the manifests do


def test_envelopes_file_holds_each_signed_line_once_in_order(tmp_path: Path) -> None:
    records = three(tmp_path)
    package = build(tmp_path, records)
    expected = b"".join(line for record in records for line in record.envelopes)
    assert (package.path / "data/envelopes/NARA-2025-0001.jsonl").read_bytes() == expected


def test_hostile_values_are_escaped_in_the_csv_and_never_name_a_file(tmp_path: Path) -> None:
    record = transfer_record(tmp_path, 7, record_id=HOSTILE_ID, title="a|b\nc\r\nd \"quoted\" \u202eevil",
                             platform_id="1|2", description="x" * 10_000)
    package = build(tmp_path, [transfer_record(tmp_path, 1), record])
    rows = read_csv(package)[1:]
    hostile = next(row for row in rows if row[1].startswith("../"))
    assert hostile[1] == HOSTILE_ID.replace("\x00", "\ufffd")  # NUL breaks CSV readers; the envelope keeps it
    assert hostile[2] == "a|b\nc\r\nd \"quoted\" \u202eevil"
    assert hostile[8] == "1|2" and hostile[3] == "x" * 10_000
    files = sorted(str(p.relative_to(package.path)) for p in package.path.rglob("*") if p.is_file())
    assert files == ["bag-info.txt", "bagit.txt", "data/envelopes/NARA-2025-0001.jsonl", "data/metadata.csv",
                     "data/warc/NARA-2025-0001-00001.warc.gz", "manifest-sha256.txt", "manifest-sha512.txt",
                     "tagmanifest-sha256.txt", "tagmanifest-sha512.txt"]
    assert not (tmp_path / "etc").exists()


def test_changing_one_payload_byte_fails_validation(tmp_path: Path) -> None:
    package = build(tmp_path, three(tmp_path))
    target = package.path / package.warc_files[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(package.path)).validate()
    with pytest.raises(ExportError) as raised:
        validate_bag(package.path)
    assert raised.value.code == "bag_invalid"
    assert "NARA-2025-0001-00001.warc.gz" in str(raised.value)


def test_warc_files_roll_over_between_records_at_the_size_limit(tmp_path: Path) -> None:
    records = [transfer_record(tmp_path, n) for n in range(1, 8)]
    single = build(tmp_path, records[:1], name="one")  # measure instead of guessing compressed sizes
    with open(single.path / single.warc_files[0], "rb") as stream:
        offsets = [iterator.get_record_offset() for iterator in [ArchiveIterator(stream)] for _ in iterator]
    record_size = (single.path / single.warc_files[0]).stat().st_size - offsets[1]
    limit = offsets[1] + 2 * record_size + record_size // 2  # room for two records and a half
    package = build(tmp_path, records, max_warc_bytes=limit)
    assert len(package.warc_files) == 4  # 2 + 2 + 2 + 1
    assert package.warc_files[-1] == "data/warc/NARA-2025-0001-00004.warc.gz"
    sizes = [(package.path / name).stat().st_size for name in package.warc_files]
    assert all(size <= limit for size in sizes)
    rows = [row for row in read_csv(package)[1:] if row[0].startswith("data/warc/")]
    assert [row[1] for row in rows] == [r.record_id for r in records]  # each record in exactly one file
    for name in package.warc_files:
        found = warc_records(package.path / name)
        assert found[0][1] == "warcinfo"
        assert len(found) - 1 == 3 * sum(1 for row in rows if row[0] == name)  # no record split across files
    bagit.Bag(str(package.path)).validate()


def test_a_record_larger_than_the_limit_gets_a_file_of_its_own(tmp_path: Path) -> None:
    package = build(tmp_path, three(tmp_path), max_warc_bytes=100)
    assert len(package.warc_files) == 3
    assert all(len(warc_records(package.path / name)) == 4 for name in package.warc_files)


def test_the_same_input_gives_a_byte_identical_package(tmp_path: Path) -> None:
    records = three(tmp_path)
    first, second = build(tmp_path, records, name="first"), build(tmp_path, records, name="second")
    names = sorted(str(p.relative_to(first.path)) for p in first.path.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(second.path)) for p in second.path.rglob("*") if p.is_file())
    for name in names:
        assert (first.path / name).read_bytes() == (second.path / name).read_bytes(), name


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("stored-"))


def test_a_corrupt_member_names_its_record_and_leaves_no_package(tmp_path: Path) -> None:
    records = three(tmp_path)
    truncated = records[1].warc_members[2][:-20]
    records[1] = replace(records[1], warc_members=[*records[1].warc_members[:2], truncated])
    with pytest.raises(ExportError) as raised:
        build(tmp_path, records)
    assert raised.value.code == "warc_corrupt"
    assert "record rec-0002" in str(raised.value) and "member 3" in str(raised.value)
    assert leftovers(tmp_path) == []


def test_a_member_whose_block_was_altered_is_refused_by_digest(tmp_path: Path) -> None:
    records = three(tmp_path)
    plain = gzip.decompress(records[2].warc_members[2]).replace(b"hello", b"HELLO")
    records[2] = replace(records[2], warc_members=[*records[2].warc_members[:2], gzip.compress(plain)])
    with pytest.raises(ExportError) as raised:
        build(tmp_path, records)
    assert raised.value.code == "warc_digest"
    assert "rec-0003" in str(raised.value)
    assert leftovers(tmp_path) == []


def test_the_error_message_escapes_a_hostile_record_id(tmp_path: Path) -> None:
    record = transfer_record(tmp_path, 1, record_id=HOSTILE_ID)
    record = replace(record, warc_members=[b"not a warc"])
    with pytest.raises(ExportError) as raised:
        build(tmp_path, [record])
    assert "\n" not in str(raised.value) and "\\u000a|x\\u0000y" in str(raised.value)


def failing_records(tmp_path: Path) -> Iterator[TransferRecord]:
    yield transfer_record(tmp_path, 1)
    raise RuntimeError("catalog went away")


def test_a_failure_while_reading_records_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="catalog went away"):
        build(tmp_path, failing_records(tmp_path))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("change", "code"), [
    (lambda r, s: replace(r, envelopes=[envelope_line("rec-9999", 1, s)]), "envelope_mismatch"),
    (lambda r, s: replace(r, envelopes=[r.envelopes[0].replace(b'"version":1', b'"version":2')]), "envelope_digest"),
    (lambda r, s: replace(r, envelopes=[r.envelopes[0].replace(b",", b",\n", 1)]), "envelope_format"),
    (lambda r, s: replace(r, envelopes=[b"{}"]), "envelope_format"),
    (lambda r, s: replace(r, envelopes=[]), "record_without_envelope"),
    (lambda r, s: replace(r, record_id=""), "record_format"),
    (lambda r, s: replace(r, title=None), "record_format"),
    (lambda r, s: replace(r, created="2025-03-01"), "record_format"),
    (lambda r, s: replace(r, envelopes=[r.envelopes[0].decode()]), "envelope_format"),
    (lambda r, s: replace(r, warc_members=["WARC/1.1"]), "warc_corrupt"),
    (lambda r, s: {"record_id": "rec-0001"}, "record_format"),
])
def test_records_with_bad_envelopes_or_fields_are_refused(tmp_path: Path, change: object, code: str) -> None:
    record = transfer_record(tmp_path, 1)
    _, ref = stored_members(tmp_path, 9)
    with pytest.raises(ExportError) as raised:
        build(tmp_path, [change(record, ref)])  # type: ignore[operator]
    assert raised.value.code == code
    assert leftovers(tmp_path) == []


def test_a_record_with_only_envelopes_is_listed_against_the_envelopes_file(tmp_path: Path) -> None:
    package = build(tmp_path, [transfer_record(tmp_path, 1), transfer_record(tmp_path, 2, warc_members=[])])
    rows = read_csv(package)[1:]
    assert [row[0] for row in rows if row[1] == "rec-0002"] == ["data/envelopes/NARA-2025-0001.jsonl"]


def test_no_records_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as raised:
        build(tmp_path, [])
    assert raised.value.code == "transfer_empty"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("existing", ["file", "empty-dir"])
def test_an_existing_target_is_never_overwritten(tmp_path: Path, existing: str) -> None:
    target = tmp_path / "bag"
    if existing == "file":
        target.write_text("keep me")
    else:
        target.mkdir()
    with pytest.raises(ExportError) as raised:
        build(tmp_path, three(tmp_path))
    assert raised.value.code == "target_exists"
    assert leftovers(tmp_path) == ["bag"]


@pytest.mark.parametrize("identifier", ["", "../evil", "a/b", ".hidden", "x" * 101, "a\nb", "a b", "caf\u00e9",
                                        "a|b", "-rf"])
def test_identifiers_that_could_misname_a_file_are_refused(tmp_path: Path, identifier: str) -> None:
    with pytest.raises(ExportError) as raised:
        write_transfer_package(tmp_path / "bag", identifier=identifier, source_organization="Agency",
                               bagging_date=BAGGED, records=[])
    assert raised.value.code == "invalid_identifier"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("organization", ["", "  ", "Agency\nExternal-Identifier: forged", "A\x00B"])
def test_source_organization_must_be_one_line(tmp_path: Path, organization: str) -> None:
    with pytest.raises(ExportError) as raised:
        write_transfer_package(tmp_path / "bag", identifier="T-1", source_organization=organization,
                               bagging_date=BAGGED, records=[])
    assert raised.value.code == "invalid_argument"


def test_a_multi_line_description_is_folded_into_one_bag_info_line(tmp_path: Path) -> None:
    package = build(tmp_path, three(tmp_path)[:1], description="Permanent comments\nExternal-Identifier: forged")
    info = (package.path / "bag-info.txt").read_text(encoding="utf-8")
    assert "External-Description: Permanent comments External-Identifier: forged\n" in info
    assert info.count("External-Identifier:") == 2  # the real one and the folded text, never a second label
    assert bagit.Bag(str(package.path)).info["External-Identifier"] == "NARA-2025-0001"


def test_tag_manifests_cover_bagit_txt_as_rewritten_for_1_0(tmp_path: Path) -> None:
    package = build(tmp_path, three(tmp_path)[:1])
    lines = (package.path / "tagmanifest-sha256.txt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines, key=lambda line: line.split(maxsplit=1)[1])
    listed = {name: digest for digest, name in (line.split(maxsplit=1) for line in lines)}
    assert listed["bagit.txt"] == hashlib.sha256((package.path / "bagit.txt").read_bytes()).hexdigest()
    assert set(listed) == {"bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt"}


def test_records_are_consumed_lazily(tmp_path: Path) -> None:
    seen: list[int] = []

    def records() -> Iterator[TransferRecord]:
        for number in range(1, 4):
            seen.append(number)
            yield transfer_record(tmp_path, number)

    package = build(tmp_path, records())
    assert seen == [1, 2, 3] and package.files == 3
