"""What an export archive may contain: the refusals, the limits and the member-name rules.

Shared by the zip reader and the tar spooler so both formats refuse the same things with the same
codes and messages; ``export_archive`` is the public face and re-exports what callers need.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from archiver.errors import InputError

CHUNK_BYTES = 256 * 1024
RATIO_FLOOR_BYTES = 1024 * 1024  # small entries (JSON, thumbnails) may compress very well
MAX_NAME_BYTES = 4096
_SHOWN_CHARS = 200
_DRIVE = re.compile(r"[A-Za-z]:")

FRESH_EXPORT = "ask the platform for a fresh export"
SKIP_OR_FRESH = "ask the platform for a fresh export, or import it with unsafe entries skipped"

T = TypeVar("T")


def show(text: str) -> str:
    """Render an untrusted name on one line: control and format characters (newlines, bidi
    overrides) are escaped, and very long names are cut, so no message can be forged or flooded."""
    shown = "".join(c if c.isprintable() else _escape(c) for c in text[:_SHOWN_CHARS])
    return shown + ("…" if len(text) > _SHOWN_CHARS else "")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class ExportArchiveError(InputError):
    """An export archive was refused; ``archive`` and ``entry`` (the raw name, if any) say where."""

    code = "export_archive"

    def __init__(self, archive: Path, entry: str | None, detail: str, advice: str) -> None:
        self.archive = archive
        self.entry = entry
        where = f": entry '{show(entry)}'" if entry is not None else ""
        super().__init__(f"{show(archive.name)}{where} {detail}; {advice}")


class ExportFormatError(ExportArchiveError):
    """The file is not an archive format we read (decided by magic bytes, not the extension)."""

    code = "unknown_archive_format"


class UnsafeEntryError(ExportArchiveError):
    """An entry's name or type could write outside the archive or smuggle in something not a file."""

    code = "unsafe_archive_entry"


class ArchiveLimitError(ExportArchiveError):
    """The archive (or one entry) is bigger, more numerous or more compressed than allowed."""

    code = "archive_limit"


class CorruptArchiveError(ExportArchiveError):
    """The archive is truncated, damaged or self-contradictory."""

    code = "corrupt_archive"


class MemberNotFoundError(ExportArchiveError):
    """A caller asked for a member that is not among the validated names."""

    code = "archive_member_missing"


@dataclass(frozen=True)
class ExportLimits:
    """Ceilings that keep one hostile export from exhausting memory, disk or patience.

    The defaults fit a very large genuine export (a decade of video); lower them for uploads.
    """

    max_members: int = 1_000_000
    max_member_bytes: int = 4 * 1024**3  # one entry, uncompressed
    max_total_bytes: int = 64 * 1024**3  # whole archive, uncompressed
    max_ratio: float = 200.0  # uncompressed/compressed, per entry, once the entry is past 1 MiB

    def __post_init__(self) -> None:
        if min(self.max_members, self.max_member_bytes, self.max_total_bytes, self.max_ratio) <= 0:
            raise ValueError(f"export limits must all be positive, got {self!r}")


class UnsafeName(ValueError):
    """A member name (or a reference to one) breaks a naming rule; the message is the reason."""


