"""Mastodon's account archive ("Request your archive"), in the newer .zip and the older .tar.gz forms.

The layout follows Mastodon's ``BackupService``: media files first under their Paperclip paths,
then ``outbox.json`` (an OrderedCollection of Create/Announce activities with no per-item
``@context``), ``actor.json`` with ``icon``/``image`` rewritten to ``avatar.<ext>``/``header.<ext>``,
the avatar and header files, ``likes.json`` and ``bookmarks.json``. All of the account's live
statuses are included whatever their visibility; deleted statuses and other people's replies are not.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from archiver.clock import utc
from archiver.simulator.mastodon_state import Account, MastodonInstance, Media, SimulatorError, Status

ArchiveFormat = Literal["zip", "tar.gz"]
# "cdn": media served from another host, so the exported url keeps its leading "/" (the spec's
# example); "local": media under /system/, which the export strips to a bare relative path.
MediaUrlStyle = Literal["cdn", "local"]
PUBLIC_COLLECTION = "https://www.w3.org/ns/activitystreams#Public"
_AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
_FULL_CONTEXT: list[Any] = [
    _AS_CONTEXT,
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "memorial": "toot:memorial",
        "indexable": "toot:indexable",
        "discoverable": "toot:discoverable",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    },
]
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def write_account_archive(
    instance: MastodonInstance,
    account_id: str,
    dest: Path,
    *,
    fmt: ArchiveFormat = "zip",
    media_url_style: MediaUrlStyle = "cdn",
) -> Path:
    """Write the archive into the directory ``dest`` (created if missing) and return its path.

    The name is Mastodon's: ``archive-YYYYmmddHHMMSS-<32 hex>.zip`` (or ``.tar.gz``). The hex part
    is derived from the account and time instead of being random, so a test can reproduce it.
    """
    if fmt not in ("zip", "tar.gz"):
        raise SimulatorError(f"archive format {fmt!r} is unknown; use 'zip' or 'tar.gz'")
    with instance.lock:
        account = instance.raw_account(account_id)
        moment = utc(instance.clock.now())
        entries = list(_entries(instance, account, fmt, media_url_style))
    stamp = moment.strftime("%Y%m%d%H%M%S")
    token = hashlib.sha256(f"{instance.host}/{account.id}/{moment.isoformat()}".encode()).hexdigest()[:32]
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"archive-{stamp}-{token}.{fmt}"
    if fmt == "zip":
        _write_zip(target, entries, moment)
    else:
        _write_tar_gz(target, entries, moment)
    return target


def _entries(
    instance: MastodonInstance, account: Account, fmt: ArchiveFormat, style: MediaUrlStyle
) -> Iterator[tuple[str, bytes]]:
    statuses = instance.statuses_of(account.id)
    for status in statuses:
        for media in status.current.media:
            yield media.path("original"), media.data
    yield "outbox.json", _dump(_outbox(instance, statuses, style))
    yield "actor.json", _dump(_actor(instance, account))
    for name, picture in (("avatar", account.avatar), ("header", account.header)):
        if picture is not None:
            yield f"{name}{_extension(picture)}", picture.data
    liked = [_uri(instance, i) for i in instance.favourited_by(account.id)]
    marked = [_uri(instance, i) for i in instance.bookmarked_by(account.id)]
    yield "likes.json", _dump(_uri_collection("likes.json", liked, fmt))
    yield "bookmarks.json", _dump(_uri_collection("bookmarks.json", marked, fmt))


def _outbox(instance: MastodonInstance, statuses: list[Status], style: MediaUrlStyle) -> dict[str, Any]:
    return {
        "@context": _FULL_CONTEXT,
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": len(statuses),
        "orderedItems": [_activity(instance, s, style) for s in statuses],
    }


def _activity(instance: MastodonInstance, status: Status, style: MediaUrlStyle) -> dict[str, Any]:
    to, cc = audience(instance, status)
    boosted = instance.status(status.reblog_of_id) if status.reblog_of_id else None
    return {
        "id": f"{instance.actor_uri(instance.raw_account(status.account_id))}/statuses/{status.id}/activity",
        "type": "Announce" if boosted is not None else "Create",
        "actor": instance.actor_uri(instance.raw_account(status.account_id)),
        "published": _seconds(status.created_at),
        "to": to,
        "cc": cc,
        "object": instance.status_uri(boosted) if boosted is not None else note(instance, status, style),
    }


def audience(instance: MastodonInstance, status: Status) -> tuple[list[str], list[str]]:
    """ActivityPub ``to``/``cc`` by visibility, as Mastodon's TagManager addresses them."""
    author = instance.raw_account(status.account_id)
    followers = f"{instance.actor_uri(author)}/followers"
    mentioned = [instance.actor_uri(instance.raw_account(i)) for i in status.mention_ids]
    cc: list[str] = []
    if status.reblog_of_id is not None:
        original = instance.status(status.reblog_of_id)
        if original is not None:
            cc.append(instance.actor_uri(instance.raw_account(original.account_id)))
    if status.visibility == "direct":
        return mentioned, cc
    if status.visibility == "public":
        return [PUBLIC_COLLECTION], [*cc, followers, *mentioned]
    if status.visibility == "unlisted":
        return [followers], [*cc, PUBLIC_COLLECTION, *mentioned]
    return [followers], [*cc, *mentioned]


