"""Mastodon statuses (API JSON and export Notes) to observations in one normalized form.

The content fields are chosen so the same revision normalizes identically whether it came from a
status, from ``/history`` or from an account-archive export: that is what lets an import after a
live capture (or the reverse) add nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from archiver.clock import parse_timestamp
from archiver.collectors.html_text import html_to_text
from archiver.errors import InputError
from archiver.model import DetectionMethod, DisappearanceReason, Observation, Platform, RecordKind, VersionState

_MEDIA_KINDS = {"image": "image", "gifv": "video", "video": "video", "audio": "audio"}


def status_platform_id(host: str, status_id: str) -> str:
    return f"{host}/{status_id}"


def profile_platform_id(host: str, account_id: str) -> str:
    return f"{host}/accounts/{account_id}"


def full_acct(acct: str, host: str) -> str:
    """``name`` for local accounts becomes ``name@host`` so authors are unambiguous across instances."""
    return acct if "@" in acct else f"{acct}@{host}"


def kind_for(author_is_account: bool, parent_kind: RecordKind | None, is_reply: bool) -> RecordKind:
    """The agency's own top-level statuses and self-threads are posts; a direct answer to a post
    is a comment; anything deeper, including the agency answering a citizen, is a reply.

    Keeping self-threads as posts matters for retention: posts and comments have different
    schedules, and an official thread must not be destroyed on the comment schedule.
    """
    if not is_reply:
        return RecordKind.POST if author_is_account else RecordKind.COMMENT
    if author_is_account:
        return RecordKind.POST if parent_kind is RecordKind.POST else RecordKind.REPLY
    return RecordKind.COMMENT if parent_kind is RecordKind.POST else RecordKind.REPLY


def media_kind(value: str | None) -> str:
    """Coarse media kind, the same for API types (``gifv``) and export MIME types (``video/mp4``)."""
    if not value:
        return "unknown"
    head = value.split("/", 1)[0].lower()
    return _MEDIA_KINDS.get(value.lower(), _MEDIA_KINDS.get(head, "unknown"))


def content_fields(html: str, spoiler: str, sensitive: bool, media: Sequence[Mapping[str, Any]],
                   poll_options: Sequence[str]) -> dict[str, Any]:
    return {"html": html, "spoiler_text": spoiler or "", "sensitive": bool(sensitive),
            "media": [dict(m) for m in media], "poll": list(poll_options)}


def api_media(attachments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"kind": media_kind(a.get("type")), "description": a.get("description") or None}
            for a in attachments]


def status_observation(status: Mapping[str, Any], *, host: str, kind: RecordKind,
                       evidence: Sequence[str], revision: Mapping[str, Any] | None = None,
                       state: VersionState = VersionState.PRESENT) -> Observation:
    """One observation from an API Status, or from one of its ``/history`` revisions.

    A revision (StatusEdit) has no id, visibility or language of its own; those come from the
    status it belongs to.
    """
    try:
        source = revision if revision is not None else status
        attachments = source.get("media_attachments") or []
        poll = source.get("poll") or {}
        created = parse_timestamp(status["created_at"])
        revision_at = (parse_timestamp(revision["created_at"]) if revision is not None
                       else parse_timestamp(status["edited_at"]) if status.get("edited_at") else created)
        html = source.get("content") or ""
        reblog = status.get("reblog")
        content = content_fields(html, source.get("spoiler_text", ""), source.get("sensitive", False),
                                 api_media(attachments), [o.get("title", "") for o in poll.get("options", [])])
        content["visibility"] = status.get("visibility")
        if reblog:
            content["reblog_of"] = reblog.get("uri")
        context = {"replies_count": status.get("replies_count"), "reblogs_count": status.get("reblogs_count"),
                   "favourites_count": status.get("favourites_count"), "uri": status.get("uri"),
                   "application": status.get("application"), "tags": [t.get("name") for t in status.get("tags", [])],
                   "mentions": [m.get("acct") for m in status.get("mentions", [])]}
        parent = status.get("in_reply_to_id")
        return Observation(
            platform=Platform.MASTODON, platform_id=status_platform_id(host, str(status["id"])), kind=kind,
            state=state, url=status.get("url"), author=full_acct(status["account"]["acct"], host),
            parent_platform_id=status_platform_id(host, str(parent)) if parent else None,
            posted_at=created, revision_at=revision_at, lang=status.get("language"),
            text=html_to_text(html) if not reblog else f"Boosted {reblog.get('url') or reblog.get('uri')}",
            content=content, context=context, exchanges=tuple(evidence),
            media_urls=tuple(a["url"] for a in attachments if a.get("url")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"malformed Mastodon status {status.get('id') if isinstance(status, Mapping) else '?'}: "
                         f"{exc!r}", code="bad_response") from None


def profile_observation(account: Mapping[str, Any], *, host: str, evidence: Sequence[str]) -> Observation:
    """The account's self-description (bio, display name, links): what the page said about itself."""
    try:
        fields = [{"name": f.get("name"), "value": f.get("value")} for f in account.get("fields", [])]
        note = str(account.get("note") or "")
        content = {"display_name": account.get("display_name"), "note": note,
                   "url": account.get("url"), "avatar": account.get("avatar"), "header": account.get("header"),
                   "bot": account.get("bot"), "locked": account.get("locked"), "fields": fields,
                   "acct": full_acct(account["acct"], host), "created_at": account.get("created_at")}
        return Observation(
            platform=Platform.MASTODON, platform_id=profile_platform_id(host, str(account["id"])),
            kind=RecordKind.PROFILE, state=VersionState.PRESENT, url=account.get("url"),
            author=full_acct(account["acct"], host), parent_platform_id=None,
            posted_at=None, revision_at=None, lang=None,
            text=html_to_text(note), content=content,
            context={"statuses_count": account.get("statuses_count"),
                     "followers_count": account.get("followers_count")},
            exchanges=tuple(evidence))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"malformed Mastodon account: {exc!r}", code="bad_response") from None


def tombstone(platform_id: str, kind: RecordKind, posted_at: datetime | None, *, reason: DisappearanceReason,
              evidence: Sequence[str], detection: DetectionMethod = DetectionMethod.RECHECK_NOT_FOUND,
              ) -> Observation:
    return Observation(platform=Platform.MASTODON, platform_id=platform_id, kind=kind, state=VersionState.DELETED,
                       url=None, author=None, parent_platform_id=None, posted_at=posted_at, revision_at=None,
                       lang=None, text="", content={}, exchanges=tuple(evidence), reason=reason,
                       detection=detection)
