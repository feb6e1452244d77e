"""Import a Mastodon account archive (the user's own export, .zip or older .tar.gz).

The export's items become resource records marked with the export file's name and SHA-256, so
provenance says "from an export", never "captured live". Only public and unlisted statuses are
imported unless asked otherwise: followers-only posts and direct messages are in the export but
are not public records of the agency's presence. The export holds no edit history and no deleted
statuses, so an import never writes tombstones; revisions already captured live are recognised by
their timestamps and not stored twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import ijson

from archiver.capture.evidence import ExportEntry
from archiver.capture.session import CaptureSession
from archiver.clock import parse_timestamp
from archiver.collectors.export_archive import ExportArchive
from archiver.collectors.html_text import html_to_text
from archiver.collectors.mastodon_normalize import content_fields, media_kind, status_platform_id
from archiver.errors import ArchiverError, InputError
from archiver.model import (
    AccountInfo,
    Observation,
    Platform,
    Problem,
    ProblemCode,
    RecordKind,
    SourceKind,
    VersionState,
)

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
COMMIT_EVERY = 200


@dataclass(frozen=True)
class ArchiveActor:
    """Who the export belongs to, from actor.json."""

    actor_id: str
    username: str
    host: str
    display_name: str | None

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.host}"


def read_actor(archive: ExportArchive) -> ArchiveActor:
    name = archive.find("actor.json")
    if name is None:
        raise InputError(f"{archive.path.name} has no actor.json; is it a Mastodon account archive?",
                         code="not_mastodon_archive")
    try:
        actor = json.loads(archive.read_bytes(name, 16 * 1024 * 1024))
        actor_id = str(actor["id"])
        return ArchiveActor(actor_id=actor_id, username=str(actor["preferredUsername"]),
                            host=urlsplit(actor_id).netloc.lower(), display_name=actor.get("name"))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{archive.path.name}: actor.json is malformed ({exc})", code="bad_archive") from None


class MastodonArchiveImporter:
    """Feeds an opened account archive through a capture session."""

    name = "mastodon-archive"
    version = "1.0"
    source = SourceKind.EXPORT

    def __init__(self, archive: ExportArchive, *, include_private: bool = False,
                 media_max_bytes: int = 512 * 1024 * 1024) -> None:
        self.archive = archive
        self.include_private = include_private
        self.media_max_bytes = media_max_bytes

    def collect(self, session: CaptureSession, account: AccountInfo) -> AccountInfo:
        actor = read_actor(self.archive)
        for entry, reason in self.archive.problems:
            session.problem(Problem(ProblemCode.BAD_ARCHIVE_ENTRY, reason, entry))
        self._record_member(session, self.archive.find("actor.json"), "application/activity+json")
        outbox = self.archive.find("outbox.json")
        if outbox is None:
            raise InputError(f"{self.archive.path.name} has no outbox.json", code="not_mastodon_archive")
        for count, (index, item) in enumerate(self._items(outbox), start=1):
            self._take(session, actor, index, item)
            if count % COMMIT_EVERY == 0:
                session.commit_point()
        return replace(account, display_name=account.display_name or actor.display_name)

    def _items(self, member: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
        with self.archive.open(member) as stream:
            try:
                yield from enumerate(ijson.items(stream, "orderedItems.item", use_float=True))
            except ijson.JSONError as exc:
                raise InputError(f"{self.archive.path.name}: {member} is not valid JSON ({exc}); items "
                                 "before the error were imported", code="bad_archive") from None

    def _take(self, session: CaptureSession, actor: ArchiveActor, index: int, item: Mapping[str, Any]) -> None:
        try:
            observation = self._observation(actor, item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            session.problem(Problem(ProblemCode.BAD_ARCHIVE_ENTRY, f"outbox item {index} is malformed: {exc!r}",
                                    str(item.get("id")) if isinstance(item, Mapping) else None))
            return
        if observation is None:
            session.counts["skipped_not_public"] += 1
            return
        evidence = session.record(self._entry(session, item, index, "outbox.json"))
        observation = replace(observation, exchanges=(evidence,))
        if observation.media_urls and session.would_change(observation):
            media = [m for m in (self._media(session, ref, observation.platform_id)
                                 for ref in observation.media_urls) if m]
            observation = replace(observation, exchanges=(evidence, *media))
        session.observe(observation)

    def _observation(self, actor: ArchiveActor, item: Mapping[str, Any]) -> Observation | None:
        kind = item.get("type")
        if kind == "Announce":
            return self._boost(actor, item)
        note = item.get("object")
        if kind != "Create" or not isinstance(note, Mapping):
            return None
        if not self.include_private and not _is_public(note):
            return None
        html = note.get("content") or ""
        attachments = [a for a in note.get("attachment") or [] if isinstance(a, Mapping)]
        poll = [o.get("name", "") for o in (note.get("oneOf") or note.get("anyOf") or [])]
        content = content_fields(html, note.get("summary") or "", bool(note.get("sensitive")),
                                 [{"kind": media_kind(a.get("mediaType")), "description": a.get("name") or None}
                                  for a in attachments], poll)
        content["visibility"] = _visibility(note)
        parent = note.get("inReplyTo")
        own_thread = isinstance(parent, str) and parent.startswith(actor.actor_id + "/")
        published = parse_timestamp(note["published"])
        content_map = note.get("contentMap") or {}
        return Observation(
            platform=Platform.MASTODON, platform_id=status_platform_id(actor.host, _status_id(note["id"])),
            kind=RecordKind.POST if not parent or own_thread else RecordKind.REPLY,
            state=VersionState.PRESENT, url=note.get("url"), author=actor.handle,
            parent_platform_id=_parent_id(parent, actor), posted_at=published,
            revision_at=parse_timestamp(note["updated"]) if note.get("updated") else published,
            lang=next(iter(content_map), None), text=html_to_text(html), content=content,
            context={"uri": note["id"], "tags": [t.get("name") for t in note.get("tag") or []
                                                 if isinstance(t, Mapping) and t.get("type") == "Hashtag"]},
            media_urls=tuple(str(a["url"]) for a in attachments if a.get("url")))

    def _boost(self, actor: ArchiveActor, item: Mapping[str, Any]) -> Observation | None:
        if not self.include_private and not _is_public(item):
            return None
        target = str(item["object"])
        published = parse_timestamp(item["published"])
        content = content_fields("", "", False, [], [])
        content["visibility"] = _visibility(item)
        content["reblog_of"] = target
        return Observation(
            platform=Platform.MASTODON, platform_id=status_platform_id(actor.host, _status_id(item["id"])),
            kind=RecordKind.POST, state=VersionState.PRESENT, url=None, author=actor.handle,
            parent_platform_id=None, posted_at=published, revision_at=published, lang=None,
            text=f"Boosted {target}", content=content, context={"uri": item["id"]})

    def _media(self, session: CaptureSession, ref: str, item: str) -> str | None:
        member = self.archive.resolve(ref)
        if member is None:
            session.problem(Problem(ProblemCode.BAD_ARCHIVE_ENTRY, f"media {ref} is not in the archive", item))
            return None
        try:
            return self._record_member(session, member, "application/octet-stream", max_bytes=self.media_max_bytes)
        except ArchiverError as exc:
            session.problem(Problem(ProblemCode.BAD_ARCHIVE_ENTRY, str(exc), item))
            return None

    def _record_member(self, session: CaptureSession, member: str | None, content_type: str,
                       max_bytes: int = 16 * 1024 * 1024) -> str | None:
        if member is None:
            return None
        body = self.archive.read_bytes(member, max_bytes)
        return session.record(ExportEntry(
            uri=f"arsip-export:{self.archive.sha256}/{member}", body=body, content_type=content_type,
            captured_at=session.archive.clock.now(), fields=self._fields(member)))

    def _entry(self, session: CaptureSession, item: Mapping[str, Any], index: int, member: str) -> ExportEntry:
        """One outbox item, re-serialized: the export's bytes for the item are not separable from
        the file, so the record names the file, its SHA-256 and the item's position in it."""
        body = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode()
        fields = {**self._fields(member), "WARC-Arsip-Export-Item": str(index)}
        return ExportEntry(uri=str(item.get("id") or f"arsip-export:{self.archive.sha256}/{member}#{index}"),
                           body=body, content_type="application/activity+json",
                           captured_at=session.archive.clock.now(), fields=fields)

    def _fields(self, member: str) -> dict[str, str]:
        return {"WARC-Arsip-Export-File": self.archive.path.name, "WARC-Arsip-Export-Sha256": self.archive.sha256,
                "WARC-Arsip-Export-Member": member}


def _is_public(activity: Mapping[str, Any]) -> bool:
    return PUBLIC in _audience(activity.get("to")) or PUBLIC in _audience(activity.get("cc"))


def _visibility(activity: Mapping[str, Any]) -> str:
    if PUBLIC in _audience(activity.get("to")):
        return "public"
    if PUBLIC in _audience(activity.get("cc")):
        return "unlisted"
    followers = [a for a in _audience(activity.get("to")) if a.endswith("/followers")]
    return "private" if followers else "direct"


def _audience(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


def _status_id(uri: str) -> str:
    """``https://host/users/name/statuses/<id>`` (or ``…/<id>/activity`` for boosts) → ``<id>``."""
    parts = [p for p in urlsplit(uri).path.split("/") if p]
    if parts and parts[-1] == "activity":
        parts = parts[:-1]
    if not parts:
        raise ValueError(f"no status id in {uri!r}")
    return parts[-1]


def _parent_id(parent: Any, actor: ArchiveActor) -> str | None:
    if not isinstance(parent, str) or not parent:
        return None
    host = urlsplit(parent).netloc.lower()
    return status_platform_id(host or actor.host, _status_id(parent))
