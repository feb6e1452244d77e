"""The plain files of a production's payload: WARC series, CSV registers, README and custody record."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO

INDEX_COLUMNS = ("doc_id", "beg_bates", "end_bates", "record_id", "platform", "platform_id", "kind", "account",
                 "status", "versions", "pdf", "native", "text")
WITHHOLDING_COLUMNS = ("doc_id", "beg_bates", "end_bates", "pages", "record_id", "version", "field", "decision",
                       "code", "reason", "reviewer", "decided_at")


class WarcSeries:
    """Stored WARC members appended unchanged (each is its own gzip member, so the concatenation stays
    a valid ``.warc.gz`` and every record keeps its digests), rolled over at ``max_bytes``."""

    def __init__(self, directory: Path, name: str, *, max_bytes: int = 1_000_000_000) -> None:
        self.directory, self.name, self.max_bytes = directory, name, max_bytes
        self.files: list[str] = []
        self._out: BinaryIO | None = None
        self._size = 0

    def add(self, members: Sequence[bytes]) -> None:
        size = sum(len(m) for m in members)
        if self._out is None or (self._size and self._size + size > self.max_bytes):
            self._roll()
        assert self._out is not None
        for member in members:
            self._out.write(member)
        self._size += size

    def _roll(self) -> None:
        self.close()
        file_name = f"{self.name}-{len(self.files) + 1:05d}.warc.gz"
        self.files.append(file_name)
        self._out = open(self.directory / file_name, "xb")  # noqa: SIM115 - closed by close()
        self._size = 0

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


class CsvRegister:
    """A UTF-8 CSV file with a fixed header, written one row at a time."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file: TextIO = open(path, "x", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self._writer = csv.DictWriter(self._file, fieldnames=list(columns), lineterminator="\r\n")
        self._writer.writeheader()

    def add(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow({k: "" if v is None else v for k, v in row.items()})

    def close(self) -> None:
        self._file.close()


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def readme(*, request: str, production: str, documents: int, first_bates: str, last_bates: str,
           key_ids: Sequence[str]) -> str:
    """The recipient's instructions: what is in the package and how to check it without trusting us."""
    keys = ", ".join(key_ids) or "(none)"
    return f"""Production {production} for records request {request}
{"=" * 60}

This package holds {documents} documents, Bates numbered {first_bates} to {last_bates}. It is a
BagIt 1.0 bag (RFC 8493): every file under data/ is listed with its SHA-256 and SHA-512 in
manifest-sha256.txt and manifest-sha512.txt.

What is where
  data/index.csv                one row per document: Bates range, record, status, files
  data/documents/<DOC>/         versions/ (archived JSON, exact bytes), redacted/ (burned-in
                                copies), withheld.json, text.txt (extracted text), record.pdf
  data/warc/                    the WARC records the released documents came from, as archived
  data/withholding-log.csv      every redaction and withholding: code, reason, reviewer
  data/loadfiles/               Concordance DAT, Opticon OPT and EDRM XML 1.2 load files
  data/chain-of-custody.json    who built this package, when, from which searches
  data/proofs/                  signed version envelopes, Merkle inclusion proofs, the signed
                                log checkpoint (and its RFC 3161 time-stamp), public keys
  arsip-signature.json          the archive's signature over manifest-sha512.txt

Redacted text is removed, not covered: redacted documents carry no original text and their
WARC records are not included. Their signed envelopes still prove which archived versions they
stand in for.

How to verify (offline, no account needed)
  1. Get the archive's public keys from the agency by a channel you trust (key ids: {keys}).
  2. pip install cryptography rfc3161-client, then install Arsip without its dependencies:
     pip install --no-deps arsip
  3. python -m export.verify_package THIS.zip --keys public-keys.json
     (or `arsip verify THIS.zip` where Arsip is installed). Exit status 0 means every check passed:
     the bag's checksums, the package signature, every envelope signature, every inclusion proof
     against the signed checkpoint, the time-stamp, and every WARC record's digests.
  4. Any BagIt validator (e.g. `bagit.py --validate`) checks the bag on its own.
"""
