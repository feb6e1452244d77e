"""The record model's vocabulary: every status and kind defined once, and the value objects of capture."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from archiver.clock import isoformat_z, parse_timestamp


class Platform(StrEnum):
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    YOUTUBE = "youtube"
    RSS = "rss"
    ARSIP = "arsip"  # what Arsip makes itself and keeps as records (production packages)


class RecordKind(StrEnum):
    """What a record is. ``comment`` answers a post; ``reply`` answers a comment or another reply."""

    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    MEDIA = "media"
    PROFILE = "profile"
    MODERATION = "moderation"
    REQUEST_PACKAGE = "request_package"  # a records-request production package Arsip built


class VersionState(StrEnum):
    PRESENT = "present"
    EDITED = "edited"
    DELETED = "deleted"
    HIDDEN = "hidden"


class DisappearanceReason(StrEnum):
    """Why a record is no longer visible. ``unspecified`` is the honest answer when a platform says
    only "not found" (Mastodon's 404 does not distinguish the author from a moderator)."""

    AUTHOR_DELETED = "author_deleted"
    AGENCY_REMOVED = "agency_removed"
    PLATFORM_REMOVED = "platform_removed"
    ACCOUNT_GONE = "account_gone"
    PERMISSION_LOST = "permission_lost"
    UNREACHABLE = "unreachable"
    UNSPECIFIED = "unspecified"


class DetectionMethod(StrEnum):
    """How a disappearance was established, so a court can weigh it."""

    RECHECK_NOT_FOUND = "recheck_not_found"  # missing from a listing, then the item itself answered 404
    EXPORT_DELETED_LIST = "export_deleted_list"  # the platform's own export lists it as deleted
    PLATFORM_FLAG = "platform_flag"  # the API marks it (e.g. is_hidden, a tombstone view)


class ChangeKind(StrEnum):
    """What the change detector concluded about an observation relative to the last stored version."""

    NEW = "new"
    EDITED = "edited"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    HIDDEN = "hidden"
    UNHIDDEN = "unhidden"
    REAPPEARED = "reappeared"  # seen again after a deletion tombstone


class SourceKind(StrEnum):
    """Where a capture run's content came from: the live API or the platform's own data export."""

    LIVE = "live"
    EXPORT = "export"
    PRODUCED = "produced"  # made by Arsip itself: a production package, archived as a record of its own


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some items had problems
    FAILED = "failed"
    ABORTED = "aborted"  # found still running after a crash


class ProblemCode(StrEnum):
    """Stable codes for per-item and per-run failures (kept as data, never swallowed)."""

    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth_failed"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    BAD_RESPONSE = "bad_response"
    THREAD_TRUNCATED = "thread_truncated"
    MEDIA_FAILED = "media_failed"
    MEDIA_TOO_LARGE = "media_too_large"
    SKIPPED_NOT_PUBLIC = "skipped_not_public"
    BAD_ARCHIVE_ENTRY = "bad_archive_entry"
    INTERRUPTED = "interrupted"
    COMMIT_FAILED = "commit_failed"
    ACCOUNT_MISMATCH = "account_mismatch"


@dataclass(frozen=True)
class Problem:
    code: ProblemCode
    message: str
    item: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": str(self.code), "message": self.message, "item": self.item}


@dataclass(frozen=True)
class Observation:
    """One state of one record as a collector or importer saw it, before change detection.

    ``content`` holds the fields whose change makes a new version; ``context`` holds what a platform
    changes on its own (counts) and is stored with the version but never compared.
    ``revision_at`` is the platform's own timestamp for this revision when it has one (Mastodon's
    StatusEdit ``created_at``); it identifies a revision across live capture and export import.
    ``exchanges`` are the ids of the raw HTTP exchanges (or export entries) it was derived from.
    """

    platform: Platform
    platform_id: str
    kind: RecordKind
    state: VersionState
    url: str | None
    author: str | None
    parent_platform_id: str | None
    posted_at: datetime | None
    revision_at: datetime | None
    lang: str | None
    text: str
    content: Mapping[str, Any]
    context: Mapping[str, Any] = field(default_factory=dict)
    exchanges: tuple[str, ...] = ()
    media_urls: tuple[str, ...] = ()
    reason: DisappearanceReason | None = None
    detection: DetectionMethod | None = None


@dataclass(frozen=True)
class AccountInfo:
    """An account as configured by a records officer (what ``arsip accounts add`` records)."""

    id: str
    platform: Platform
    handle: str
    url: str
    platform_account_id: str | None
    display_name: str | None
    owner_agency: str | None
    tags: tuple[str, ...]
    interval_seconds: int
    credentials_ref: str | None
    active: bool
    revision: int
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "platform": str(self.platform), "handle": self.handle, "url": self.url,
                "platform_account_id": self.platform_account_id, "display_name": self.display_name,
                "owner_agency": self.owner_agency, "tags": list(self.tags),
                "interval_seconds": self.interval_seconds, "credentials_ref": self.credentials_ref,
                "active": self.active, "revision": self.revision,
                "created_at": isoformat_z(self.created_at), "updated_at": isoformat_z(self.updated_at)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountInfo:
        return cls(id=data["id"], platform=Platform(data["platform"]), handle=data["handle"], url=data["url"],
                   platform_account_id=data.get("platform_account_id"), display_name=data.get("display_name"),
                   owner_agency=data.get("owner_agency"), tags=tuple(data.get("tags", ())),
                   interval_seconds=int(data["interval_seconds"]), credentials_ref=data.get("credentials_ref"),
                   active=bool(data["active"]), revision=int(data["revision"]),
                   created_at=parse_timestamp(data["created_at"]),
                   updated_at=parse_timestamp(data["updated_at"]))


@dataclass(frozen=True)
class RunInfo:
    """The fixed provenance of a capture run, known when it starts."""

    id: str
    account_id: str
    source: SourceKind
    collector: str
    collector_version: str
    settings_hash: str
    started_at: datetime
    origin: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "account": self.account_id, "source": str(self.source),
                "collector": self.collector, "collector_version": self.collector_version,
                "settings_hash": self.settings_hash, "started_at": isoformat_z(self.started_at),
                "origin": dict(self.origin)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunInfo:
        return cls(id=data["id"], account_id=data["account"], source=SourceKind(data["source"]),
                   collector=data["collector"], collector_version=data["collector_version"],
                   settings_hash=data["settings_hash"], started_at=parse_timestamp(data["started_at"]),
                   origin=dict(data["origin"]))


@dataclass(frozen=True)
class PriorVersion:
    """What change detection needs to know about a record's latest stored version."""

    number: int
    state: VersionState
    fingerprint: str
    revisions: frozenset[datetime]


@dataclass(frozen=True)
class KnownRecord:
    """A record a collector should re-check for edits and disappearance."""

    record_id: str
    platform_id: str
    kind: RecordKind
    posted_at: datetime | None
    author: str | None
