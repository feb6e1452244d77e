"""A records request end to end on a real archive: open, scope from a search, redact, withhold, produce,
validate the bag with bagit, re-read load files, verify offline, detect tampering."""

from __future__ import annotations

import csv
import io
import json
import socket
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import bagit
import pytest
from click.testing import CliRunner, Result
from warcio.archiveiterator import ArchiveIterator

from archiver.cli.main import Context, build_cli
from archiver.clock import FixedClock
from archiver.db.queries import find_record_id, list_records, record_detail
from archiver.wiring import Archive
from export.errors import ExportError
from export.production.build import ProductionOptions
from export.production.loadfiles import read_dat, read_opt
from export.production.service import produce
from export.requests import journal, service
from tests.support.cli import isolate_home
from tests.support.demo_archive import captured_demo

SECRET = "delivery trucks"
# The demo's record ids depend on the simulator's port, so tests find records by their text.
TEXTS = {"POST": "Update: work is taking longer", "COMMENT": "@cityhall Is the Oak Ave detour",
         "REPLY": "@sari_w Yes, trucks", "DELETED": "@cityhall The drain on 4th St", "HELD": "nice poster"}
POST = COMMENT = REPLY = DELETED = HELD = ""


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    global POST, COMMENT, REPLY, DELETED, HELD
    clock = FixedClock(datetime(2024, 11, 22, 9, tzinfo=UTC))
    archive = captured_demo(tmp_path, clock)
    with archive.catalog.read() as conn:
        found = {name: next(r.id for r in list_records(conn) if r.text.startswith(text))
                 for name, text in TEXTS.items()}
    POST, COMMENT, REPLY, DELETED, HELD = (found[n] for n in ("POST", "COMMENT", "REPLY", "DELETED", "HELD"))
    yield archive
    archive.close()


def _open(archive: Archive, number: str = "FOIA-2024-001") -> None:
    service.open_request(archive, service.Intake(
        number=number, requester="Jane Reporter", received=date(2024, 11, 22), jurisdiction="us-federal",
        description="Posts and comments about the Main St closure"), actor="legal:ana")


def _scoped_and_decided(archive: Archive) -> None:
    _open(archive)
    service.scope_records(archive, "FOIA-2024-001", [POST, COMMENT, REPLY, DELETED, HELD], actor="legal:ana")
    service.tag(archive, "FOIA-2024-001", [POST, COMMENT, REPLY, DELETED, HELD], "responsive", actor="legal:ana")
    (start, end), = service.match_spans(archive, COMMENT, 1, "text", SECRET)
    service.redact(archive, "FOIA-2024-001", COMMENT, version=1, field="text", start=start, end=end,
                   code="(b)(6)", reason="Identifies a private business's routes", actor="legal:ana")
    service.withhold(archive, "FOIA-2024-001", HELD, code="(b)(5)", reason="Draft reply under deliberation",
                     actor="legal:ana")


