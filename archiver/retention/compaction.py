"""Rewrite a WARC object without the records of destroyed versions (DESIGN.md "Storage layout").

When disposition destroys some records of an object and must keep others (held, not yet due, or
under another schedule item), the kept records are copied byte for byte, gzip member by gzip
member, into a new object that opens with its own warcinfo; the old object is then deleted. The
copies keep their WARC-Record-IDs and digests, so the signed envelopes still verify against them;
only their offsets change, and the signed certificate lists every move (old key and offset → new).

What is kept: every record a kept version refers to (its document and its source exchanges), and
the request/metadata records that declare themselves concurrent to one of those. Everything else
goes: destroyed versions' documents and exchanges, and re-observation exchanges that produced no
version (they cannot be attributed to one record and may carry destroyed content).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from archiver.store.base import BlobStore
from archiver.warc.reader import iter_records
from archiver.warc.writer import WarcFile

WARC_TYPE = "application/warc"


@dataclass(frozen=True)
class Member:
    record_id: str
    warc_type: str
    offset: int
    length: int
    concurrent_to: frozenset[str]


@dataclass(frozen=True)
class Move:
    old_offset: int
    new_offset: int
    length: int
    record_id: str


@dataclass(frozen=True)
class Compacted:
    """One object rewritten: where its kept records went."""

    old_key: str
    new_key: str
    sha256: str
    size: int
    records: int
    moves: tuple[Move, ...]


def scan_members(store: BlobStore, key: str) -> list[Member]:
    """Every record of an object with its position (digests are verified on the way)."""
    with store.open(key) as stream:
        return [Member(record_id=r.record_id, warc_type=r.warc_type, offset=r.offset, length=r.length,
                       concurrent_to=frozenset(r.headers.get("warc-concurrent-to", [])))
                for r in iter_records(stream, key=key, want_payload=lambda _t: False)]


def members_to_keep(members: Iterable[Member], kept_offsets: set[int]) -> list[Member]:
    """The records of kept versions plus the request/metadata records concurrent to them."""
    listed = list(members)
    kept_ids = {m.record_id for m in listed if m.offset in kept_offsets}
    return [m for m in listed if m.offset in kept_offsets
            or (m.warc_type in ("request", "metadata") and m.concurrent_to & kept_ids)]


def needs_rewrite(members: list[Member], keep: list[Member]) -> bool:
    """False when the object holds nothing but what is kept (and its warcinfo)."""
    return any(m.warc_type != "warcinfo" for m in members if m not in keep)


def rewrite(store: BlobStore, key: str, keep: list[Member], *, new_key: str, batch_id: str, version: str,
            now: datetime) -> Compacted:
    """Write ``keep`` into ``new_key`` and report the moves. A retried disposition overwrites an
    earlier attempt's object: no certificate refers to it until the disposition commits."""
    with tempfile.TemporaryDirectory(prefix="arsip-compact-") as tmp:
        path = Path(tmp) / new_key.rsplit("/", 1)[-1]
        info = {"description": f"Arsip disposition {batch_id}: records kept from {key}", "isPartOf": batch_id}
        warc = WarcFile(path, version=version, info=info, date=now)
        warc.close()
        moves = []
        with path.open("ab") as out:
            for member in sorted(keep, key=lambda m: m.offset):
                new_offset = out.tell()
                out.write(store.get_range(key, member.offset, member.length))
                moves.append(Move(old_offset=member.offset, new_offset=new_offset, length=member.length,
                                  record_id=member.record_id))
        digest = _sha256(path)
        store.put_file(new_key, path, content_type=WARC_TYPE)
        return Compacted(old_key=key, new_key=new_key, sha256=digest, size=path.stat().st_size,
                         records=len(keep) + 1, moves=tuple(moves))


def compacted_key(key: str, batch_id: str) -> str:
    stem = key.removesuffix(".warc.gz")
    return f"{stem}.{batch_id}.warc.gz"


def moved_offsets(result: Compacted) -> Mapping[int, int]:
    return {m.old_offset: m.new_offset for m in result.moves}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
