"""The transfer's metadata.csv: NARA Bulletin 2015-04 minimum elements, pipe-delimited, every payload file.

Rows are one per (file, record): a WARC file holding many records has one row per record, with
the file name repeated, so an archivist can go from a record to the file that holds it. Package-
level files (the envelopes file, metadata.csv itself) have one row each, with the transfer
identifier as Record ID. SHA256 is the SHA-256 of the file named in File Name (the same value the
bag's manifest holds), so a row's record is written only once its file is closed; until then rows
wait in an unlinked temporary spool, which keeps a 100k-record transfer out of memory.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

COLUMNS = ("File Name", "Record ID", "Title", "Description", "Creator", "Creation Date", "Rights",
           "Platform", "Platform ID", "Kind", "SHA256")
DELIMITER = "|"
REPLACEMENT = "\ufffd"
# C0 controls other than TAB/LF/CR, DEL, and lone surrogates: many CSV consumers stop at a NUL and
# a surrogate cannot be encoded as UTF-8. The exact value is still in the signed envelopes.
_UNSAFE = {code: REPLACEMENT for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F,
                                          *range(0xD800, 0xE000))}


@dataclass(frozen=True)
class Row:
    """One row's values without the file's SHA-256, which is known only when the file is closed."""

    file_name: str
    record_id: str
    title: str
    description: str
    creator: str
    created: date | None
    rights: str
    platform: str = ""
    platform_id: str = ""
    kind: str = ""

    def values(self, sha256: str) -> list[str]:
        created = self.created.isoformat() if self.created else ""
        return [clean(v) for v in (self.file_name, self.record_id, self.title, self.description, self.creator,
                                   created, self.rights, self.platform, self.platform_id, self.kind, sha256)]


def clean(value: object) -> str:
    """``value`` as CSV text; pipes, quotes and newlines are left for the csv module to quote."""
    return str(value).translate(_UNSAFE)


class MetadataCsv:
    """Writes metadata.csv (UTF-8, CRLF rows, ``|`` between fields, quoted where a value needs it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "x", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self._writer = csv.writer(self._file, delimiter=DELIMITER, lineterminator="\r\n")
        self._writer.writerow(COLUMNS)
        self._spools: dict[str, IO[str]] = {}
        self.rows = 0

    def pending(self, row: Row) -> None:
        """Hold ``row`` until its file's SHA-256 is known (see :meth:`file_finished`)."""
        spool = self._spools.get(row.file_name)
        if spool is None:
            spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 - closed later
            self._spools[row.file_name] = spool
        csv.writer(spool, delimiter=DELIMITER, lineterminator="\r\n").writerow(row.values(""))

    def file_finished(self, file_name: str, sha256: str) -> None:
        """Write every row held for ``file_name``, now with its SHA-256."""
        spool = self._spools.pop(file_name, None)
        if spool is None:
            return
        with spool:
            spool.seek(0)
            for values in csv.reader(spool, delimiter=DELIMITER):
                self.write(values[:-1] + [sha256])

    def add(self, row: Row, sha256: str) -> None:
        self.write(row.values(sha256))

    def write(self, values: Sequence[str]) -> None:
        self._writer.writerow(values)
        self.rows += 1

    def close(self) -> None:
        for spool in self._spools.values():
            spool.close()
        self._spools.clear()
        self._file.close()
