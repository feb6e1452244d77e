"""Signed disposition certificates and what they tell verifiers and `arsip rebuild`.

A certificate (``disposition/<batch>/certificate.json``) is the signed proof of how records left the
archive: batch, action, approvals, executor and time, the schedule items and authorities, the log
size and root at the time (the Merkle log keeps proving the records existed), the objects deleted
and written, and the SHA-256 of two lists kept next to it: ``records.jsonl`` (one tombstone per
record: identity, schedule item, authority, every version's digests) and ``moves.jsonl`` (kept
WARC records copied into compacted objects). A certificate that was prepared but could not be
carried out is cancelled by a signed ``void.json`` next to it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from archiver.integrity.envelope import WarcRef, canonical_json
from archiver.integrity.keys import PublicKeyInfo, Signer, verify_signature
from archiver.store.base import BlobStore

DISPOSITION_PREFIX = "disposition/"
CERTIFICATE_SCHEMA = "arsip.disposition-certificate/1"


def batch_key(batch_id: str, name: str) -> str:
    return f"{DISPOSITION_PREFIX}{batch_id}/{name}"


def sign(body: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    signature = signer.sign(canonical_json(dict(body)))
    return {"certificate": dict(body), "key_id": signer.key_id, "signature": base64.b64encode(signature).decode()}


def check_signed(signed: Mapping[str, Any], keys: Mapping[str, PublicKeyInfo]) -> str | None:
    """None when the signature verifies with a published key, else what is wrong."""
    info = keys.get(str(signed.get("key_id")))
    if info is None:
        return f"signed by key {signed.get('key_id')}, which is not published under keys/"
    try:
        signature = base64.b64decode(str(signed["signature"]), validate=True)
        body = canonical_json(signed["certificate"])
    except (KeyError, ValueError):
        return "malformed signed document"
    return None if verify_signature(info.public_key_bytes, signature, body) else "signature does not verify"


def jsonl(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return b"".join(jsonl_line(row) for row in rows)


def jsonl_line(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


@dataclass
class Ledger:
    """Everything the store's certificates say happened, as lookups for verifying and rebuilding."""

    destroyed: dict[int, str] = field(default_factory=dict)  # log index -> content sha256 it had
    deleted: dict[str, str] = field(default_factory=dict)  # object key -> batch that deleted it
    written: dict[str, dict[str, Any]] = field(default_factory=dict)  # compacted key -> sha256, size, records
    replaced: dict[str, str] = field(default_factory=dict)  # old object key -> its compacted successor
    moves: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)  # (key, offset) -> new
    tombstones: list[dict[str, Any]] = field(default_factory=list)  # record-list lines + batch_id, for rebuild
    certificates: dict[str, dict[str, Any]] = field(default_factory=dict)  # batch id -> certificate body

    def locate(self, key: str, offset: int) -> tuple[str, int]:
        """Where a record signed at (key, offset) is now, following compactions."""
        for _ in range(1000):
            moved = self.moves.get((key, offset))
            if moved is None:
                return key, offset
            key, offset = moved
        raise ValueError("compaction moves form a cycle")

    def relocated(self, ref: WarcRef) -> WarcRef:
        key, offset = self.locate(ref.key, ref.offset)
        return ref if key == ref.key else replace(ref, key=key, offset=offset)

    def current_object(self, key: str) -> str | None:
        """The object now holding what ``key`` kept (None when it was deleted outright)."""
        while key in self.replaced:
            key = self.replaced[key]
        return None if key in self.deleted else key


def load_ledger(store: BlobStore, keys: Mapping[str, PublicKeyInfo],
                problem: Callable[[str, str, str], None]) -> Ledger:
    """Read every certificate; a bad signature or list is reported through ``problem`` and ignored
    (so an unverifiable certificate can never excuse a missing object)."""
    ledger = Ledger()
    for key in sorted(item.key for item in store.list(DISPOSITION_PREFIX) if item.key.endswith("/certificate.json")):
        batch_id = key.split("/")[1]
        if store.head(batch_key(batch_id, "void.json")) is not None:
            continue
        signed = json.loads(store.get_bytes(key))
        wrong = check_signed(signed, keys)
        if wrong is not None:
            problem("bad_certificate", key, wrong)
            continue
        body = signed["certificate"]
        try:
            _absorb(store, ledger, batch_id, body)
        except ValueError as exc:
            problem("bad_certificate", key, str(exc))
    return ledger


def _absorb(store: BlobStore, ledger: Ledger, batch_id: str, body: Mapping[str, Any]) -> None:
    records = list(_checked_lines(store, body["list"]))
    moves = list(_checked_lines(store, body["moves"]))
    ledger.certificates[batch_id] = dict(body)
    for row in records:
        ledger.tombstones.append({**row, "batch_id": batch_id})
        for version in row["versions"]:
            ledger.destroyed[int(version["log_index"])] = str(version["content_sha256"])
    for obj in body["objects_deleted"]:
        ledger.deleted[obj["key"]] = batch_id
    for obj in body["objects_written"]:
        ledger.written[obj["key"]] = {"sha256": obj["sha256"], "size": obj["size"], "records": obj["records"]}
        ledger.replaced[obj["replaces"]] = obj["key"]
    for move in moves:
        ledger.moves[(move["from_key"], int(move["from_offset"]))] = (move["to_key"], int(move["to_offset"]))


def _checked_lines(store: BlobStore, listed: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    body = store.get_bytes(str(listed["key"]))
    if hashlib.sha256(body).hexdigest() != listed["sha256"]:
        raise ValueError(f"{listed['key']} does not match the SHA-256 the certificate signed")
    rows = [json.loads(line) for line in body.splitlines() if line.strip()]
    if len(rows) != int(listed["count"]):
        raise ValueError(f"{listed['key']} has {len(rows)} lines, the certificate signed {listed['count']}")
    yield from rows
