"""The offline package verifier: a valid package passes (and is valid to bagit and warcio too); every
altered byte is found and named; unsafe zips are refused unread; the verifier loads only the standard
library, cryptography and rfc3161-client."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.errors import IntegrityError
from archiver.integrity.envelope import WarcRef, parse_envelope_line
from archiver.integrity.keys import Signer, verify_signature
from archiver.integrity.merkle import ListLeafSource, inclusion_proof
from archiver.verify.findings import Finding, Severity
from export.verify_package import PackageReport, UnreadableInput, verify_package
from export.verify_package import verify as verify_module
from export.verify_package.bagcheck import Hashed
from export.verify_package.cli import main
from export.verify_package.evidence import check_evidence
from export.verify_package.indexcheck import Index, parse_index
from export.verify_package.proofs import SignedVersion, _check_chains
from export.verify_package.report import Findings
from export.verify_package.verify import split_lines
from export.verify_package.warcscan import WarcIndex, WarcRecord
from export.verify_package.zipread import Limits
from tests.support.production_package import (
    OTHER_SEED,
    audit_path,
    build_package,
    doc_id,
    edit_warc_member,
    flip,
    key_file,
    read_entries,
    rebag,
    record_id,
    replace_entries,
    tree_levels,
    version_path,
    warc_record_ids,
    write_entries,
)

ROOT = Path(__file__).resolve().parents[2]
WARC_EVEN = "data/warc/FOIA-2025-0042-P001-00001.warc.gz"  # documents 0, 2, ...
ALLOWED_MODULES = {"archiver", "export", "cryptography", "rfc3161_client", "_cffi_backend",
                   "_openssl"}  # _openssl: cryptography's own compiled OpenSSL binding, registered top-level


# Documents: 0 produced, 1 redacted, 2 withheld, 3 produced.
@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("valid"), documents=4, redacted=(1,), withheld=(2,))


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("stamped"), documents=2, with_tst=True)


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def errors(result: PackageReport) -> list[Finding]:
    return [f for f in result.findings if f.severity is Severity.ERROR]


def finding(result: PackageReport, code: str) -> Finding:
    found = [f for f in result.findings if f.code == code]
    assert found, f"no {code} finding in {[f.line() for f in result.findings]}"
    return found[0]


def failed_docs(result: PackageReport) -> set[str]:
    return {d.doc_id for d in result.documents if not d.ok}


# -- a valid package ----------------------------------------------------------------------------------


def test_valid_package_passes_and_every_document_is_ok(package: Path) -> None:
    result = verify_package(package)
    assert result.ok, [f.line() for f in result.findings]
    assert [(d.doc_id, d.status, d.ok) for d in result.documents] == [
        (doc_id(0), "produced", True), (doc_id(1), "redacted", True), (doc_id(2), "withheld", True),
        (doc_id(3), "produced", True)]
    assert result.codes() == {"keys_from_package"}
    assert result.report.checked["envelope_signatures"] == 8 and result.report.checked["inclusion_proofs"] == 8
    assert result.report.checked["warc_records"] == 12  # 2 produced documents x 2 versions x 3 records
    code, out, _ = run_cli(package)
    assert code == 0
    assert f"OK   {doc_id(0)}  record {record_id(0)}  2 versions produced" in out
    assert "VERIFIED" in out


def test_valid_package_is_a_valid_bag_to_bagit_and_its_warcs_to_warcio(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "bag")
    bag = bagit.Bag(str(tmp_path / "bag"))
    bag.validate()
    assert bag.version_info == (1, 0)
    records = 0
    for path in sorted((tmp_path / "bag" / "data" / "warc").glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, check_digests="raise"):
                record.content_stream().read()
                records += 1
    assert records == 12


def test_cli_json_output_is_one_object(package: Path) -> None:
    code, out, _ = run_cli(package, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True and report["totals"]["documents"] == 4 and report["totals"]["documents_ok"] == 4
    assert report["trusted_keys"]["source"] == "package"
    assert [f["code"] for f in report["findings"]] == ["keys_from_package"]
    assert report["checkpoint"]["origin"] == "test.example/arsip"


def test_progress_is_a_percentage_on_stderr(package: Path) -> None:
    code, _, err = run_cli(package, "--progress")
    calls: list[tuple[int, int]] = []
    verify_package(package, progress=lambda done, total: calls.append((done, total)))
    assert code == 0 and err.startswith("\rverifying") and err.endswith("100%\n")
    assert calls[-1][0] == calls[-1][1] and all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))


def test_generator_is_deterministic(tmp_path: Path) -> None:
    first = build_package(tmp_path, documents=2, redacted=(1,))
    second = build_package(tmp_path, documents=2, redacted=(1,))
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, 31, 33])
def test_generator_audit_paths_match_merkle_inclusion_proof(size: int) -> None:
    data = [bytes([i]) * 32 for i in range(size)]
    source = ListLeafSource.from_data(data)
    levels = tree_levels(list(source.leaf_hashes(0, size)))
    assert [audit_path(levels, i) for i in range(size)] == [inclusion_proof(source, i, size) for i in range(size)]


def test_envelope_with_a_float_is_malformed_without_loading_rfc8785(package: Path) -> None:
    line = read_entries(package)["data/proofs/envelopes.jsonl"].splitlines()[0]
    assert parse_envelope_line(line).envelope.version == 1
    with pytest.raises(IntegrityError, match="holds a float"):
        parse_envelope_line(flip(line, b'"version":1', b'"version":1.0'))


# -- keys and time-stamps -----------------------------------------------------------------------------


def test_right_keys_file_leaves_no_keys_from_package_warning(package: Path, tmp_path: Path) -> None:
    result = verify_package(package, keys_file=key_file(tmp_path))
    assert result.ok and result.codes() == set() and result.keys_source == "file"


def test_another_key_fails_every_signature(package: Path, tmp_path: Path) -> None:
    result = verify_package(package, keys_file=key_file(tmp_path, OTHER_SEED))
    assert {"package_signature_invalid", "checkpoint_invalid", "envelope_signature_invalid"} <= result.codes()
    assert "not a trusted key" in finding(result, "package_signature_invalid").message
    assert "package_key_untrusted" in result.codes(Severity.WARNING)
    assert failed_docs(result) == {doc_id(i) for i in range(4)}
    assert run_cli(package, "--keys", key_file(tmp_path, OTHER_SEED))[0] == 1


def test_unreadable_keys_file_is_a_usage_error(package: Path, tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text("{not json")
    code, out, err = run_cli(package, "--keys", tmp_path / "keys.json")
    assert code == 2 and out == "" and err.count("\n") == 1 and "keys.json" in err


def test_valid_time_stamp_verifies_with_the_auditors_roots(stamped: Path, tmp_path: Path) -> None:
    roots = tmp_path / "tsa-roots.pem"
    roots.write_bytes(read_entries(stamped)["data/proofs/tsa-roots.pem"])
    result = verify_package(stamped, keys_file=key_file(tmp_path), tsa_roots=roots)
    assert result.ok and result.codes() == set(), [f.line() for f in result.findings]
    assert result.timestamp is not None and result.timestamp["gen_time"] == "2025-03-01T13:00:00.000000Z"
    fallback = verify_package(stamped, keys_file=key_file(tmp_path))
    assert fallback.ok and fallback.codes() == {"tsa_roots_from_package"}


def test_time_stamp_over_other_bytes_fails(tmp_path: Path) -> None:
    result = verify_package(build_package(tmp_path, documents=1, tst_data=b"other bytes\n"))
    found = finding(result, "timestamp_invalid")
    assert found.subject == "data/proofs/checkpoint.tsr" and "message imprint" in found.message
    assert not result.ok


def test_time_stamp_without_any_roots_is_an_error(stamped: Path) -> None:
    result = verify_package(rebag(stamped, {"data/proofs/tsa-roots.pem": None}))
    assert "tsa_roots_missing" in result.codes(Severity.ERROR) and not result.ok


def test_time_stamp_verification_is_not_fooled_by_other_roots(stamped: Path, package: Path, tmp_path: Path) -> None:
    other = build_package(tmp_path, documents=1, with_tst=True)
    roots = tmp_path / "other-roots.pem"
    roots.write_bytes(read_entries(other)["data/proofs/tsa-roots.pem"])
    result = verify_package(stamped, tsa_roots=roots)
    assert "timestamp_invalid" in result.codes()


# -- tampering ----------------------------------------------------------------------------------------

Tamper = Callable[[Path], dict[str, bytes | None]]


def _warc_block(package: Path) -> dict[str, bytes | None]:
    ids = warc_record_ids(package, 0)
    data = read_entries(package)[WARC_EVEN]
    return {WARC_EVEN: edit_warc_member(data, ids["document"], lambda m: flip(m, b"Pengumuman 1,", b"Pengumuman 7,"))}


def _version_json(package: Path) -> dict[str, bytes | None]:
    return {version_path(0, 1): flip(read_entries(package)[version_path(0, 1)], b"versi 1", b"versi 9")}


def _envelope_line(package: Path) -> dict[str, bytes | None]:
    name = "data/proofs/envelopes.jsonl"
    return {name: flip(read_entries(package)[name], b'"run":"run-0001"', b'"run":"run-0009"')}


def _inclusion_path(package: Path) -> dict[str, bytes | None]:
    name = "data/proofs/inclusion.jsonl"
    first, rest = read_entries(package)[name].split(b"\n", 1)
    proof = json.loads(first)
    proof["path"][0] = ("0" if proof["path"][0][0] != "0" else "1") + proof["path"][0][1:]
    return {name: json.dumps(proof, separators=(",", ":")).encode() + b"\n" + rest}


def _checkpoint(package: Path) -> dict[str, bytes | None]:
    name = "data/proofs/checkpoint.note"
    origin, size, root, rest = read_entries(package)[name].split(b"\n", 3)
    changed = base64.b64encode(bytes([base64.b64decode(root)[0] ^ 1]) + base64.b64decode(root)[1:])
    return {name: b"\n".join([origin, size, changed, rest])}


def _signature(package: Path) -> dict[str, bytes | None]:
    document = json.loads(read_entries(package)["arsip-signature.json"])
    raw = base64.b64decode(document["signature"])
    document["signature"] = base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode()
    return {"arsip-signature.json": json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"}


def _manifest(package: Path) -> dict[str, bytes | None]:
    data = read_entries(package)["manifest-sha512.txt"]
    line = next(x for x in data.split(b"\n") if x.endswith(f"documents/{doc_id(3)}/text.txt".encode()))
    return {"manifest-sha512.txt": flip(data, line, (b"0" if line[:1] != b"0" else b"1") + line[1:])}


def _bag_info(package: Path) -> dict[str, bytes | None]:
    return {"bag-info.txt": flip(read_entries(package)["bag-info.txt"], b"FOIA-2025-0042\n", b"FOIA-2025-0043\n")}


def _one_byte(name: str) -> Tamper:
    def tamper(package: Path) -> dict[str, bytes | None]:
        data = read_entries(package)[name]
        return {name: data[:10] + bytes([data[10] ^ 0x20]) + data[11:]}
    return tamper


TAMPERING = [
    # (what, tamper, rebag it, expected code, text in the finding, failing documents)
    ("warc block", _warc_block, False, "payload_digest_mismatch", WARC_EVEN, {doc_id(0)}),
    ("warc block", _warc_block, False, "warc_block_digest_mismatch", "record <urn:uuid:", {doc_id(0)}),
    ("warc block, bag resealed", _warc_block, True, "warc_block_digest_mismatch", WARC_EVEN, {doc_id(0)}),
    ("version json", _version_json, False, "payload_digest_mismatch", version_path(0, 1), {doc_id(0)}),
    ("version json, bag resealed", _version_json, True, "version_content_mismatch", version_path(0, 1),
     {doc_id(0)}),
    ("envelope line", _envelope_line, False, "envelope_altered", f"record {record_id(0)} version 1", {doc_id(0)}),
    ("envelope line, bag resealed", _envelope_line, True, "envelope_altered", "envelopes.jsonl line 1",
     {doc_id(0)}),
    ("inclusion path", _inclusion_path, True, "inclusion_invalid", f"record {record_id(0)} version 1",
     {doc_id(0)}),
    ("checkpoint", _checkpoint, False, "checkpoint_invalid", "data/proofs/checkpoint.note",
     {doc_id(i) for i in range(4)}),
    ("checkpoint", _checkpoint, False, "payload_digest_mismatch", "data/proofs/checkpoint.note", None),
    ("package signature", _signature, False, "package_signature_invalid", "arsip-signature.json", set()),
    ("package signature", _signature, False, "tag_digest_mismatch", "arsip-signature.json", set()),
    ("manifest", _manifest, False, "payload_digest_mismatch", f"data/documents/{doc_id(3)}/text.txt",
     {doc_id(3)}),
    ("manifest", _manifest, False, "tag_digest_mismatch", "manifest-sha512.txt", None),
    ("manifest", _manifest, False, "package_signature_invalid", "manifest-sha512.txt", None),
    ("bag-info", _bag_info, False, "tag_digest_mismatch", "bag-info.txt", set()),
    ("bag-info", _bag_info, False, "package_metadata_mismatch", "FOIA-2025-0043", set()),
    ("pdf", _one_byte(f"data/documents/{doc_id(3)}/record.pdf"), False, "payload_digest_mismatch",
     f"data/documents/{doc_id(3)}/record.pdf", {doc_id(3)}),
    ("text", _one_byte(f"data/documents/{doc_id(0)}/text.txt"), False, "payload_digest_mismatch",
     f"data/documents/{doc_id(0)}/text.txt", {doc_id(0)}),
    ("redacted copy", _one_byte(f"data/documents/{doc_id(1)}/redacted/v0001.json"), False,
     "payload_digest_mismatch", f"data/documents/{doc_id(1)}/redacted/v0001.json", {doc_id(1)}),
]


@pytest.mark.parametrize(("what", "tamper", "resealed", "code", "named", "failing"), TAMPERING,
                         ids=[f"{t[0]}-{t[3]}" for t in TAMPERING])
def test_one_changed_byte_is_found_and_named(package: Path, what: str, tamper: Tamper, resealed: bool, code: str,
                                             named: str, failing: set[str] | None) -> None:
    changes = tamper(package)
    changed = rebag(package, changes) if resealed else replace_entries(package, changes)
    result = verify_package(changed)
    assert not result.ok
    found = finding(result, code)
    assert found.severity is Severity.ERROR and named in found.line(), found.line()
    if failing is not None:
        assert failed_docs(result) == failing, [d.line() for d in result.documents]
    assert run_cli(changed)[0] == 1


def test_resealed_bag_changes_only_what_was_changed(package: Path) -> None:
    result = verify_package(rebag(package, _version_json(package)))
    assert {f.code for f in errors(result)} == {"version_content_mismatch"}


def test_redacted_document_with_its_warc_records_is_a_leak(tmp_path: Path) -> None:
    result = verify_package(build_package(tmp_path, documents=3, redacted=(1,), leak_exempt_warc=True))
    leaks = [f for f in result.findings if f.code == "exempt_content_present"]
    assert len(leaks) == 6 and all(f"redacted document {doc_id(1)}" in f.message for f in leaks)
    assert failed_docs(result) == {doc_id(1)}


def test_exempt_record_is_found_by_its_version_uri_even_under_another_record_id(tmp_path: Path) -> None:
    leaky = build_package(tmp_path, documents=2, redacted=(1,), leak_exempt_warc=True)
    name = "data/warc/FOIA-2025-0042-P001-00002.warc.gz"  # odd documents
    renamed = "<urn:uuid:ffffffff-0000-4000-8000-000000000001>"
    document = warc_record_ids(leaky, 1)["document"]
    data = edit_warc_member(read_entries(leaky)[name], document, lambda m: flip(m, document.encode(), renamed.encode()))
    result = verify_package(rebag(leaky, {name: data}))
    assert any(f.code == "exempt_content_present" and renamed in f.subject for f in result.findings)


def test_an_exchange_shared_with_a_withheld_document_may_be_left_out() -> None:
    index = parse_index(b"doc_id,beg_bates,end_bates,record_id,platform,platform_id,kind,account,status,versions,"
                        b"pdf,native,text\r\nD1,D1,D1,r1,x,1,post,a,produced,1,,,\r\nD2,D2,D2,r2,x,2,post,a,withheld,1,,,\r\n")
    content = "c" * 64
    shared = WarcRef("k", 0, 1, "<urn:uuid:shared>", "sha256:" + "5" * 64)
    own = WarcRef("k", 9, 1, "<urn:uuid:own>", f"sha256:{content}")
    exempt = WarcRef("k", 5, 1, "<urn:uuid:exempt>", "sha256:" + "6" * 64)
    versions = [SignedVersion(1, 0, "r1", 1, "a" * 64, content, own, (shared,), None),
                SignedVersion(2, 1, "r2", 1, "b" * 64, "d" * 64, exempt, (shared,), None)]
    warcs = WarcIndex()
    warcs.add(WarcRecord("<urn:uuid:own>", "data/warc/w.warc.gz", 0, "resource", f"sha256:{content}",
                         f"sha256:{content}", True, "urn:arsip:record:r1:version:1"))
    findings = Findings()
    check_evidence(versions, warcs, {"data/documents/D1/versions/v0001.json": Hashed(2, content, "e" * 128)}, index,
                   findings)
    report = findings.close()
    assert [(f.severity, f.code) for f in report.findings] == [(Severity.WARNING, "shared_evidence_withheld")]
    assert "withheld document D2" in report.findings[0].message and not findings.problems


def test_withheld_document_with_original_versions_is_a_leak(package: Path) -> None:
    result = verify_package(rebag(package, {f"data/documents/{doc_id(2)}/versions/v0001.json": b"{}"}))
    assert "exempt_content_present" in result.codes() and failed_docs(result) == {doc_id(2)}


def _first_member(data: bytes) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    inflater.decompress(data)
    return data[:len(data) - len(inflater.unused_data)]


def test_a_stored_member_copied_twice_is_fine_but_one_id_for_two_records_is_not(package: Path) -> None:
    data = read_entries(package)[WARC_EVEN]
    first = _first_member(data)
    copied = verify_package(rebag(package, {WARC_EVEN: data + first}))
    assert copied.ok and copied.report.checked["warc_records_copied_twice"] == 1
    forged = edit_warc_member(first, warc_record_ids(package, 0)["response"], lambda m: flip(m, b"200 OK", b"204 OK"))
    result = verify_package(rebag(package, {WARC_EVEN: data + forged}))
    assert {"warc_duplicate_record", "warc_block_digest_mismatch"} <= result.codes(Severity.ERROR)


def test_truncated_warc_file_is_named(package: Path) -> None:
    data = read_entries(package)[WARC_EVEN]
    result = verify_package(rebag(package, {WARC_EVEN: data[:-10]}))
    found = finding(result, "warc_unreadable")
    assert found.subject.startswith(WARC_EVEN) and "truncated" in found.message


def test_missing_file_listed_in_the_manifest(package: Path) -> None:
    result = verify_package(replace_entries(package, {f"data/documents/{doc_id(0)}/text.txt": None}))
    missing = finding(result, "missing_file")
    assert missing.subject == f"data/documents/{doc_id(0)}/text.txt" and "manifest-sha256.txt" in missing.message
    assert {"payload_oxum_mismatch", "document_file_missing"} <= result.codes()
    assert failed_docs(result) == {doc_id(0)}


def test_extra_unlisted_file(package: Path) -> None:
    result = verify_package(replace_entries(package, {"data/extra.txt": b"not in any manifest\n"}))
    assert finding(result, "unlisted_file").subject == "data/extra.txt"
    assert "payload_oxum_mismatch" in result.codes() and failed_docs(result) == set()


def test_removed_envelope_is_a_version_count_mismatch(package: Path) -> None:
    name = "data/proofs/envelopes.jsonl"
    lines = read_entries(package)[name].split(b"\n")
    result = verify_package(rebag(package, {name: b"\n".join(lines[1:])}))
    assert finding(result, "version_count_mismatch").subject == f"document {doc_id(0)}"
    assert "inclusion_unmatched" in result.codes(Severity.WARNING)


def test_inclusion_proofs_in_another_order_still_verify(package: Path) -> None:
    name = "data/proofs/inclusion.jsonl"
    lines = read_entries(package)[name].splitlines(keepends=True)
    result = verify_package(rebag(package, {name: b"".join(reversed(lines))}))
    assert result.ok and result.report.checked["inclusion_proofs"] == 8


def test_proof_files_too_large_to_hold_are_streamed_twice(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "_LINES_IN_MEMORY", 0)
    result = verify_package(package)
    assert result.ok and result.report.checked["inclusion_proofs"] == 8


def test_lines_are_split_across_chunks_and_runaway_lines_are_cut() -> None:
    assert list(split_lines([b"a\nb", b"c\n", b"", b"d"])) == [b"a", b"bc", b"d"]
    runaway = list(split_lines([b"x" * (1 << 20), b"x", b"y\nz"]))
    assert runaway[0] == b"x" * ((1 << 20) + 1) and runaway[-1] == b"z"


def test_broken_chain_of_versions_is_named() -> None:
    ref = WarcRef("k", 0, 1, "<urn:uuid:x>", "sha256:" + "0" * 64)
    versions = [SignedVersion(1, 3, "r", 1, "a" * 64, "c" * 64, ref, (), None),
                SignedVersion(2, 9, "r", 2, "b" * 64, "c" * 64, ref, (), "f" * 64)]
    findings = Findings()
    _check_chains(versions, Index(), findings)
    assert [(f.code, f.subject) for f in findings.close().findings] == [("chain_broken", "record r version 2")]


def test_control_characters_from_the_package_are_escaped_in_text_output(package: Path) -> None:
    index = read_entries(package)["data/index.csv"]
    changed = rebag(package, {"data/index.csv": flip(index, f"{doc_id(3)},".encode(), b"\x1b[2J,")})
    code, out, _ = run_cli(changed)
    assert code == 1 and "\x1b" not in out and "\\x1b[2J" in out


# -- unsafe or unreadable zips ------------------------------------------------------------------------


def _zip_with(package: Path, tmp_path: Path, name: str, info: dict[str, int] | None = None) -> Path:
    path = tmp_path / "hostile.zip"
    entries = read_entries(package)
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        for existing, content in entries.items():
            archive.writestr(existing, content)
        extra = zipfile.ZipInfo(name)
        for key, value in (info or {}).items():
            setattr(extra, key, value)
        archive.writestr(extra, b"x")
    return path


@pytest.mark.parametrize(("name", "info", "reason"), [
    ("../evil", {}, "'..'"),
    ("data/../../evil", {}, "'..'"),
    ("/etc/passwd", {}, "absolute"),
    ("C:/evil", {}, "absolute"),
    ("data\\evil", {}, "backslash"),
    ("data/a\nb", {}, "control character"),
    ("data/README.txt", {}, "twice"),
    ("DATA/readme.TXT", {}, "differing only in case"),
    ("data/link", {"external_attr": (0o120777 << 16)}, "symbolic link"),
])
def test_unsafe_entries_refuse_the_package_with_a_one_line_error(package: Path, tmp_path: Path, name: str,
                                                                 info: dict[str, int], reason: str) -> None:
    hostile = _zip_with(package, tmp_path, name, info)
    with pytest.raises(UnreadableInput, match=reason):
        verify_package(hostile)
    code, out, err = run_cli(hostile)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("python -m export.verify_package:")


def test_path_traversal_entry_exits_2_naming_it(package: Path, tmp_path: Path) -> None:
    code, _, err = run_cli(_zip_with(package, tmp_path, "../evil"))
    assert code == 2 and "'../evil'" in err


def _raw_zip(path: Path, name: str, compressed: bytes, *, declared: int, crc: int, flags: int = 0,
             method: int = 8) -> Path:
    """A one-entry zip whose headers declare ``declared`` bytes, whatever the data inflates to."""
    encoded = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, len(compressed), declared,
                        len(encoded), 0) + encoded
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, len(compressed),
                          declared, len(encoded), 0, 0, 0, 0, 0o644 << 16, 0) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(compressed), 0)
    path.write_bytes(local + compressed + central + end)
    return path


@pytest.fixture(scope="module")
def zeros() -> bytes:
    """200 MB of zeros, deflated (about 200 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(compressor.compress(block) for _ in range(200)) + compressor.flush()


def test_zip_bomb_declared_small_is_refused_quickly(zeros: bytes, tmp_path: Path) -> None:
    bomb = _raw_zip(tmp_path / "bomb.zip", "bagit.txt", zeros, declared=1000, crc=0)
    started = time.perf_counter()
    with pytest.raises(UnreadableInput, match="zip bomb"):
        verify_package(bomb)
    assert time.perf_counter() - started < 2
    assert run_cli(bomb)[0] == 2


def test_zip_bomb_declared_honestly_is_refused_before_reading(zeros: bytes, tmp_path: Path) -> None:
    bomb = _raw_zip(tmp_path / "bomb.zip", "bagit.txt", zeros, declared=200 << 20, crc=0)
    with pytest.raises(UnreadableInput, match="compression ratio above 200:1"):
        verify_package(bomb)


def test_total_size_cap_refuses_before_reading(package: Path) -> None:
    with pytest.raises(UnreadableInput, match="uncompressed in all"):
        verify_package(package, limits=Limits(max_total_bytes=1000))


def test_entry_that_lies_about_its_size_is_refused(package: Path, tmp_path: Path) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    liar = _raw_zip(tmp_path / "liar.zip", "bagit.txt", compressor.compress(data) + compressor.flush(),
                    declared=len(data) - 1, crc=zlib.crc32(data))
    with pytest.raises(UnreadableInput, match="more than its header declares"):
        verify_package(liar)


@pytest.mark.parametrize(("flags", "method", "reason"), [(0x1, 8, "encrypted"), (0, 12, "compression method 12")])
def test_encrypted_or_exotic_entries_are_refused(tmp_path: Path, flags: int, method: int, reason: str) -> None:
    odd = _raw_zip(tmp_path / "odd.zip", "bagit.txt", b"\x03\x00", declared=0, crc=0, flags=flags, method=method)
    with pytest.raises(UnreadableInput, match=reason):
        verify_package(odd)


def test_overlapping_entries_are_refused(package: Path, tmp_path: Path) -> None:
    data = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as archive:
        first, directory = archive.infolist()[0].header_offset, archive.start_dir
    # The second central directory record now points at the first entry's local header: two names, one
    # stored body, the "overlapping files" zip bomb.
    second = data.find(b"PK\x01\x02", directory + 4)
    struct.pack_into("<L", data, second + 42, first)
    overlapping = tmp_path / "overlapping.zip"
    overlapping.write_bytes(bytes(data))
    with pytest.raises(UnreadableInput, match="overlaps"):
        verify_package(overlapping)


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_truncated_zip_exits_2(package: Path, tmp_path: Path, cut: float) -> None:
    data = package.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: int(len(data) * cut)])
    code, out, err = run_cli(truncated)
    assert code == 2 and out == "" and err.count("\n") == 1 and "not a readable zip" in err


