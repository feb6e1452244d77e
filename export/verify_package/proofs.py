"""Step 6: every signed envelope (hash, signature), its inclusion proof against the checkpoint, and each
record's chain of versions.

``inclusion.jsonl`` line n proves ``envelopes.jsonl`` line n (the package writer emits both in one
loop), so both are read in step, one line at a time; a proof out of step is found by its log index
at the cost of buffering the proofs skipped over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from archiver.errors import ArchiverError
from archiver.integrity.checkpoint import Checkpoint
from archiver.integrity.envelope import WarcRef, parse_envelope_line
from archiver.integrity.keys import verify_signature
from archiver.integrity.merkle import leaf_hash, verify_inclusion
from export.verify_package.indexcheck import Index
from export.verify_package.meter import Meter
from export.verify_package.report import Findings
from export.verify_package.trust import TrustedKeys

ENVELOPES = "data/proofs/envelopes.jsonl"
INCLUSION = "data/proofs/inclusion.jsonl"


@dataclass(frozen=True, slots=True)
class SignedVersion:
    """What the later steps need from one envelope line."""

    line: int
    log_index: int
    record_id: str
    version: int
    sha256: str  # recomputed from the canonical bytes, not as claimed
    content_sha256: str
    version_ref: WarcRef
    evidence: tuple[WarcRef, ...]
    previous: str | None

    @property
    def subject(self) -> str:
        return f"record {self.record_id} version {self.version}"


@dataclass(frozen=True, slots=True)
class _Proof:
    line: int
    log_index: int
    leaf: str
    tree_size: int
    path: list[bytes]


def _hashes(values: Any) -> list[bytes] | None:
    """A list of 64-hex-digit strings as 32-byte hashes, or None."""
    if not isinstance(values, list) or not all(isinstance(v, str) and len(v) == 64 for v in values):
        return None
    try:
        hashes = [bytes.fromhex(v) for v in values]
    except ValueError:
        return None
    return hashes if all(len(h) == 32 for h in hashes) else None  # fromhex skips spaces


def _parse_proof(number: int, raw: bytes) -> _Proof | str:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return f"is not JSON ({exc})"
    if not isinstance(data, dict):
        return "is not a JSON object"
    index, size, leaf = data.get("log_index"), data.get("tree_size"), data.get("leaf_sha256")
    path = _hashes(data.get("path"))
    leaves = _hashes([leaf])
    if not (type(index) is int and type(size) is int and path is not None and leaves is not None):
        return "needs integer log_index and tree_size, a hex leaf_sha256 and a path of hex SHA-256 hashes"
    return _Proof(number, index, leaves[0].hex(), size, path)


class InclusionLines:
    """The proofs of inclusion.jsonl, taken by log index in the order envelopes need them."""

    def __init__(self, lines: Iterable[bytes], findings: Findings) -> None:
        self._lines = enumerate(lines, start=1)
        self._pending: dict[int, _Proof] = {}
        self._findings = findings

    def take(self, log_index: int) -> _Proof | None:
        if log_index in self._pending:
            return self._pending.pop(log_index)
        for number, raw in self._lines:
            proof = _parse_proof(number, raw)
            if isinstance(proof, str):
                self._findings.error("inclusion_malformed", f"{INCLUSION} line {number}", proof)
                continue
            if proof.log_index == log_index:
                return proof
            self._pending.setdefault(proof.log_index, proof)
        return None

    def leftovers(self) -> list[_Proof]:
        for number, raw in self._lines:
            proof = _parse_proof(number, raw)
            if not isinstance(proof, str):
                self._pending.setdefault(proof.log_index, proof)
        return sorted(self._pending.values(), key=lambda p: p.line)


def check_envelopes(lines: Iterable[bytes], proofs: Iterable[bytes], keys: TrustedKeys, checkpoint: Checkpoint | None,
                    index: Index, findings: Findings, meter: Meter) -> list[SignedVersion]:
    inclusion = InclusionLines(proofs, findings)
    versions: list[SignedVersion] = []
    for number, raw in enumerate(lines, start=1):
        meter.advance(len(raw) + 1)
        signed = _check_line(number, raw, keys, index, findings)
        if signed is None:
            continue
        versions.append(signed)
        _check_inclusion(signed, inclusion.take(signed.log_index), checkpoint, index, findings)
    for proof in inclusion.leftovers():
        findings.warning("inclusion_unmatched", f"{INCLUSION} line {proof.line}",
                         f"proves log entry {proof.log_index}, which no envelope in the package has")
    _check_chains(versions, index, findings)
    findings.count("envelopes", len(versions))
    return versions


def _docs(index: Index, record_id: str) -> list[str]:
    doc = index.doc_for_record(record_id)
    return [doc] if doc else []


def _check_line(number: int, raw: bytes, keys: TrustedKeys, index: Index, findings: Findings) -> SignedVersion | None:
    where = f"{ENVELOPES} line {number}"
    try:
        parsed = parse_envelope_line(raw)
    except (ArchiverError, ValueError, TypeError, KeyError, AttributeError) as exc:
        findings.error("envelope_malformed", where, f"cannot be read as a signed envelope ({exc})")
        return None
    envelope = parsed.envelope
    signed = SignedVersion(number, envelope.log_index, envelope.record_id, envelope.version, parsed.actual_sha256,
                           envelope.content_sha256, envelope.version_ref, envelope.evidence, envelope.previous)
    docs = _docs(index, signed.record_id)
    if parsed.claimed_sha256 != parsed.actual_sha256:
        findings.error("envelope_altered", signed.subject, f"{where}: the envelope hashes to {parsed.actual_sha256} "
                       f"but the line claims {parsed.claimed_sha256}: it was changed after signing", docs=docs)
    info = keys.keys.get(parsed.key_id)
    if info is None:
        findings.error("envelope_signature_invalid", signed.subject, f"{where}: signed by key {parsed.key_id}, "
                       "which is not a trusted key", docs=docs)
    elif not verify_signature(info.public_key_bytes, parsed.signature, parsed.canonical):
        findings.error("envelope_signature_invalid", signed.subject, f"{where}: the signature by key "
                       f"{parsed.key_id} does not verify over the envelope", docs=docs)
    else:
        findings.count("envelope_signatures")
    return signed


def _check_inclusion(signed: SignedVersion, proof: _Proof | None, checkpoint: Checkpoint | None, index: Index,
                     findings: Findings) -> None:
    docs = _docs(index, signed.record_id)
    subject = f"{signed.subject} (log entry {signed.log_index})"
    if proof is None:
        findings.error("inclusion_missing", subject, f"{INCLUSION} has no proof for log entry {signed.log_index}",
                       docs=docs)
        return
    where = f"{INCLUSION} line {proof.line}"
    if checkpoint is None:
        for doc in docs:
            findings.mark(doc, "inclusion_unproven: there is no verified checkpoint to prove its envelopes against")
        return
    if signed.log_index >= checkpoint.size:
        findings.error("inclusion_invalid", subject, f"log entry {signed.log_index} is beyond the checkpoint, which "
                       f"covers {checkpoint.size} entries", docs=docs)
    elif proof.tree_size != checkpoint.size:
        findings.error("inclusion_size_mismatch", subject, f"{where} proves inclusion in a tree of "
                       f"{proof.tree_size} entries, but the checkpoint is for {checkpoint.size}", docs=docs)
    elif proof.leaf != signed.sha256:
        findings.error("inclusion_invalid", subject, f"{where} proves leaf {proof.leaf}, not this envelope "
                       f"({signed.sha256})", docs=docs)
    elif not verify_inclusion(leaf_hash(bytes.fromhex(signed.sha256)), signed.log_index, checkpoint.size,
                              proof.path, checkpoint.root_hash):
        findings.error("inclusion_invalid", subject, f"{where}: the audit path does not lead from the envelope to "
                       f"the checkpoint's root at size {checkpoint.size}", docs=docs)
    else:
        findings.count("inclusion_proofs")


def _check_chains(versions: list[SignedVersion], index: Index, findings: Findings) -> None:
    """Each version names the previous version's envelope hash, when both are in the package."""
    by_record: dict[str, dict[int, SignedVersion]] = {}
    for signed in versions:
        seen = by_record.setdefault(signed.record_id, {})
        if signed.version in seen:
            findings.error("envelope_duplicate", signed.subject, f"{ENVELOPES} lines {seen[signed.version].line} "
                           f"and {signed.line} both claim this version", docs=_docs(index, signed.record_id))
            continue
        seen[signed.version] = signed
    for record_versions in by_record.values():
        for number, signed in sorted(record_versions.items()):
            before = record_versions.get(number - 1)
            expected = before.sha256 if before else None
            if (before is not None or number == 1) and signed.previous != expected:
                findings.error("chain_broken", signed.subject, f"names {signed.previous} as its previous version, "
                               f"but the previous version's envelope hashes to {expected}",
                               docs=_docs(index, signed.record_id))