def _members(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_a_federal_request_is_due_in_twenty_working_days(archive: Archive) -> None:
    _open(archive)
    clocks = service.clocks(journal.load(archive, "FOIA-2024-001"), date(2024, 11, 25))
    assert clocks[0].due == date(2024, 12, 23)


def test_scoping_from_a_search_logs_the_query_and_backend(archive: Archive) -> None:
    _open(archive)
    case, matched = service.scope_from_search(archive, "FOIA-2024-001", "detour", actor="legal:ana")
    assert matched >= 2 and len(case.scope) == matched
    assert case.searches[0]["query"] == "detour" and case.searches[0]["backend"] == "tantivy"
    again, _ = service.scope_from_search(archive, "FOIA-2024-001", "detour", actor="legal:ana")
    assert len(again.scope) == matched and again.searches[1]["added"] == 0  # deduplicated


def test_redaction_codes_come_from_the_jurisdiction(archive: Archive) -> None:
    _open(archive)
    service.scope_records(archive, "FOIA-2024-001", [COMMENT], actor="legal:ana")
    with pytest.raises(ExportError) as error:
        service.redact(archive, "FOIA-2024-001", COMMENT, version=1, field="text", start=0, end=5, code="17(h)",
                       reason="x", actor="legal:ana")
    assert error.value.code == "unknown_exemption"
    with pytest.raises(ExportError) as error:
        service.redact(archive, "FOIA-2024-001", POST, version=1, field="text", start=0, end=5, code="(b)(6)",
                       reason="x", actor="legal:ana")
    assert error.value.code == "not_in_scope"


def test_production_is_a_valid_signed_bag_with_burned_in_redactions(archive: Archive, tmp_path: Path) -> None:
    _scoped_and_decided(archive)
    out = tmp_path / "out"
    out.mkdir()
    case, built = produce(archive, "FOIA-2024-001", ProductionOptions(out_dir=out, bates_prefix="CITY-", wacz=True),
                          actor="legal:ana")
    assert built.path == out / "FOIA-2024-001-P001.zip" and built.first_bates == "CITY-000001"
    members = _members(built.path)

    # An independent BagIt validator accepts it, and one changed byte fails it.
    bag_dir = tmp_path / "bag"
    with zipfile.ZipFile(built.path) as z:
        z.extractall(bag_dir)
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["External-Identifier"] == "FOIA-2024-001" and bag.version_info == (1, 0)
    index = list(csv.DictReader(io.StringIO(members["data/index.csv"].decode())))
    statuses = {row["record_id"]: row["status"] for row in index}
    assert statuses == {POST: "produced", COMMENT: "redacted", REPLY: "produced", DELETED: "produced",
                        HELD: "withheld"}
    comment_row = next(r for r in index if r["record_id"] == COMMENT)
    text_file = bag_dir / comment_row["text"]
    text_file.write_text(text_file.read_text() + "x")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()

    # The exempt words are nowhere: not in the redacted copy, text, load files, WARC records or WACZ.
    for name, body in members.items():
        if not name.endswith((".pdf", ".wacz")):
            assert SECRET.encode() not in body, name
    redacted = json.loads(members[f"data/documents/{comment_row['doc_id']}/redacted/v0001.json"])
    assert "[REDACTED (b)(6)]" in redacted["text"] and redacted["derived_from"]["record_id"] == COMMENT
    held_row = next(r for r in index if r["record_id"] == HELD)
    assert "nice poster" not in members[f"data/documents/{held_row['doc_id']}/withheld.json"].decode()
    log = list(csv.DictReader(io.StringIO(members["data/withholding-log.csv"].decode())))
    assert {(r["record_id"], r["code"], r["decision"]) for r in log} == {
        (COMMENT, "(b)(6)", "redacted"), (HELD, "(b)(5)", "withheld in full")}

    # WARC records of released documents are copied byte for byte and re-read by warcio.
    warc_names = [n for n in members if n.startswith("data/warc/")]
    types = [r.rec_type for n in warc_names for r in ArchiveIterator(io.BytesIO(members[n]))]
    assert "resource" in types and "response" in types

    # Load files: DAT rows per document, OPT lines per PDF page with Bates numbers gap-free.
    dat = list(read_dat(bag_dir / "data/loadfiles/FOIA-2024-001-P001.dat"))
    assert [row["RECORDID"] for row in dat] == [row["record_id"] for row in index]
    opt = list(read_opt(bag_dir / "data/loadfiles/FOIA-2024-001-P001.opt"))
    numbers = [int(line.image_key.removeprefix("CITY-")) for line in opt]
    assert numbers == list(range(1, len(numbers) + 1)) and opt[-1].image_key == built.last_bates

    # The request records the production; the package is an archived record of its own.
    assert case.productions[0].package_sha256 == built.sha256
    assert archive.store.head(case.productions[0].package_key) is not None
    with archive.catalog.read() as conn:
        package = record_detail(conn, find_record_id(conn, case.productions[0].record_id or ""))
    assert package.record.kind == "request_package" and package.record.platform == "arsip"
    assert package.versions[0].envelope_sha256  # signed and in the Merkle log like any record


def test_the_package_verifies_offline_and_tampering_is_named(archive: Archive, tmp_path: Path) -> None:
    _scoped_and_decided(archive)
    out = tmp_path / "out"
    out.mkdir()
    _case, built = produce(archive, "FOIA-2024-001", ProductionOptions(out_dir=out, bates_prefix="CITY-", pdf=False),
                           actor="legal:ana")
    from export.verify_package import verify_package

    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(archive.keyring.export_public()))
    report = verify_package(built.path, keys_file=keys)
    assert report.report.ok, [f.line() for f in report.report.findings]

    members = _members(built.path)
    name = next(n for n in members if n.startswith("data/warc/"))
    body = bytearray(members[name])
    body[len(body) // 2] ^= 0x01
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as z:
        for member, data in members.items():
            z.writestr(member, bytes(body) if member == name else data)
    bad = verify_package(tampered, keys_file=keys)
    assert not bad.report.ok
    assert any(name in f.subject or name in f.message for f in bad.report.findings)


def test_rolling_productions_continue_the_bates_numbers(archive: Archive, tmp_path: Path) -> None:
    _open(archive)
    service.scope_records(archive, "FOIA-2024-001", [POST], actor="legal:ana")
    service.tag(archive, "FOIA-2024-001", [POST], "responsive", actor="legal:ana")
    out = tmp_path / "out"
    out.mkdir()
    _case, first = produce(archive, "FOIA-2024-001", ProductionOptions(out_dir=out, bates_prefix="C-", pdf=False),
                           actor="legal:ana")
    with pytest.raises(ExportError) as error:
        produce(archive, "FOIA-2024-001", ProductionOptions(out_dir=out, bates_prefix="C-", pdf=False), actor="x")
    assert error.value.code == "nothing_to_produce"
    service.scope_records(archive, "FOIA-2024-001", [REPLY], actor="legal:ana")
    with pytest.raises(ExportError) as error:
        produce(archive, "FOIA-2024-001", ProductionOptions(out_dir=out, bates_prefix="C-", pdf=False), actor="x")
    assert error.value.code == "review_pending"
    service.tag(archive, "FOIA-2024-001", [REPLY], "responsive", actor="legal:ana")
    case = journal.load(archive, "FOIA-2024-001")
    start = case.productions[-1].last_number + 1
    _case, second = produce(archive, "FOIA-2024-001", ProductionOptions(
        out_dir=out, bates_prefix="C-", bates_start=start, pdf=False), actor="legal:ana")
    assert second.id == "FOIA-2024-001-P002" and second.records == [REPLY]
    assert int(second.first_bates.removeprefix("C-")) == int(first.last_bates.removeprefix("C-")) + 1


def test_a_failed_build_leaves_nothing(archive: Archive, tmp_path: Path) -> None:
    _scoped_and_decided(archive)
    with pytest.raises(ExportError) as error:
        produce(archive, "FOIA-2024-001", ProductionOptions(out_dir=tmp_path / "missing", bates_prefix="C-"),
                actor="x")
    assert error.value.code == "target_parent_missing"
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError) as error:
        produce(archive, "FOIA-2024-001", ProductionOptions(out_dir=out, bates_prefix="C-", bates_width=1,
                                                            bates_start=9), actor="x")
    assert error.value.code == "bates_overflow"
    assert list(out.iterdir()) == [] and journal.load(archive, "FOIA-2024-001").productions == []


