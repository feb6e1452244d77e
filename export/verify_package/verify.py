"""``verify_package``: every check of a production package, in the order an auditor would make them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from archiver.integrity.checkpoint import Checkpoint
from export.verify_package.bagcheck import MAX_KEPT_BYTES, Pass, check_bag, check_required, hash_entries
from export.verify_package.errors import UnreadableInput
from export.verify_package.evidence import WARC_DIR, check_evidence
from export.verify_package.indexcheck import INDEX, PACKAGE_JSON, Index, check_index, check_package_json, parse_index
from export.verify_package.meter import Meter, Progress
from export.verify_package.proofs import ENVELOPES, INCLUSION, SignedVersion, check_envelopes
from export.verify_package.report import Findings, PackageReport, document_results
from export.verify_package.trust import (
    CHECKPOINT,
    PUBLIC_KEYS,
    SIGNATURE_FILE,
    SIGNED_FILE,
    TIMESTAMP,
    TSA_ROOTS,
    TrustedKeys,
    check_checkpoint,
    check_package_signature,
    check_timestamp,
    read_key_file,
    read_roots_file,
    trusted_keys,
)
from export.verify_package.warcscan import WarcIndex
from export.verify_package.zipread import Limits, PackageZip

_PROOFS = "data/proofs/"
_LINE_FILES = (ENVELOPES, INCLUSION)
# The two line files are re-read from the zip instead of held when larger than this (a package of
# a million versions holds about 1.5 GB of them); they are still hashed only in the first pass.
_LINES_IN_MEMORY = 64 << 20
_MAX_LINE_BYTES = 1 << 20
_WARC_SUFFIX = ".warc.gz"


def _wanted(name: str) -> bool:
    """Tag files and the control files of data/ are read into memory; documents and WARCs only stream."""
    return not name.startswith("data/") or name in (INDEX, PACKAGE_JSON) or name.startswith(_PROOFS)


def _keep(name: str, size: int) -> bool:
    return _wanted(name) and size <= (_LINES_IN_MEMORY if name in _LINE_FILES else MAX_KEPT_BYTES)


def _is_warc(name: str) -> bool:
    return name.startswith(WARC_DIR) and name.endswith(_WARC_SUFFIX)


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Newline-separated lines across chunk boundaries; a runaway line is cut at ``_MAX_LINE_BYTES``."""
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines
        if len(rest) > _MAX_LINE_BYTES:
            yield rest  # not a line any reader accepts; it is reported as malformed
            rest = b""
    if rest:
        yield rest


def _lines(pz: PackageZip, passed: Pass, name: str) -> Iterator[bytes]:
    if name in passed.kept:
        yield from split_lines([passed.kept[name]])
    elif name in pz.entries:
        yield from split_lines(pz.stream(name))


def verify_package(path: Path, *, keys_file: Path | None = None, tsa_roots: Path | None = None,
                   progress: Progress | None = None, limits: Limits | None = None) -> PackageReport:
    """Verify the production package at ``path`` with the standard library and ``cryptography`` alone.

    Problems inside the package are findings (the result's ``ok`` is False when any is an error);
    input that cannot be read safely at all raises :class:`UnreadableInput`. ``progress(done, total)``
    is called with bytes verified as the work proceeds.
    """
    from_file = read_key_file(keys_file) if keys_file is not None else None
    roots = read_roots_file(tsa_roots) if tsa_roots is not None else None
    findings = Findings()
    with PackageZip(path, limits) as pz:
        if "bagit.txt" not in pz.entries:
            raise UnreadableInput(f"{path} is not a production package: its zip has no bagit.txt at the root "
                                  "(the bag must not sit inside a folder)")
        line_bytes = pz.entries[ENVELOPES].size if ENVELOPES in pz.entries else 0
        meter = Meter(pz.total_size + line_bytes, progress)
        warcs = WarcIndex(pz.limits)
        passed = hash_entries(pz, keep=_keep, feeder=lambda n: warcs.scanner(n) if _is_warc(n) else None,
                              meter=meter)
        index = parse_index(passed.kept.get(INDEX))
        check_required(passed, findings, oversized=[n for n in pz.entries if _wanted(n) and n not in passed.kept
                                                    and n not in _LINE_FILES])
        bag_info = check_bag(passed, index, findings)
        keys = trusted_keys(from_file, passed.kept.get(PUBLIC_KEYS), findings)
        check_package_signature(passed.kept.get(SIGNATURE_FILE), passed.kept.get(SIGNED_FILE), keys, findings)
        checkpoint = check_checkpoint(passed.kept.get(CHECKPOINT), keys, findings)
        stamp = check_timestamp(passed.kept.get(TIMESTAMP), passed.kept.get(CHECKPOINT), roots,
                                passed.kept.get(TSA_ROOTS), findings)
        versions = check_envelopes(_lines(pz, passed, ENVELOPES), _lines(pz, passed, INCLUSION), keys, checkpoint,
                                   index, findings, meter)
        _check_contents(pz, passed, warcs, index, versions, findings)
        check_package_json(passed.kept.get(PACKAGE_JSON), index, {label: bag_info.first(label) for label in
                           ("External-Identifier", "Arsip-Production-Id")},
                           checkpoint.size if checkpoint else None, findings)
        meter.finish()
    return _result(path, findings, index, _totals(index, versions, warcs, passed), keys, checkpoint, stamp)


def _check_contents(pz: PackageZip, passed: Pass, warcs: WarcIndex, index: Index, versions: list[SignedVersion],
                    findings: Findings) -> None:
    """Steps 7 and 8: the WARC records and files against the envelopes, index.csv against it all."""
    for name in sorted(n for n in pz.entries if n.startswith(WARC_DIR) and not _is_warc(n)):
        findings.warning("warc_not_checked", name, f"is not a {_WARC_SUFFIX} file; only its manifest digests "
                                                   "were checked")
    check_evidence(versions, warcs, passed.hashed, index, findings)
    check_index(index, passed.hashed, Counter(v.record_id for v in versions), findings)


def _totals(index: Index, versions: list[SignedVersion], warcs: WarcIndex, passed: Pass) -> dict[str, int]:
    statuses = Counter(str(row.status) for row in index.rows)
    return {"documents": len(index.rows), "produced": statuses["produced"], "redacted": statuses["redacted"],
            "withheld": statuses["withheld"], "envelopes": len(versions), "warc_files": len(warcs.files),
            "warc_records": len(warcs.records),
            "files": len(passed.hashed), "bytes": sum(h.size for h in passed.hashed.values())}


def _result(path: Path, findings: Findings, index: Index, totals: dict[str, int], keys: TrustedKeys,
            checkpoint: Checkpoint | None, stamp: dict[str, Any] | None) -> PackageReport:
    report = findings.close()
    documents = document_results(((r.doc_id, r.record_id, str(r.status), r.versions) for r in index.rows),
                                 findings.problems)
    failed = sum(1 for d in documents if not d.ok)
    totals = {**totals, "documents_ok": len(documents) - failed, "documents_failed": failed}
    return PackageReport(package=Path(path), report=report, documents=documents, totals=totals,
                         trusted_keys=sorted(keys.keys), keys_source=keys.source, timestamp=stamp,
                         checkpoint={"origin": checkpoint.origin, "size": checkpoint.size,
                                     "root": checkpoint.root_hash.hex()} if checkpoint else None)