def note(instance: MastodonInstance, status: Status, style: MediaUrlStyle) -> dict[str, Any]:
    """The Note of a Create activity: the latest revision only, ``updated`` only when edited."""
    uri = instance.status_uri(status)
    revision = status.current
    parent = instance.status(status.in_reply_to_id) if status.in_reply_to_id else None
    parent_uri = instance.status_uri(parent) if parent is not None else None
    body: dict[str, Any] = {
        "id": uri,
        "type": "Note",
        "summary": revision.spoiler_text or None,
        "inReplyTo": parent_uri,
        "published": _seconds(status.created_at),
        "url": instance.status_url(status),
        "attributedTo": instance.actor_uri(instance.raw_account(status.account_id)),
    }
    body["to"], body["cc"] = audience(instance, status)
    body.update(sensitive=revision.sensitive, atomUri=uri, inReplyToAtomUri=parent_uri)
    body["conversation"] = _conversation(instance, status)
    body["content"] = revision.content
    if status.language:
        body["contentMap"] = {status.language: revision.content}
    if status.edited_at is not None:
        body["updated"] = _seconds(status.edited_at)
    body["attachment"] = [_attachment(m, style) for m in revision.media]
    body["tag"] = _tags(instance, status)
    body["replies"] = _replies(instance, status, uri)
    body["likes"] = {"id": f"{uri}/likes", "type": "Collection", "totalItems": instance.favourites_count(status.id)}
    body["shares"] = {"id": f"{uri}/shares", "type": "Collection", "totalItems": instance.reblogs_count(status.id)}
    return body


def _attachment(media: Media, style: MediaUrlStyle) -> dict[str, Any]:
    path = media.path("original")
    item: dict[str, Any] = {
        "type": "Document",
        "mediaType": media.mime,
        "url": f"/{path}" if style == "cdn" else path,
        "name": media.description,
        "blurhash": media.blurhash,
    }
    if media.width and media.height:
        item.update(focalPoint=[0.0, 0.0], width=media.width, height=media.height)
    return item


def _tags(instance: MastodonInstance, status: Status) -> list[dict[str, str]]:
    mentions = [instance.raw_account(i) for i in status.mention_ids]
    tags = [{"type": "Mention", "href": instance.actor_uri(a), "name": f"@{a.username}"} for a in mentions]
    for name in status.tags:
        tags.append({"type": "Hashtag", "href": f"https://{instance.host}/tags/{name}", "name": f"#{name}"})
    return tags


def _replies(instance: MastodonInstance, status: Status, uri: str) -> dict[str, Any]:
    """Only the author's own public replies, the first five, as Mastodon's self-replies page."""
    own = [
        instance.status_uri(r)
        for r in instance.replies_to(status.id)
        if r.account_id == status.account_id and r.visibility in ("public", "unlisted")
    ][:5]
    first = {
        "type": "CollectionPage",
        "next": f"{uri}/replies?only_other_accounts=true&page=true",
        "partOf": f"{uri}/replies",
        "items": own,
    }
    return {"id": f"{uri}/replies", "type": "Collection", "first": first}


def _conversation(instance: MastodonInstance, status: Status) -> str:
    root = status
    while root.in_reply_to_id is not None:
        parent = instance.status(root.in_reply_to_id)
        if parent is None:
            break
        root = parent
    return f"tag:{instance.host},{utc(root.created_at).date().isoformat()}:objectId={root.id}:objectType=Conversation"


def _actor(instance: MastodonInstance, account: Account) -> dict[str, Any]:
    actor_uri = instance.actor_uri(account)
    actor: dict[str, Any] = {
        "@context": _FULL_CONTEXT,
        "id": actor_uri,
        "type": "Person",
        "following": f"{actor_uri}/following",
        "followers": f"{actor_uri}/followers",
        "inbox": f"{actor_uri}/inbox",
        "outbox": "outbox.json",
        "featured": f"{actor_uri}/collections/featured",
        "featuredTags": f"{actor_uri}/collections/tags",
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note,
        "url": instance.profile_url(account),
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "published": _seconds(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "memorial": False,
        "tag": [],
        "attachment": [],
        "endpoints": {"sharedInbox": f"https://{instance.host}/inbox"},
    }
    for key, name, media in (("icon", "avatar", account.avatar), ("image", "header", account.header)):
        if media is not None:
            actor[key] = {"type": "Image", "mediaType": media.mime, "url": f"{name}{_extension(media)}"}
    actor["likes"] = "likes.json"
    actor["bookmarks"] = "bookmarks.json"
    return actor


def _uri_collection(name: str, uris: list[str], fmt: ArchiveFormat) -> dict[str, Any]:
    """Likes and bookmarks: the zip form dropped ``totalItems``; the older tar.gz form had it."""
    collection: dict[str, Any] = {"@context": _AS_CONTEXT, "id": name, "type": "OrderedCollection"}
    if fmt == "tar.gz":
        collection["totalItems"] = len(uris)
    collection["orderedItems"] = uris
    return collection


def _uri(instance: MastodonInstance, status_id: str) -> str:
    status = instance.status(status_id)
    if status is None:
        raise SimulatorError(f"status {status_id} vanished while the archive was being written")
    return instance.status_uri(status)


def _extension(media: Media) -> str:
    return _EXTENSIONS.get(media.mime) or posixpath.splitext(media.file_name)[1]


def _seconds(value: datetime) -> str:
    """ActivityPub time form: whole seconds with ``Z``."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _write_zip(target: Path, entries: list[tuple[str, bytes]], moment: datetime) -> None:
    stamp = utc(moment).timetuple()[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def _write_tar_gz(target: Path, entries: list[tuple[str, bytes]], moment: datetime) -> None:
    mtime = int(moment.timestamp())
    # GzipFile is opened by hand so its header carries our mtime, not the wall clock's.
    with (
        target.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            archive.addfile(info, io.BytesIO(data))
