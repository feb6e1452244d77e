"""Local WARC files for one batch, one open file per partition, rolled over at the configured size."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.capture.evidence import RawEvidence
from archiver.clock import Clock
from archiver.integrity.envelope import WarcRef
from archiver.model import RunInfo
from archiver.settings import Settings
from archiver.warc.writer import WarcFile, WrittenRecord

if TYPE_CHECKING:
    from archiver.capture.commit import PendingVersion


@dataclass(frozen=True)
class LocalWarc:
    path: Path
    key: str
    partition: str
    records: int


@dataclass(frozen=True)
class PlacedVersion:
    """A version's document as written, and the evidence records it was derived from."""

    pending: PendingVersion
    version_ref: WarcRef
    evidence_refs: tuple[WarcRef, ...]
    content_sha256: str


@dataclass
class _OpenFile:
    warc: WarcFile
    key: str
    partition: str
    placed: dict[str, WrittenRecord] = field(default_factory=dict)

    def ref(self, written: WrittenRecord) -> WarcRef:
        return WarcRef(key=self.key, offset=written.offset, length=written.length,
                       record_id=written.record_id, digest=written.block_digest)


class PartitionFiles:
    """Writes evidence and version documents into per-partition WARC files.

    Evidence is written into a file at most once, just before the first version derived from it,
    so a version's document and its source exchange always share a file (one object to read,
    one object to dispose of). Rollover starts a new file only between placements.
    """

    def __init__(self, directory: Path, *, run: RunInfo, sequence: int, settings: Settings,
                 clock: Clock) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = directory
        self.run = run
        self.sequence = sequence
        self.settings = settings
        self.clock = clock
        self._open: dict[str, _OpenFile] = {}
        self._done: list[LocalWarc] = []
        self._serial = 0

    def place_evidence(self, partition: str, evidence: Sequence[tuple[str, RawEvidence]],
                       ) -> tuple[_OpenFile, list[WrittenRecord]]:
        current = self._file(partition)
        primaries = []
        for evidence_id, item in evidence:
            if evidence_id not in current.placed:
                current.placed[evidence_id] = item.write_to(current.warc)[0]
            primaries.append(current.placed[evidence_id])
        return current, primaries

    def place_version(self, partition: str, pending: PendingVersion,
                      evidence: Sequence[tuple[str, RawEvidence]], *, uri: str, content_type: str,
                      ) -> PlacedVersion:
        current, primaries = self.place_evidence(partition, evidence)
        written = current.warc.write_resource(uri, pending.document, date=pending.captured_at,
                                              content_type=content_type,
                                              concurrent_to=[p.record_id for p in primaries])
        assert written.payload_digest is not None
        return PlacedVersion(pending=pending, version_ref=current.ref(written),
                             evidence_refs=tuple(current.ref(p) for p in primaries),
                             content_sha256=written.payload_digest.removeprefix("sha256:"))

    def close_all(self) -> list[LocalWarc]:
        for partition in list(self._open):
            self._close(partition)
        return self._done

    def _file(self, partition: str) -> _OpenFile:
        current = self._open.get(partition)
        if current is not None and current.warc.size >= self.settings.warc_rollover_bytes:
            self._close(partition)
            current = None
        if current is None:
            current = self._start(partition)
            self._open[partition] = current
        return current

    def _start(self, partition: str) -> _OpenFile:
        self._serial += 1
        name = f"{self.run.id}-{self.sequence:05d}-{self._serial:03d}.warc.gz"
        path = self.directory / name
        info = {"operator": self.settings.operator, "hostname": os.uname().nodename,
                "isPartOf": self.run.id, "description": f"Arsip capture partition {partition}"}
        warc = WarcFile(path, version=self.settings.warc_version, info=info, date=self.clock.now(),
                        gzip_level=self.settings.warc_gzip_level)
        return _OpenFile(warc=warc, key=f"warc/{partition}/{name}", partition=partition)

    def _close(self, partition: str) -> None:
        current = self._open.pop(partition)
        current.warc.close()
        self._done.append(LocalWarc(path=current.warc.path, key=current.key, partition=partition,
                                    records=current.warc.records))
