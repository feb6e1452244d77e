"""Mastodon's REST entities (Account, Status, MediaAttachment, StatusEdit) rendered as the real server does."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from archiver.clock import utc
from archiver.simulator.mastodon_state import Account, MastodonInstance, Media, Revision, Status

JsonDict = dict[str, Any]
# Mastodon serves small previews fitting in this many pixels (v4 "small" style).
_SMALL_PIXELS = 230_400
# ActiveSupport escapes these inside JSON strings; reproducing it keeps response bytes realistic.
_RAILS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def ms_timestamp(value: datetime) -> str:
    """Mastodon's API time form: ``2025-03-01T15:04:05.000Z`` (milliseconds, Z)."""
    moment = utc(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON with Rails' HTML-safe escapes (``<`` becomes ``\\u003c`` and so on).

    The characters only ever occur inside JSON strings, so replacing them in the text is exact.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _RAILS_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text.encode("utf-8")


class WireRenderer:
    """Turns instance state into API JSON; ``files_base`` is where media URLs point (the simulator).

    Make one per response: it remembers rendered accounts, because a page of 40 statuses by one
    author would otherwise count that author's statuses 40 times.
    """

    def __init__(self, instance: MastodonInstance, files_base: str) -> None:
        self.instance = instance
        self.files_base = files_base.rstrip("/")
        self._accounts: dict[str, JsonDict] = {}

    def file_url(self, media: Media, style: str = "original") -> str:
        return f"{self.files_base}/system/{media.path(style)}"

    def account(self, account: Account) -> JsonDict:
        if account.id not in self._accounts:
            self._accounts[account.id] = self._render_account(account)
        return self._accounts[account.id]

    def _render_account(self, account: Account) -> JsonDict:
        inst = self.instance
        own = inst.statuses_of(account.id)
        avatar = self.file_url(account.avatar) if account.avatar else f"{self.files_base}/avatars/original/missing.png"
        header = self.file_url(account.header) if account.header else f"{self.files_base}/headers/original/missing.png"
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "indexable": True,
            "group": False,
            # Mastodon rounds account creation down to midnight to avoid leaking sign-up times.
            "created_at": ms_timestamp(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
            "note": account.note,
            "url": inst.profile_url(account),
            "uri": inst.actor_uri(account),
            "avatar": avatar,
            "avatar_static": avatar,
            "header": header,
            "header_static": header,
            "followers_count": account.followers_count,
            "following_count": 0,
            "statuses_count": len(own),
            "last_status_at": utc(own[-1].created_at).date().isoformat() if own else None,
            "hide_collections": False,
            "noindex": False,
            "emojis": [],
            "roles": [],
            "fields": [],
        }

    def media(self, media: Media) -> JsonDict:
        return {
            "id": media.id,
            "type": media.media_type,
            "url": self.file_url(media),
            "preview_url": self.file_url(media, "small"),
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": _media_meta(media),
            "description": media.description,
            "blurhash": media.blurhash,
        }

    def status(self, status: Status) -> JsonDict:
        """The Status entity, keys in the order Mastodon's serializer writes them."""
        inst = self.instance
        revision = status.current
        reblog = inst.status(status.reblog_of_id) if status.reblog_of_id else None
        return {
            "id": status.id,
            "created_at": ms_timestamp(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": revision.sensitive,
            "spoiler_text": revision.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": inst.status_uri(status),
            "url": inst.status_url(status),
            "replies_count": sum(1 for r in inst.replies_to(status.id) if r.visibility != "direct"),
            "reblogs_count": inst.reblogs_count(status.id),
            "favourites_count": inst.favourites_count(status.id),
            "quotes_count": 0,
            "edited_at": ms_timestamp(status.edited_at) if status.edited_at else None,
            "content": revision.content,
            "reblog": self.status(reblog) if reblog is not None else None,
            "account": self.account(inst.raw_account(status.account_id)),
            "media_attachments": [self.media(m) for m in revision.media],
            "mentions": [self._mention(i) for i in status.mention_ids],
            "tags": [{"name": t, "url": f"https://{inst.host}/tags/{t}"} for t in status.tags],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def edit(self, status: Status, revision: Revision) -> JsonDict:
        """One StatusEdit: no id of its own; (status id, created_at) names it."""
        return {
            "content": revision.content,
            "spoiler_text": revision.spoiler_text,
            "sensitive": revision.sensitive,
            "created_at": ms_timestamp(revision.created_at),
            "account": self.account(self.instance.raw_account(status.account_id)),
            "media_attachments": [self.media(m) for m in revision.media],
            "emojis": [],
        }

    def _mention(self, account_id: str) -> JsonDict:
        account = self.instance.raw_account(account_id)
        return {
            "id": account.id,
            "username": account.username,
            "url": self.instance.profile_url(account),
            "acct": account.username,
        }


def _media_meta(media: Media) -> JsonDict:
    if not media.width or not media.height:
        return {}
    scale = min(1.0, math.sqrt(_SMALL_PIXELS / (media.width * media.height)))
    small_w, small_h = max(1, round(media.width * scale)), max(1, round(media.height * scale))
    return {
        "original": _geometry(media.width, media.height),
        "small": _geometry(small_w, small_h),
    }


def _geometry(width: int, height: int) -> JsonDict:
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}
