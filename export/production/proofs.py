"""The proofs a production carries: the signed checkpoint, its time-stamp, public keys and inclusion proofs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from archiver.db.catalog import latest_checkpoint
from archiver.db.queries import iter_leaves
from archiver.integrity.merkle import CachedSubtrees, ListLeafSource, inclusion_proof, leaf_hash
from archiver.integrity.publish import write_checkpoint
from archiver.wiring import Archive
from export.errors import ExportError


@dataclass(frozen=True)
class CheckpointFiles:
    size: int
    note: bytes
    timestamp: bytes | None


class ProofWriter:
    """Inclusion proofs for every produced version against one checkpoint that covers them all.

    A checkpoint is written first when the log has grown since the last one, so every version in
    the package is provable. The checkpoint's leaves are read once into memory (32 bytes each) and
    the proofs share their subtree hashes.
    """

    def __init__(self, archive: Archive) -> None:
        write_checkpoint(archive)
        with archive.catalog.read() as conn:
            row = latest_checkpoint(conn)
            if row is None:
                raise ExportError("the archive has no signed checkpoint; capture something first",
                                  code="no_checkpoint")
            hashes = [leaf_hash(bytes.fromhex(sha)) for _index, sha in islice(iter_leaves(conn), row.size)]
        if len(hashes) != row.size:
            raise ExportError(f"the catalog holds {len(hashes)} log leaves below checkpoint size {row.size}; "
                              "run `arsip verify --archive`", code="log_incomplete")
        self.size = row.size
        self.source = ListLeafSource(hashes)
        self.subtrees = CachedSubtrees(self.source, min_cached=16)  # ~N/8 cached hashes: 4 MB per million leaves
        note = archive.store.get_bytes(row.key)
        stamp = archive.store.get_bytes(row.timestamp_key) if row.timestamp_key else None
        self.checkpoint = CheckpointFiles(size=row.size, note=note, timestamp=stamp)

    def line(self, log_index: int, leaf_sha256: str) -> bytes:
        path = inclusion_proof(self.source, log_index, self.size, subtree=self.subtrees)
        return json.dumps({"log_index": log_index, "leaf_sha256": leaf_sha256, "tree_size": self.size,
                           "path": [p.hex() for p in path]}, separators=(",", ":")).encode() + b"\n"


def write_key_files(archive: Archive, proofs_dir: Path, checkpoint: CheckpointFiles) -> None:
    """The checkpoint note, its time-stamp token and the TSA roots when there is one, and the public keys."""
    (proofs_dir / "checkpoint.note").write_bytes(checkpoint.note)
    if checkpoint.timestamp is not None:
        (proofs_dir / "checkpoint.tsr").write_bytes(checkpoint.timestamp)
        if archive.settings.tsa_roots:
            (proofs_dir / "tsa-roots.pem").write_bytes(Path(archive.settings.tsa_roots).read_bytes())
    (proofs_dir / "public-keys.json").write_text(json.dumps(archive.keyring.export_public(), indent=2) + "\n",
                                                 encoding="utf-8")