def test_not_a_zip_and_no_file_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.zip").write_text("just text")
    assert run_cli(tmp_path / "notes.zip")[0] == 2
    assert run_cli(tmp_path / "absent.zip")[0] == 2


def test_zip_that_is_not_a_bag_at_its_root_exits_2(package: Path, tmp_path: Path) -> None:
    nested = write_entries(tmp_path / "nested.zip", {f"bag/{k}": v for k, v in read_entries(package).items()})
    code, _, err = run_cli(nested)
    assert code == 2 and "no bagit.txt at the root" in err


def test_bad_usage_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--no-such-option"])
    assert exited.value.code == 2 and capsys.readouterr().err.count("\n") == 1


# -- footprint and speed ------------------------------------------------------------------------------


_FOOTPRINT = """
import json, runpy, sys
before = set(sys.modules)
sys.argv = ["verify_package", *sys.argv[1:]]
try:
    runpy.run_module("export.verify_package", run_name="__main__", alter_sys=True)
except SystemExit as exited:
    code = exited.code
loaded = sorted({m.split(".")[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names))
sys.stderr.write(json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def test_verifier_loads_only_stdlib_cryptography_and_rfc3161_client(stamped: Path, tmp_path: Path) -> None:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(read_entries(stamped)["data/proofs/tsa-roots.pem"])
    completed = subprocess.run([sys.executable, "-c", _FOOTPRINT, str(stamped), "--keys", str(key_file(tmp_path)),
                                "--tsa-roots", str(roots)], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    outcome = json.loads(completed.stderr.strip().splitlines()[-1])
    assert outcome["code"] == 0, completed.stdout
    assert "rfc3161_client" in outcome["loaded"]  # the time-stamp was really checked
    assert set(outcome["loaded"]) <= ALLOWED_MODULES, outcome["loaded"]


def test_python_m_runs_the_verifier(package: Path) -> None:
    completed = subprocess.run([sys.executable, "-m", "export.verify_package", str(package), "--json"], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0 and json.loads(completed.stdout)["ok"] is True


@pytest.mark.slow
def test_two_thousand_documents_verify_in_seconds(tmp_path: Path) -> None:
    package = build_package(tmp_path, documents=2000, versions=2)
    signer = Signer.from_seed(b"\x03" * 32)
    signature = signer.sign(b"calibration")
    started = time.perf_counter()
    for _ in range(4000):  # what checking the 4,000 envelope signatures alone costs on this machine, now
        verify_signature(signer.public_key_bytes, signature, b"calibration")
    signing = time.perf_counter() - started
    started = time.perf_counter()
    result = verify_package(package)
    elapsed = time.perf_counter() - started
    print(f"\nverified 2,000 records (4,000 versions, 12,000 WARC records) in {elapsed:.2f} s: "
          f"{2000 / elapsed:,.0f} records/s (4,000 Ed25519 signatures alone: {signing:.2f} s)")
    assert result.ok and result.totals["documents_ok"] == 2000
    assert elapsed < max(5.0, 6 * signing)
