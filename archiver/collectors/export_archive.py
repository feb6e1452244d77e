"""Safe, bounded reading of the zip and tar.gz data exports platforms hand to their users.

An export is hostile input (DESIGN.md invariant 8): its names may climb out of a directory, its
declared sizes may lie, it may be a decompression bomb, a truncated download or a tampered file.
Nothing here ever writes an archive's own names to disk. A zip is read in place through
``zipfile``; a tar(.gz) cannot seek cheaply, so it is read once, on open, into a private spool
directory under index-based file names. Every refusal is an ``InputError`` subclass whose one-line
message names the archive, the entry and what to do.

Decisions worth knowing:

* Names are normalised (NFC, ``./`` and empty segments dropped) and then checked; a ``..`` segment
  is refused, never collapsed, so ``resolve("media/../x")`` is ``None`` even if ``x`` exists.
* Links, devices, FIFOs, sparse files, encrypted or exotically compressed entries are unsafe. With
  ``strict=False`` they are skipped and listed in ``ExportArchive.problems``; every copy of a
  duplicated name is skipped, since nobody can tell which copy is authentic.
* Limits and corruption are never skippable: either makes the whole export untrustworthy.
* ``spool_dir`` is the *parent* of the private spool directory; only the directory this module
  created is ever removed. Before each entry is spooled, the disk must hold it plus a reserve.
* Zip sizes are checked as declared and again as read; ``zipfile`` never yields more than the
  declared size, so a zip that understates a size fails its CRC as ``CorruptArchiveError``.

The rules live in ``export_archive_rules``, the formats in ``export_archive_zip`` and
``export_archive_tar``; import from here.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import weakref
import zipfile
from pathlib import Path
from typing import BinaryIO, Literal

from archiver.collectors.export_archive_rules import (
    CHUNK_BYTES,
    ArchiveLimitError,
    CorruptArchiveError,
    ExportArchiveError,
    ExportFormatError,
    ExportLimits,
    MemberNotFoundError,
    UnsafeEntryError,
    UnsafeName,
    normalize_member_name,
)
from archiver.collectors.export_archive_tar import spool_tar
from archiver.collectors.export_archive_zip import open_zip, open_zip_member

__all__ = [
    "ArchiveLimitError",
    "CorruptArchiveError",
    "ExportArchive",
    "ExportArchiveError",
    "ExportFormatError",
    "ExportLimits",
    "MemberNotFoundError",
    "UnsafeEntryError",
    "normalize_member_name",
    "open_export",
]

ArchiveFormat = Literal["zip", "tar"]
DEFAULT_LIMITS = ExportLimits()


class ExportArchive:
    """An opened export: validated member names and bounded readers, nothing more.

    Build it with ``open_export``; use it as a context manager so the zip handle and any spool
    directory are released (a finalizer also removes the spool if an archive is garbage collected).
    """

    def __init__(self, path: Path, format: ArchiveFormat, sha256: str, limits: ExportLimits,
                 members: dict[str, zipfile.ZipInfo] | dict[str, Path], problems: list[tuple[str, str]],
                 *, zip_file: zipfile.ZipFile | None = None, handle: BinaryIO | None = None,
                 spool: Path | None = None) -> None:
        self.path = path
        self.format: ArchiveFormat = format
        self.sha256 = sha256
        self.limits = limits
        self.problems = problems
        self._members = members
        self._zip = zip_file
        self._finalizer = weakref.finalize(self, _release, zip_file, handle, spool)

    def __enter__(self) -> ExportArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the archive and remove the spool directory; safe to call twice."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def names(self) -> list[str]:
        """Normalised names of the regular files that passed validation, in archive order."""
        return list(self._members)

    def open(self, name: str) -> BinaryIO:
        """Stream one member; a zip member is metered as it is read because its sizes may lie."""
        if self.closed:
            raise ValueError(f"export archive {self.path.name} is closed")
        member = self._members.get(name)
        if member is None:
            raise MemberNotFoundError(self.path, name, "no such file in the export",
                                      "use a name from names(), find() or resolve()")
        if isinstance(member, Path):
            return member.open("rb")
        assert self._zip is not None
        return open_zip_member(self.path, self._zip, member, self.limits)

    def read_bytes(self, name: str, max_bytes: int) -> bytes:
        """Read a whole member, refusing one larger than ``max_bytes`` rather than truncating it."""
        with self.open(name) as stream:
            parts: list[bytes] = []
            size = 0
            while size <= max_bytes:
                chunk = stream.read(min(CHUNK_BYTES, max_bytes + 1 - size))
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
                size += len(chunk)
        raise ArchiveLimitError(self.path, name, f"is larger than the {max_bytes} bytes allowed here",
                                "stream it with open() or raise the caller's limit")

    def find(self, suffix: str) -> str | None:
        """The member named ``suffix`` at the root or one directory down (exports are often wrapped
        in one folder); the root wins, then the first one-down match in sorted order."""
        try:
            wanted = normalize_member_name(suffix.lstrip("/"))
        except UnsafeName:
            return None
        if wanted in self._members:
            return wanted
        depth = wanted.count("/") + 1
        hits = sorted(n for n in self._members if n.endswith("/" + wanted) and n.count("/") == depth)
        return hits[0] if hits else None

    def resolve(self, ref: str) -> str | None:
        """Map a path written inside the export (``/media_attachments/files/…/x.jpg``) to a member.

        Leading slashes are stripped, then the path must pass the same checks as member names; a
        ``..`` anywhere makes it ``None``, so a reference can never reach outside the archive.
        """
        try:
            name = normalize_member_name(ref.lstrip("/"))
        except UnsafeName:
            return None
        return name if name in self._members else None


def open_export(path: Path, *, limits: ExportLimits = DEFAULT_LIMITS, spool_dir: Path | None = None,
                strict: bool = True) -> ExportArchive:
    """Open and validate an export; refuse it whole (or, with ``strict=False``, skip unsafe entries).

    The format comes from the file's magic bytes, never its extension.
    """
    path = Path(path)
    handle: BinaryIO = path.open("rb")
    try:
        kind = _detect_format(path, handle)
        if kind == "zip":
            digest = _sha256(handle)
            zip_file, infos, problems = open_zip(path, handle, limits, strict)
            return ExportArchive(path, "zip", digest, limits, infos, problems, zip_file=zip_file,
                                 handle=handle)
        spool = Path(tempfile.mkdtemp(prefix="arsip-export-", dir=spool_dir))
        try:
            digest, files, problems = spool_tar(path, handle, kind == "gzip", spool, limits, strict)
        except BaseException:
            shutil.rmtree(spool, ignore_errors=True)
            raise
        handle.close()
        return ExportArchive(path, "tar", digest, limits, files, problems, spool=spool)
    except BaseException:
        handle.close()
        raise


def _detect_format(path: Path, handle: BinaryIO) -> Literal["zip", "gzip", "tar"]:
    head = handle.read(512)
    handle.seek(0)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[257:262] == b"ustar":
        return "tar"
    raise ExportFormatError(path, None, f"is neither a zip nor a tar.gz archive (it starts with {head[:8]!r})",
                            "pass the file the platform gave you")


def _sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _release(zip_file: zipfile.ZipFile | None, handle: io.IOBase | BinaryIO | None,
             spool: Path | None) -> None:
    if zip_file is not None:
        zip_file.close()
    if handle is not None:
        handle.close()
    if spool is not None:
        shutil.rmtree(spool, ignore_errors=True)
