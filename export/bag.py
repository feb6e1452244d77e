"""BagIt 1.0 bags (RFC 8493) with bagit-python, its one home in Arsip: make, upgrade to 1.0, validate."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import bagit

from export.errors import ExportError

CHECKSUMS = ("sha256", "sha512")
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
# bagit.make_bag changes the process's working directory while it runs; serialising calls keeps two
# bags made from different threads from writing into each other's directories. (Other code that
# relies on the working directory is still exposed during that window: use absolute paths.)
_CWD_LOCK = threading.Lock()


@dataclass(frozen=True)
class BagSummary:
    """What the bag declares about its payload, as read back from bag-info.txt."""

    path: Path
    payload_oxum: str
    payload_bytes: int
    files: int


def make_bag(directory: Path, *, bag_info: Mapping[str, str], checksums: Sequence[str] = CHECKSUMS) -> BagSummary:
    """Turn ``directory`` (its current contents become ``data/``) into a valid BagIt 1.0 bag.

    bagit-python 1.9 writes ``BagIt-Version: 0.97``; its bags otherwise meet 1.0 (every payload file
    in every manifest), so bagit.txt is rewritten as 1.0 and the tag manifests recomputed over it.
    """
    for label, value in bag_info.items():
        if any(ch in value for ch in "\r\n") or not value.strip():
            raise ExportError(f"bag-info {label} must be one non-empty line", code="bag_info_value")
    try:
        with _CWD_LOCK:
            bagit.make_bag(str(directory), bag_info=dict(bag_info), checksums=list(checksums))
    except (bagit.BagError, OSError, RuntimeError) as exc:
        raise ExportError(f"could not make a bag in {directory}: {exc}", code="bag_failed") from None
    (directory / "bagit.txt").write_bytes(BAGIT_TXT)
    for algorithm in checksums:
        write_tag_manifest(directory, algorithm)
    return validate_bag(directory, fast=True)


def write_tag_manifest(directory: Path, algorithm: str) -> None:
    """(Re)write ``tagmanifest-<algorithm>.txt`` over every top-level tag file of the bag."""
    # Sorted, so the same payload always gives byte-identical tag manifests (bagit lists them in
    # directory order). Only top-level tag files exist in the bags Arsip makes.
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and not p.name.startswith("tagmanifest-"))
    lines = [f"{hashlib.new(algorithm, (directory / n).read_bytes()).hexdigest()} {n}\n" for n in names]
    (directory / f"tagmanifest-{algorithm}.txt").write_text("".join(lines), encoding="utf-8")


def validate_bag(directory: Path, *, fast: bool = False) -> BagSummary:
    """Check ``directory`` is a valid BagIt 1.0 bag: every checksum (or, with ``fast``, only the
    Payload-Oxum file count and size). An invalid bag raises ExportError with bagit's reasons."""
    try:
        bag = bagit.Bag(str(directory))
        bag.validate(fast=fast)
    except bagit.BagError as exc:
        # BagValidationError's text already lists every failing file (bounded: a bag can be huge).
        raise ExportError(f"bag {directory} is not valid: {str(exc)[:4000]}", code="bag_invalid") from None
    if bag.version_info != (1, 0):
        declared = ".".join(map(str, bag.version_info))
        raise ExportError(f"bag {directory} declares BagIt {declared}, not 1.0", code="bag_invalid")
    oxum = bag.info.get("Payload-Oxum")
    octets, _, count = oxum.partition(".") if isinstance(oxum, str) else ("", "", "")
    if not (octets.isdigit() and count.isdigit()):
        raise ExportError(f"bag {directory} has no single well-formed Payload-Oxum in bag-info.txt",
                          code="bag_invalid")
    return BagSummary(path=directory, payload_oxum=str(oxum), payload_bytes=int(octets), files=int(count))
