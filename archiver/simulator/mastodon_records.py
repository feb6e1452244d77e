"""The records of a simulated Mastodon instance: accounts, statuses, revisions, media, and their errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from archiver.errors import ArchiverError

VISIBILITIES = ("public", "unlisted", "private", "direct")
# What an anonymous caller (or a token that is neither author nor addressee) may read.
OPEN_VISIBILITIES = frozenset({"public", "unlisted"})
_MIME_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "audio/mpeg": ".mp3",
}
_BLURHASH_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


class SimulatorError(ArchiverError):
    """A simulator was scripted with something a real server would refuse."""

    code = "simulator_error"


class UnknownRecord(SimulatorError):
    """A script referred to an account or status that does not exist (or no longer exists)."""

    code = "simulator_unknown_record"


@dataclass(frozen=True)
class MediaSpec:
    """A file to attach to a status, as a client would upload it."""

    data: bytes
    description: str | None = None
    mime: str = "image/png"


@dataclass(frozen=True)
class Media:
    """A stored file. ``collection`` and ``owner_id`` give Paperclip's path, e.g. files/000/000/022."""

    id: str
    collection: str
    owner_id: str
    data: bytes
    mime: str
    description: str | None
    file_name: str
    width: int | None
    height: int | None
    blurhash: str

    def path(self, style: str = "original") -> str:
        """The path under ``/system/`` where the server (and the export, without /system/) keeps it."""
        return f"{self.collection}/{id_partition(self.owner_id)}/{style}/{self.file_name}"

    @property
    def media_type(self) -> str:
        major = self.mime.split("/", 1)[0]
        if self.mime == "image/gif":
            return "gifv"
        return major if major in ("image", "video", "audio") else "unknown"


@dataclass(frozen=True)
class Revision:
    """One published state of a status; the first is the original, the last is current."""

    content: str
    spoiler_text: str
    sensitive: bool
    media: tuple[Media, ...]
    created_at: datetime


@dataclass
class Account:
    """A local account. Mutated only through ``MastodonInstance`` methods, under its lock."""

    id: str
    username: str
    display_name: str
    note: str
    created_at: datetime
    avatar: Media | None = None
    header: Media | None = None
    followers_count: int = 0
    suspended: bool = False


@dataclass
class Status:
    """A status (or a boost when ``reblog_of_id`` is set). Mutated only through the instance."""

    id: str
    account_id: str
    created_at: datetime
    visibility: str
    language: str | None
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    mention_ids: tuple[str, ...]
    tags: tuple[str, ...]
    revisions: list[Revision]
    reblog_of_id: str | None = None
    deleted: bool = False

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    @property
    def edited_at(self) -> datetime | None:
        return self.revisions[-1].created_at if len(self.revisions) > 1 else None


@dataclass(frozen=True)
class TokenGrant:
    """A registered bearer token; ``account_id`` is None for an app-only token."""

    account_id: str | None


def make_media(spec: MediaSpec, collection: str, owner_id: str, media_id: str = "") -> Media:
    """Name and measure an uploaded file; names derive from content, so runs are reproducible."""
    digest = hashlib.sha256(collection.encode() + owner_id.encode() + spec.data).hexdigest()
    width, height = image_size(spec.data)
    return Media(
        id=media_id or f"{collection}:{owner_id}",
        collection=collection,
        owner_id=owner_id,
        data=spec.data,
        mime=spec.mime,
        description=spec.description,
        file_name=digest[:16] + _MIME_EXTENSIONS.get(spec.mime, ".bin"),
        width=width,
        height=height,
        # Shaped like a blurhash (base83, 4x3 components) but not computed from pixels.
        blurhash="".join(_BLURHASH_ALPHABET[b % 83] for b in bytes.fromhex(digest))[:28],
    )


def id_partition(identifier: str) -> str:
    """Paperclip's id partition: zero-pad to at least nine digits, then groups of three."""
    digits = identifier.zfill(max(9, -(-len(identifier) // 3) * 3))
    return "/".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height of a PNG, GIF or JPEG, read from its header; (None, None) otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None, None


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            return None, None
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        # SOF0..SOF15 carry the frame size; C4 (DHT), C8 and CC (DAC) share the range but do not.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[position + 5 : position + 7], "big")
            width = int.from_bytes(data[position + 7 : position + 9], "big")
            return width, height
        position += 2 + length
    return None, None