def normalize_member_name(raw: str) -> str:
    """The canonical form of an archive path, or ``UnsafeName`` if it could escape or mislead.

    NFC first, so look-alike decompositions cannot dodge the checks or the duplicate test. The
    root itself (``./``) normalises to ``""``, which no file may be called.
    """
    name = unicodedata.normalize("NFC", raw)
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise UnsafeName("control character in the name")
    if "\\" in name:
        raise UnsafeName("backslash in the name (a Windows path)")
    if _DRIVE.match(name):
        raise UnsafeName("drive letter (a Windows absolute path)")
    if name.startswith("/"):
        raise UnsafeName("absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeName("'..' segment climbs out of the archive")
    joined = "/".join(parts)
    try:
        size = len(joined.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnsafeName("name is not valid UTF-8") from None
    if size > MAX_NAME_BYTES:
        raise UnsafeName(f"name longer than {MAX_NAME_BYTES} bytes")
    return joined


def check_ratio(archive: Path, entry: str, unpacked: int, packed: int, limits: ExportLimits) -> None:
    """Refuse an entry past 1 MiB whose expansion ratio says "decompression bomb"."""
    if unpacked > RATIO_FLOOR_BYTES and unpacked > limits.max_ratio * max(packed, 1):
        raise ArchiveLimitError(
            archive, entry, f"expands {unpacked // max(packed, 1)}:1 ({unpacked} bytes from {packed}), over "
            f"the {limits.max_ratio:g}:1 limit; it looks like a decompression bomb",
            "if this export is genuine, raise ExportLimits.max_ratio")


class Meter:
    """Counts one entry's bytes as they are produced, because declared sizes and ratios can lie."""

    def __init__(self, archive: Path, entry: str, limits: ExportLimits, packed: Callable[[], int]) -> None:
        self.archive = archive
        self.entry = entry
        self.limits = limits
        self.packed = packed
        self.produced = 0

    def add(self, size: int) -> None:
        self.produced += size
        if self.produced > self.limits.max_member_bytes:
            raise ArchiveLimitError(self.archive, self.entry,
                                    f"expands past the {self.limits.max_member_bytes}-byte limit for one entry",
                                    "if this export is genuine, raise ExportLimits.max_member_bytes")
        check_ratio(self.archive, self.entry, self.produced, self.packed(), self.limits)


class Inventory(Generic[T]):
    """Admits entries one at a time: name rules, duplicates, counts and declared sizes.

    Unsafe entries raise in strict mode and are recorded as problems otherwise; limits always raise.
    """

    def __init__(self, archive: Path, limits: ExportLimits, strict: bool) -> None:
        self.archive = archive
        self.limits = limits
        self.strict = strict
        self.members: dict[str, T] = {}
        self.problems: list[tuple[str, str]] = []
        self.declared_total = 0
        self._seen = 0
        self._duplicates: set[str] = set()

    def count(self) -> None:
        self._seen += 1
        if self._seen > self.limits.max_members:
            raise ArchiveLimitError(self.archive, None, f"has more than {self.limits.max_members} entries",
                                    "if this export is genuine, raise ExportLimits.max_members")

    def name_of(self, raw: str, *, is_dir: bool = False) -> str | None:
        """The normalised name of a file entry, or ``None`` for a directory or a skipped entry."""
        try:
            name = normalize_member_name(raw)
        except UnsafeName as exc:
            self.unsafe(raw, str(exc))
            return None
        if is_dir:
            return None
        if not name:
            self.unsafe(raw, "a file with an empty name")
            return None
        if name in self.members or name in self._duplicates:
            self._duplicates.add(name)
            self.unsafe(raw, "duplicate name; every copy is skipped")
            return None
        return name

    def unsafe(self, raw: str, reason: str) -> None:
        if self.strict:
            raise UnsafeEntryError(self.archive, raw, f"is unsafe ({reason})", SKIP_OR_FRESH)
        self.problems.append((show(raw), reason))

    def declare(self, raw: str, size: int) -> None:
        """Refuse declared sizes over the limits before a single byte is read."""
        if size > self.limits.max_member_bytes:
            raise ArchiveLimitError(self.archive, raw, f"declares {size} bytes, over the "
                                    f"{self.limits.max_member_bytes}-byte limit for one entry",
                                    "if this export is genuine, raise ExportLimits.max_member_bytes")
        self.declared_total += size
        if self.declared_total > self.limits.max_total_bytes:
            raise ArchiveLimitError(self.archive, raw, f"takes the archive past {self.limits.max_total_bytes} "
                                    "bytes uncompressed", "if this export is genuine, raise "
                                    "ExportLimits.max_total_bytes")

    def add(self, name: str, value: T) -> None:
        self.members[name] = value

    def finish(self) -> tuple[dict[str, T], list[tuple[str, str]]]:
        """Drop the first copy of every duplicated name too, and report it."""
        for name in sorted(self._duplicates):
            if self.members.pop(name, None) is not None:
                self.problems.append((show(name), "duplicate name; every copy is skipped"))
        return self.members, self.problems
