"""The spool: raw evidence written to a local WARC the moment it arrives, before anything parses it."""

from __future__ import annotations

import shutil
from pathlib import Path

from archiver.capture.evidence import RawEvidence
from archiver.clock import Clock
from archiver.warc.writer import WarcFile


class Spool:
    """A per-run directory of spool WARCs.

    Partitioned WARC objects are written at commit time, once parsing has decided which retention
    partition each exchange belongs to; the spool is what guarantees the bytes were kept before any
    parser saw them. A committed batch's spool file is deleted; after a crash the spool of the
    interrupted run stays on disk for inspection.
    """

    def __init__(self, directory: Path, *, warc_version: str, clock: Clock) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.warc_version = warc_version
        self.clock = clock
        self._serial = 0
        self._file: WarcFile | None = None

    def add(self, evidence: RawEvidence) -> str:
        """Write the evidence now and return its id (the spool record id of its primary record)."""
        if self._file is None:
            self._serial += 1
            path = self.directory / f"spool-{self._serial:05d}.warc"
            # Uncompressed: the spool is local and short-lived, and compressing it would double the
            # CPU cost of every exchange for nothing.
            self._file = WarcFile(path, version=self.warc_version, date=self.clock.now(), gzip_level=0,
                                  info={"description": "Arsip spool: raw exchanges before parsing"})
        written = evidence.write_to(self._file)
        self._file.flush()
        return written[0].record_id

    def seal(self) -> Path | None:
        """Close the current spool file (its evidence is being committed); the next ``add`` starts a
        new one. The caller deletes the returned file once the commit has succeeded."""
        if self._file is None:
            return None
        self._file.close()
        path, self._file = self._file.path, None
        return path

    def remove(self) -> None:
        self.seal()
        shutil.rmtree(self.directory, ignore_errors=True)