def _cli(*args: str) -> Result:
    clock = FixedClock(datetime(2024, 11, 29, 9, tzinfo=UTC))
    return CliRunner().invoke(build_cli(), list(args), obj=Context(clock=clock, actor="cli:legal"),
                              catch_exceptions=False)


def test_the_cli_opens_produces_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_home(tmp_path, monkeypatch)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert _cli("demo", "--port", str(port)).exit_code == 0
    listed = json.loads(_cli("records", "list", "--limit", "1000", "--json").output)
    post = next(r["id"] for r in listed if r["text"].startswith(TEXTS["POST"]))
    opened = _cli("requests", "open", "KIP-2024-7", "--requester", "Budi", "--received", "2024-11-20",
                  "--jurisdiction", "id-uu-kip", "--description", "Unggahan tentang penutupan jalan")
    assert opened.exit_code == 0, opened.output
    assert "2024-12-05" in opened.output  # 10 hari kerja from Wednesday 20 Nov 2024 (27 Nov: Pilkada holiday)
    assert _cli("requests", "scope", "KIP-2024-7", "--record", post).exit_code == 0
    assert _cli("requests", "tag", "KIP-2024-7", "responsive", "--all-pending").exit_code == 0
    bad = _cli("requests", "redact", "KIP-2024-7", post, "--version", "1", "--match", "Oak Ave", "--code",
               "(b)(6)", "--reason", "x")
    assert bad.exit_code == 1 and "unknown_exemption" in bad.output and "Traceback" not in bad.output
    out = tmp_path / "out"
    out.mkdir()
    produced = _cli("requests", "produce", "KIP-2024-7", "--out", str(out), "--no-pdf")
    assert produced.exit_code == 0, produced.output
    package = out / "KIP-2024-7-P001.zip"
    keys = tmp_path / "keys.json"
    keys.write_text(_cli("keys", "export-public").output)
    verified = _cli("verify", str(package), "--keys", str(keys))
    assert verified.exit_code == 0, verified.output
    package.write_bytes(package.read_bytes()[:-100])
    assert _cli("verify", str(package), "--keys", str(keys)).exit_code != 0
