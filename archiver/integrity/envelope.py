"""Version envelopes: the RFC 8785 canonical JSON that is signed and whose hash becomes a Merkle leaf."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from archiver.clock import isoformat_z, parse_timestamp
from archiver.errors import IntegrityError

ENVELOPE_SCHEMA = "arsip.envelope/1"


SAFE_INTEGER = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of ``value``: the one serialization Arsip hashes and signs.

    For JSON made only of ASCII-keyed objects, arrays, strings, booleans, null and integers within
    ±(2**53 - 1) — every envelope Arsip writes — JCS output is byte-identical to Python's sorted,
    compact, non-ASCII-escaping ``json.dumps`` (same key order, same string escapes, same integer
    form), which is an order of magnitude faster than the pure-Python reference implementation. Any
    other value (floats, non-ASCII keys, huge integers) goes through ``rfc8785`` itself; a property
    test checks the two agree.
    """
    if _plain(value):
        return _plain_jcs(value)
    # Imported here: envelopes never need it, and the offline package verifier must not (its
    # footprint is the standard library and cryptography).
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise IntegrityError(f"value cannot be canonicalized as RFC 8785 JSON: {exc}",
                             code="not_canonicalizable") from None


def _plain_jcs(value: Any) -> bytes:
    """JCS of a value ``_plain`` accepts: sorted, compact, non-ASCII-escaping ``json.dumps``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _plain(value: Any) -> bool:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -SAFE_INTEGER <= value <= SAFE_INTEGER
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return False


def stable_json(value: Any) -> bytes:
    """Deterministic compact JSON (sorted keys, UTF-8) for version documents.

    Documents are not signed directly: the envelope (RFC 8785) signs the SHA-256 of the document's
    exact bytes, so the document only needs one reproducible serialization. This one is several
    times faster than pure-Python JCS on long texts and re-serializing a parsed document gives the
    same bytes again, which is how a verifier detects an edited catalog copy.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class WarcRef:
    """Where a WARC record lives: enough for one range read and a digest check."""

    key: str
    offset: int
    length: int
    record_id: str
    digest: str  # the record's WARC-Block-Digest, "sha256:<hex>"

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "offset": self.offset, "length": self.length,
                "record_id": self.record_id, "digest": self.digest}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WarcRef:
        return cls(key=data["key"], offset=int(data["offset"]), length=int(data["length"]),
                   record_id=data["record_id"], digest=data["digest"])


@dataclass(frozen=True)
class Envelope:
    """What is signed for one version: identity, state, content digest, where the evidence is, and
    the previous version's envelope hash (so a record's versions form a chain)."""

    log_index: int
    record_id: str
    platform: str
    platform_id: str
    account_id: str
    kind: str
    version: int
    state: str
    reason: str | None
    detection: str | None
    content_sha256: str
    captured_at: datetime
    run_id: str
    source: str
    version_ref: WarcRef
    evidence: tuple[WarcRef, ...]
    previous: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": ENVELOPE_SCHEMA,
            "log_index": self.log_index,
            "record": {"id": self.record_id, "platform": self.platform, "platform_id": self.platform_id,
                       "account": self.account_id, "kind": self.kind},
            "version": self.version,
            "state": self.state,
            "reason": self.reason,
            "detection": self.detection,
            "content_sha256": self.content_sha256,
            "captured_at": isoformat_z(self.captured_at),
            "run": self.run_id,
            "source": self.source,
            "warc": self.version_ref.to_json(),
            "evidence": [ref.to_json() for ref in self.evidence],
            "previous": self.previous,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Envelope:
        if data.get("schema") != ENVELOPE_SCHEMA:
            raise IntegrityError(f"unknown envelope schema {data.get('schema')!r}", code="envelope_schema")
        record = data["record"]
        return cls(
            log_index=int(data["log_index"]), record_id=record["id"], platform=record["platform"],
            platform_id=record["platform_id"], account_id=record["account"], kind=record["kind"],
            version=int(data["version"]), state=data["state"], reason=data["reason"],
            detection=data["detection"], content_sha256=data["content_sha256"],
            captured_at=parse_timestamp(data["captured_at"]), run_id=data["run"], source=data["source"],
            version_ref=WarcRef.from_json(data["warc"]),
            evidence=tuple(WarcRef.from_json(ref) for ref in data["evidence"]),
            previous=data["previous"],
        )

    def __post_init__(self) -> None:
        numbers = (self.log_index, self.version, self.version_ref.offset, self.version_ref.length,
                   *(n for ref in self.evidence for n in (ref.offset, ref.length)))
        if not all(0 <= n <= SAFE_INTEGER for n in numbers):
            raise IntegrityError("envelope numbers must be integers in 0..2**53-1", code="envelope_range")

    def canonical(self) -> bytes:
        """RFC 8785 bytes. An envelope is ASCII keys, strings, nulls and integers checked to lie in
        JCS's exact range (``__post_init__``), for which JCS equals sorted compact ``json.dumps``."""
        return _plain_jcs(self.to_json())


class SignerLike(Protocol):
    key_id: str

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class SignedEnvelope:
    """An envelope with its canonical bytes' SHA-256 (the Merkle leaf data) and Ed25519 signature."""

    envelope: Envelope
    canonical: bytes
    sha256: str
    key_id: str
    signature: bytes

    @property
    def leaf_data(self) -> bytes:
        return bytes.fromhex(self.sha256)

    def to_line(self) -> bytes:
        """One JSON line of a batch object, embedding the envelope's canonical bytes as signed."""
        tail = json.dumps({"sha256": self.sha256, "key_id": self.key_id,
                           "signature": base64.b64encode(self.signature).decode()}, separators=(",", ":"))
        return b'{"envelope":' + self.canonical + b"," + tail[1:].encode() + b"\n"


def sign_envelope(envelope: Envelope, signer: SignerLike) -> SignedEnvelope:
    canonical = envelope.canonical()
    return SignedEnvelope(envelope=envelope, canonical=canonical, sha256=sha256_hex(canonical),
                          key_id=signer.key_id, signature=signer.sign(canonical))


@dataclass(frozen=True)
class ParsedEnvelopeLine:
    """A batch-object line as read back, before any check: verifiers decide what to trust."""

    envelope: Envelope
    claimed_sha256: str
    actual_sha256: str
    key_id: str
    signature: bytes
    canonical: bytes


def parse_envelope_line(line: bytes) -> ParsedEnvelopeLine:
    """Parse one batch line, recomputing the canonical bytes and hash from the envelope JSON exactly as
    stored, so any added, removed or altered field changes the hash.

    A signed envelope holds only plain JSON (strings, nulls, ASCII keys, integers in JCS's exact
    range: see ``Envelope.__post_init__``), so a line with a float, a huge integer or a non-ASCII key
    was not written by a signer and is malformed. Refusing it here also keeps the offline verifier
    from ever needing ``rfc8785``."""
    try:
        data = json.loads(line)
        body = data["envelope"]
        if not _plain(body):
            raise ValueError("the envelope holds a float, an integer outside +/-(2**53 - 1) or a non-ASCII key")
        envelope = Envelope.from_json(body)
        canonical = _plain_jcs(body)
        signature = base64.b64decode(data["signature"], validate=True)
        claimed = str(data["sha256"])
        key_id = str(data["key_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"malformed envelope line: {exc}", code="envelope_format") from None
    return ParsedEnvelopeLine(envelope=envelope, claimed_sha256=claimed, actual_sha256=sha256_hex(canonical),
                              key_id=key_id, signature=signature, canonical=canonical)
