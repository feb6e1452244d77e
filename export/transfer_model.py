"""What goes into a NARA transfer package and what comes out: one record in, the finished bag out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class TransferRecord:
    """One permanent record to transfer, with its evidence exactly as archived.

    ``warc_members`` are stored WARC records (one gzip member each, WARC/1.1 or 1.0);
    ``envelopes`` are the signed envelope lines of the record's versions. Every text field is
    treated as hostile: it is escaped in the CSV and never used in a file name.
    """

    record_id: str
    platform: str
    platform_id: str
    kind: str
    title: str
    description: str
    creator: str
    created: date | None
    rights: str
    warc_members: Sequence[bytes]
    envelopes: Sequence[bytes]


@dataclass(frozen=True)
class TransferPackage:
    """A finished, validated BagIt 1.0 transfer bag.

    ``files``, ``payload_bytes`` and ``payload_oxum`` are read back from the bag's Payload-Oxum;
    ``warc_files`` are the WARC files' paths relative to the bag (``data/warc/...``), in order.
    """

    path: Path
    identifier: str
    files: int
    payload_bytes: int
    payload_oxum: str
    warc_files: tuple[str, ...]
