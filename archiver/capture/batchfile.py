"""The batch object format: a header line describing the batch, then one signed envelope per line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.clock import isoformat_z, parse_timestamp
from archiver.db.catalog import WarcObjectRow
from archiver.errors import IntegrityError
from archiver.integrity.envelope import ParsedEnvelopeLine, parse_envelope_line
from archiver.model import AccountInfo, RunInfo

BATCH_SCHEMA = "arsip.batch/1"
BATCH_PREFIX = "log/batches/"


def batch_key(run_id: str, sequence: int, first_index: int) -> str:
    """Batches are grouped by run (crash recovery lists one run) and name their first log index
    (a rebuild orders every batch by it without opening them)."""
    return f"{BATCH_PREFIX}{run_id}/{sequence:05d}-{first_index:012d}.jsonl"


def batch_order(key: str) -> tuple[int, str]:
    """Sort key for ingesting batches in log order."""
    name = key.rsplit("/", 1)[-1].removesuffix(".jsonl")
    try:
        return int(name.rsplit("-", 1)[1]), key
    except (IndexError, ValueError):
        raise IntegrityError(f"{key} is not a batch object name", code="batch_format") from None


@dataclass(frozen=True)
class BatchHeader:
    """Who produced the batch, where its log entries start, and which WARC objects it commits.

    Listing the WARC objects (with their SHA-256) makes every committed object accounted for, so
    an object no batch lists is an orphan of an interrupted run. ``seen`` records unchanged
    re-observations so a rebuilt catalog has the same last-seen times.
    """

    run: RunInfo
    account: AccountInfo
    sequence: int
    first_index: int
    count: int
    warc_objects: tuple[WarcObjectRow, ...]
    seen: Mapping[str, datetime]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": BATCH_SCHEMA, "run": self.run.to_json(), "account": self.account.to_json(),
            "sequence": self.sequence, "first_index": self.first_index, "count": self.count,
            "warc": [{"key": w.key, "partition": w.partition, "size": w.size, "sha256": w.sha256,
                      "records": w.records} for w in self.warc_objects],
            "seen": {rid: isoformat_z(at) for rid, at in sorted(self.seen.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchHeader:
        if data.get("schema") != BATCH_SCHEMA:
            raise IntegrityError(f"unknown batch schema {data.get('schema')!r}", code="batch_format")
        run = RunInfo.from_json(data["run"])
        return cls(run=run, account=AccountInfo.from_json(data["account"]), sequence=int(data["sequence"]),
                   first_index=int(data["first_index"]), count=int(data["count"]),
                   warc_objects=tuple(WarcObjectRow(key=w["key"], partition=w["partition"], run_id=run.id,
                                                    size=int(w["size"]), sha256=w["sha256"],
                                                    records=int(w["records"])) for w in data["warc"]),
                   seen={rid: parse_timestamp(at) for rid, at in data["seen"].items()})


def encode_batch(header: BatchHeader, lines: Sequence[bytes]) -> bytes:
    head = json.dumps(header.to_json(), ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    return head + b"".join(lines)


def envelope_lines(body: bytes) -> list[bytes]:
    """A batch object's raw envelope lines, unparsed: the line of log entry ``first_index + i`` is ``[i]``."""
    return body.split(b"\n", 1)[1].splitlines() if b"\n" in body else []


def decode_batch(key: str, body: bytes) -> tuple[BatchHeader, Iterator[ParsedEnvelopeLine]]:
    """Parse a batch object; envelope lines are parsed lazily, each re-canonicalized and re-hashed."""
    first, _, rest = body.partition(b"\n")
    try:
        header = BatchHeader.from_json(json.loads(first))
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{key}: malformed batch header ({exc})", code="batch_format") from None

    def lines() -> Iterator[ParsedEnvelopeLine]:
        for number, line in enumerate(rest.splitlines(), start=2):
            try:
                yield parse_envelope_line(line)
            except IntegrityError as exc:
                raise IntegrityError(f"{key} line {number}: {exc}", code=exc.code) from None

    return header, lines()
