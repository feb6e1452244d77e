"""Step 2, the bag: one streaming pass hashes every entry once, then manifests, tag manifests and Oxum.

bagit-python is not used: an auditor installs only ``cryptography``, and bagit would extract to disk
and read every file twice. The pass computes SHA-256 and SHA-512 of each entry in one read, hands
WARC files to the WARC scanner as they stream and keeps the small control files (tag files, index,
proofs) in memory for the later steps. The test suite validates the same bags with bagit-python, an
independent reader. Each kind of failure is one finding naming the first failing file and a count;
every document a failing file belongs to is marked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from export.verify_package.bagfiles import (
    ALGORITHMS,
    BAGIT_TXT,
    BagInfo,
    Manifest,
    parse_bag_info,
    parse_manifest,
    payload_manifest,
    tag_manifest,
)
from export.verify_package.indexcheck import Index
from export.verify_package.meter import Meter
from export.verify_package.report import Findings
from export.verify_package.zipread import PackageZip

MAX_KEPT_BYTES = 256 << 20
REQUIRED = ("data/README.txt", "data/package.json", "data/index.csv", "data/chain-of-custody.json",
            "data/withholding-log.csv", "data/proofs/envelopes.jsonl", "data/proofs/inclusion.jsonl",
            "data/proofs/checkpoint.note")


class Feeder(Protocol):
    def feed(self, data: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Hashed:
    size: int
    sha256: str
    sha512: str

    def digest(self, algorithm: str) -> str:
        return self.sha256 if algorithm == "sha256" else self.sha512


@dataclass
class Pass:
    """What one read of every entry established: digests and sizes, and the bytes of the files kept."""

    hashed: dict[str, Hashed] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)

    def payload(self) -> dict[str, Hashed]:
        return {name: h for name, h in self.hashed.items() if name.startswith("data/")}


def hash_entries(pz: PackageZip, *, keep: Callable[[str, int], bool], feeder: Callable[[str], Feeder | None],
                 meter: Meter) -> Pass:
    """Read every entry once: both digests, the WARC scanner fed, the files ``keep`` wants held."""
    passed = Pass()
    for name, entry in pz.entries.items():
        sha256, sha512, size = hashlib.sha256(), hashlib.sha512(), 0
        sink = feeder(name)
        chunks: list[bytes] | None = [] if keep(name, entry.size) else None
        for chunk in pz.stream(name):
            sha256.update(chunk)
            sha512.update(chunk)
            size += len(chunk)
            if sink is not None:
                sink.feed(chunk)
            if chunks is not None:
                chunks.append(chunk)
            meter.advance(len(chunk))
        if sink is not None:
            sink.close()
        passed.hashed[name] = Hashed(size, sha256.hexdigest(), sha512.hexdigest())
        if chunks is not None:
            passed.kept[name] = b"".join(chunks)
    return passed


def check_bag(passed: Pass, index: Index, findings: Findings) -> BagInfo:
    """bagit.txt, bag-info.txt and Payload-Oxum, both payload manifests, both tag manifests."""
    declared = passed.kept.get("bagit.txt")
    if declared != BAGIT_TXT:
        findings.error("bagit_txt_invalid", "bagit.txt", f"is {(declared or b'')[:100]!r}, not exactly "
                                                         f"{BAGIT_TXT!r} (BagIt 1.0, UTF-8 tag files)")
    info_bytes = passed.kept.get("bag-info.txt")
    info = parse_bag_info(info_bytes) if info_bytes is not None else BagInfo(problems=["is missing"])
    for problem in info.problems:
        findings.error("bag_info_invalid", "bag-info.txt", problem)
    payload = passed.payload()
    _check_oxum(info, payload, findings)
    manifests = []
    for algorithm in ALGORITHMS:
        manifest = _read_manifest(passed, payload_manifest(algorithm), algorithm, findings)
        if manifest is not None:
            manifests.append(manifest)
    _check_payload(payload, manifests, index, findings)
    _check_tags(passed, findings)
    for name in sorted(passed.hashed):
        if name.startswith("manifest-") and name not in {payload_manifest(a) for a in ALGORITHMS}:
            findings.warning("manifest_not_checked", name, "uses an algorithm this verifier does not check; "
                                                           "the SHA-256 and SHA-512 manifests were checked")
    return info


def check_required(passed: Pass, findings: Findings, *, oversized: Iterable[str] = ()) -> None:
    for name in REQUIRED:
        if name not in passed.hashed:
            findings.error("required_file_missing", name, "is missing: every production package carries it")
    for name in oversized:
        findings.error("file_too_large", name, f"is {passed.hashed[name].size} bytes; the verifier reads at most "
                                               f"{MAX_KEPT_BYTES} bytes of it into memory")


def _check_oxum(info: BagInfo, payload: dict[str, Hashed], findings: Findings) -> None:
    actual = (sum(h.size for h in payload.values()), len(payload))
    oxum = info.oxum()
    if oxum is None:
        findings.error("bag_info_invalid", "bag-info.txt", "has no single Payload-Oxum of the form "
                                                           "<octets>.<files>")
    elif oxum != actual:
        findings.error("payload_oxum_mismatch", "bag-info.txt", f"Payload-Oxum is {oxum[0]}.{oxum[1]}, but data/ "
                                                                f"holds {actual[0]} bytes in {actual[1]} files")


def _read_manifest(passed: Pass, name: str, algorithm: str, findings: Findings) -> Manifest | None:
    data = passed.kept.get(name)
    if data is None:
        findings.error("manifest_missing", name, "is missing: a production package has SHA-256 and SHA-512 "
                                                 "payload manifests")
        return None
    manifest = parse_manifest(name, algorithm, data)
    outside = sorted(p for p in manifest.digests if not p.startswith("data/"))
    for path in outside:
        del manifest.digests[path]
        manifest.problems.append(f"lists {path!r}, which is not under data/")
    _report_manifest_problems(manifest, findings)
    return manifest


def _report_manifest_problems(manifest: Manifest, findings: Findings) -> None:
    if manifest.problems:
        findings.error("manifest_malformed", manifest.name, manifest.problems[0] + _more(len(manifest.problems),
                                                                                          "lines are unreadable"))


def _more(count: int, what: str) -> str:
    return f" ({count} {what} in all)" if count > 1 else ""


def _check_payload(payload: dict[str, Hashed], manifests: list[Manifest], index: Index, findings: Findings) -> None:
    listed: set[str] = set().union(*(m.digests.keys() for m in manifests))
    missing = sorted(listed - payload.keys())
    if missing:
        names = " and ".join(m.name for m in manifests if missing[0] in m.digests)
        _aggregate(findings, index, "missing_file", missing,
                   f"is listed in {names} but is not in the package", "listed files are missing")
    unlisted = sorted(p for p in payload if any(p not in m.digests for m in manifests))
    if unlisted:
        names = " and ".join(m.name for m in manifests if unlisted[0] not in m.digests)
        _aggregate(findings, index, "unlisted_file", unlisted, f"is in the package but not listed in {names}",
                   "files are not listed")
    differing: dict[str, list[str]] = {}
    for path, hashed in payload.items():
        for manifest in manifests:
            expected = manifest.digests.get(path)
            if expected is not None and expected != hashed.digest(manifest.algorithm):
                differing.setdefault(path, []).append(
                    f"{manifest.algorithm} is {hashed.digest(manifest.algorithm)}, {manifest.name} says {expected}")
    if differing:
        paths = sorted(differing)
        _aggregate(findings, index, "payload_digest_mismatch", paths, "; ".join(differing[paths[0]]),
                   "files differ from the manifests")
    findings.count("payload_files", len(payload))


def _aggregate(findings: Findings, index: Index, code: str, paths: list[str], message: str, what: str) -> None:
    """One finding for the first path with a count, and every path's document marked."""
    findings.error(code, paths[0], message + _more(len(paths), what))
    for path in paths:
        doc = index.doc_for_path(path)
        if doc is not None:
            findings.mark(doc, f"{code}: {path}")


def _check_tags(passed: Pass, findings: Findings) -> None:
    tag_files = {n for n in passed.hashed if not n.startswith(("data/", "tagmanifest-"))}
    for algorithm in ALGORITHMS:
        name = tag_manifest(algorithm)
        data = passed.kept.get(name)
        if data is None:
            findings.error("tag_manifest_missing", name, "is missing: a production package has SHA-256 and "
                                                         "SHA-512 tag manifests")
            continue
        manifest = parse_manifest(name, algorithm, data)
        _report_manifest_problems(manifest, findings)
        for path, expected in sorted(manifest.digests.items()):
            hashed = passed.hashed.get(path)
            if path not in tag_files:
                findings.error("tag_file_missing", path, f"is listed in {name} but is not a tag file of the package")
            elif hashed is not None and hashed.digest(algorithm) != expected:
                findings.error("tag_digest_mismatch", path, f"{algorithm} is {hashed.digest(algorithm)}, {name} "
                                                            f"says {expected}")
        for path in sorted(tag_files - manifest.digests.keys()):
            findings.error("tag_file_unlisted", path, f"is in the package but not listed in {name}")
        findings.count("tag_files", len(manifest.digests))
