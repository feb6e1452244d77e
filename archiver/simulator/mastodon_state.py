"""In-memory state of a simulated Mastodon instance: scripting (post, edit, delete, suspend) and queries."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from archiver.clock import Clock, utc
from archiver.simulator.mastodon_records import (
    OPEN_VISIBILITIES,
    VISIBILITIES,
    Account,
    Media,
    MediaSpec,
    Revision,
    SimulatorError,
    Status,
    TokenGrant,
    UnknownRecord,
    make_media,
)

__all__ = [
    "Account",
    "MastodonInstance",
    "Media",
    "MediaSpec",
    "Revision",
    "SimulatorError",
    "Status",
    "TokenGrant",
    "UnknownRecord",
]


@dataclass
class _Tables:
    accounts: dict[str, Account] = field(default_factory=dict)
    statuses: dict[str, Status] = field(default_factory=dict)
    media_by_path: dict[str, Media] = field(default_factory=dict)
    media_status: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, TokenGrant] = field(default_factory=dict)
    # Indexes kept sorted by numeric id, so a page or a thread costs what it returns, not the instance size.
    by_account: dict[str, list[int]] = field(default_factory=dict)
    children: dict[str, list[int]] = field(default_factory=dict)
    reblogs: dict[str, list[int]] = field(default_factory=dict)
    favourites: dict[str, list[str]] = field(default_factory=dict)
    bookmarks: dict[str, list[str]] = field(default_factory=dict)


class MastodonInstance:
    """The scriptable state behind the simulated server.

    Every method takes ``lock``; readers that need several answers to agree (one HTTP response)
    hold ``lock`` themselves, which is re-entrant. Time comes only from the injected clock, so a
    test can place every ``created_at`` and ``edited_at`` exactly.
    """

    def __init__(self, host: str = "social.example.gov", *, clock: Clock) -> None:
        self.host = host
        self.clock = clock
        self.lock = threading.RLock()
        self._t = _Tables()
        self._next_account = 1
        self._next_media = 1

    # -- accounts and tokens -------------------------------------------------------------------

    def add_account(
        self,
        username: str,
        display_name: str,
        note: str = "",
        *,
        avatar: MediaSpec | None = None,
        header: MediaSpec | None = None,
        followers_count: int = 0,
        created_at: datetime | None = None,
    ) -> str:
        """Create a local account and return its id (small integers, as on a real instance)."""
        with self.lock:
            if any(a.username.lower() == username.lower() for a in self._t.accounts.values()):
                raise SimulatorError(f"username {username!r} is taken on {self.host}; pick another")
            account_id = str(self._next_account)
            self._next_account += 1
            account = Account(account_id, username, display_name, note, self._when(created_at))
            account.followers_count = followers_count
            if avatar is not None:
                account.avatar = self._store_media(avatar, "accounts/avatars", account_id)
            if header is not None:
                account.header = self._store_media(header, "accounts/headers", account_id)
            self._t.accounts[account_id] = account
            return account_id

    def suspend_account(self, account_id: str) -> None:
        """Suspend an account: lookups answer 404 and its statuses disappear."""
        with self.lock:
            self._account(account_id).suspended = True

    def add_token(self, token: str, account_id: str | None = None) -> None:
        """Register a bearer token the server will accept (optionally acting as an account)."""
        with self.lock:
            if account_id is not None:
                self._account(account_id)
            self._t.tokens[token] = TokenGrant(account_id)

    def resolve_token(self, token: str) -> TokenGrant | None:
        with self.lock:
            return self._t.tokens.get(token)

    # -- writing statuses ----------------------------------------------------------------------

    def post(
        self,
        account_id: str,
        html_content: str,
        *,
        visibility: str = "public",
        language: str | None = "en",
        spoiler_text: str = "",
        sensitive: bool = False,
        in_reply_to_id: str | None = None,
        media: Sequence[MediaSpec] = (),
        mentions: Sequence[str] = (),
        tags: Sequence[str] = (),
        created_at: datetime | None = None,
    ) -> str:
        """Publish a status and return its id. A reply by another account is a citizen comment.

        ``created_at`` back-dates a status when scripting history; the id is derived from it the
        way Mastodon derives Snowflake ids, so ids still sort in time order.
        """
        if visibility not in VISIBILITIES:
            raise SimulatorError(f"visibility {visibility!r} is not one of {', '.join(VISIBILITIES)}")
        with self.lock:
            author = self._live_account(account_id)
            parent = self._live_status(in_reply_to_id) if in_reply_to_id else None
            mention_ids = self._mentions(author.id, parent, mentions)
            when = self._when(created_at)
            status_id = self._status_id(when)
            attached = tuple(self._attach(spec, status_id) for spec in media)
            revision = Revision(html_content, spoiler_text, sensitive or bool(spoiler_text), attached, when)
            status = Status(status_id, author.id, when, visibility, language, None, None, mention_ids, (), [revision])
            if parent is not None:
                status.in_reply_to_id, status.in_reply_to_account_id = parent.id, parent.account_id
            status.tags = tuple(t.lower() for t in tags)
            self._insert(status)
            return status_id

    def edit(
        self,
        status_id: str,
        *,
        html_content: str | None = None,
        spoiler_text: str | None = None,
        sensitive: bool | None = None,
        media: Sequence[MediaSpec] | None = None,
    ) -> None:
        """Publish a new revision: ``edited_at`` moves and ``/history`` grows by one."""
        with self.lock:
            status = self._live_status(status_id)
            if status.reblog_of_id is not None:
                raise SimulatorError(f"status {status_id} is a boost; boosts cannot be edited")
            before = status.current
            attached = before.media if media is None else tuple(self._attach(s, status_id) for s in media)
            status.revisions.append(
                replace(
                    before,
                    content=before.content if html_content is None else html_content,
                    spoiler_text=before.spoiler_text if spoiler_text is None else spoiler_text,
                    sensitive=before.sensitive if sensitive is None else sensitive,
                    media=attached,
                    created_at=self._when(None),
                )
            )

    def delete(self, status_id: str) -> None:
        """Delete a status and its boosts; the API keeps no tombstone, so it simply 404s."""
        with self.lock:
            status = self._live_status(status_id)
            status.deleted = True
            for boost_id in self._t.reblogs.get(status.id, []):
                self._t.statuses[str(boost_id)].deleted = True

    def boost(self, account_id: str, status_id: str) -> str:
        """Reblog a public or unlisted status; the boost is a status of its own."""
        with self.lock:
            booster = self._live_account(account_id)
            target = self._live_status(status_id)
            if target.visibility not in OPEN_VISIBILITIES or target.reblog_of_id is not None:
                raise SimulatorError(f"status {status_id} cannot be boosted (not public, or a boost)")
            when = self._when(None)
            boost_id = self._status_id(when)
            empty = Revision("", "", False, (), when)
            self._insert(
                Status(boost_id, booster.id, when, "public", None, None, None, (), (), [empty], reblog_of_id=target.id)
            )
            return boost_id

    def favourite(self, account_id: str, status_id: str) -> None:
        with self.lock:
            self._live_account(account_id)
            self._live_status(status_id)
            self._t.favourites.setdefault(account_id, []).append(status_id)

    def bookmark(self, account_id: str, status_id: str) -> None:
        with self.lock:
            self._live_account(account_id)
            self._live_status(status_id)
            self._t.bookmarks.setdefault(account_id, []).append(status_id)

    # -- reading -------------------------------------------------------------------------------

    def account(self, account_id: str) -> Account | None:
        """The account, or None when it never existed or is suspended."""
        with self.lock:
            account = self._t.accounts.get(account_id)
            return None if account is None or account.suspended else account

    def find_account(self, acct: str) -> Account | None:
        """Resolve ``name`` or ``name@host`` (this host only) to a live local account."""
        username, _, domain = acct.lstrip("@").partition("@")
        if domain and domain.lower() != self.host.lower():
            return None
        with self.lock:
            for account in self._t.accounts.values():
                if account.username.lower() == username.lower() and not account.suspended:
                    return account
            return None

    def status(self, status_id: str) -> Status | None:
        """The status, or None when it never existed, was deleted, or its author is suspended."""
        with self.lock:
            status = self._t.statuses.get(status_id)
            if status is None or status.deleted or self.account(status.account_id) is None:
                return None
            return status

    def can_see(self, status: Status, viewer_id: str | None) -> bool:
        """Followers are not modelled, so private and direct statuses show only to author and addressees."""
        if status.visibility in OPEN_VISIBILITIES:
            return True
        return viewer_id is not None and (viewer_id == status.account_id or viewer_id in status.mention_ids)

    def statuses_of(self, account_id: str) -> list[Status]:
        """Every live status of the account (all visibilities), oldest first."""
        with self.lock:
            return self._live(self._t.by_account.get(account_id, []))

    def ids_of(self, account_id: str) -> list[int]:
        """Numeric ids of every status the account ever posted (live or not), ascending; do not mutate."""
        with self.lock:
            return self._t.by_account.get(account_id, [])

    def replies_to(self, status_id: str) -> list[Status]:
        """Live direct replies, oldest first."""
        with self.lock:
            return self._live(self._t.children.get(status_id, []))

    def reblogs_count(self, status_id: str) -> int:
        with self.lock:
            return len(self._live(self._t.reblogs.get(status_id, [])))

    def favourites_count(self, status_id: str) -> int:
        with self.lock:
            return sum(ids.count(status_id) for ids in self._t.favourites.values())

    def favourited_by(self, account_id: str) -> list[str]:
        with self.lock:
            return [i for i in self._t.favourites.get(account_id, []) if self.status(i) is not None]

    def bookmarked_by(self, account_id: str) -> list[str]:
        with self.lock:
            return [i for i in self._t.bookmarks.get(account_id, []) if self.status(i) is not None]

    def media_file(self, path: str) -> Media | None:
        """The file at ``path`` (relative to /system/), unless its status or account is gone."""
        with self.lock:
            media = self._t.media_by_path.get(path)
            if media is None:
                return None
            status_id = self._t.media_status.get(media.id)
            if status_id is not None and self.status(status_id) is None:
                return None
            if status_id is None and self.account(media.owner_id) is None:
                return None
            return media

    # -- URLs shared by the API and the export ------------------------------------------------

    def actor_uri(self, account: Account) -> str:
        return f"https://{self.host}/users/{account.username}"

    def profile_url(self, account: Account) -> str:
        return f"https://{self.host}/@{account.username}"

    def status_uri(self, status: Status) -> str:
        account = self._t.accounts[status.account_id]
        suffix = "/activity" if status.reblog_of_id else ""
        return f"{self.actor_uri(account)}/statuses/{status.id}{suffix}"

    def status_url(self, status: Status) -> str:
        account = self._t.accounts[status.account_id]
        if status.reblog_of_id:
            return self.status_uri(status)
        return f"{self.profile_url(account)}/{status.id}"

    def raw_account(self, account_id: str) -> Account:
        """The account even if suspended (for rendering authors already in hand)."""
        with self.lock:
            return self._account(account_id)

    # -- internals -----------------------------------------------------------------------------

    def _when(self, explicit: datetime | None) -> datetime:
        moment = utc(explicit if explicit is not None else self.clock.now())
        # Mastodon renders milliseconds; storing them truncated keeps history timestamps stable.
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def _insert(self, status: Status) -> None:
        self._t.statuses[status.id] = status
        key = int(status.id)
        bisect.insort(self._t.by_account.setdefault(status.account_id, []), key)
        if status.in_reply_to_id is not None:
            bisect.insort(self._t.children.setdefault(status.in_reply_to_id, []), key)
        if status.reblog_of_id is not None:
            bisect.insort(self._t.reblogs.setdefault(status.reblog_of_id, []), key)

    def _live(self, ids: Iterable[int]) -> list[Status]:
        found = (self.status(str(i)) for i in ids)
        return [s for s in found if s is not None]

    def _status_id(self, when: datetime) -> str:
        """Snowflake-like: milliseconds since the epoch in the high bits, a sequence in the low 16."""
        candidate = int(when.timestamp() * 1000) << 16
        while str(candidate) in self._t.statuses:
            candidate += 1
        return str(candidate)

    def _account(self, account_id: str) -> Account:
        account = self._t.accounts.get(account_id)
        if account is None:
            raise UnknownRecord(f"no account {account_id!r} on {self.host}; create it with add_account()")
        return account

    def _live_account(self, account_id: str) -> Account:
        account = self._account(account_id)
        if account.suspended:
            raise SimulatorError(f"account {account_id} is suspended and cannot act")
        return account

    def _live_status(self, status_id: str | None) -> Status:
        status = self.status(status_id or "")
        if status is None:
            raise UnknownRecord(f"no live status {status_id!r} on {self.host} (never posted, or deleted)")
        return status

    def _mentions(self, author_id: str, parent: Status | None, explicit: Iterable[str]) -> tuple[str, ...]:
        """Replying mentions the parent's author first, as Mastodon clients pre-fill it."""
        ordered: list[str] = []
        if parent is not None and parent.account_id != author_id:
            ordered.append(parent.account_id)
        for account_id in explicit:
            self._account(account_id)
            if account_id not in ordered:
                ordered.append(account_id)
        return tuple(ordered)

    def _attach(self, spec: MediaSpec, status_id: str) -> Media:
        media_id = str(self._next_media)
        self._next_media += 1
        media = self._store_media(spec, "media_attachments/files", media_id, media_id=media_id)
        self._t.media_status[media.id] = status_id
        return media

    def _store_media(self, spec: MediaSpec, collection: str, owner_id: str, *, media_id: str = "") -> Media:
        media = make_media(spec, collection, owner_id, media_id)
        for style in ("original", "small"):
            self._t.media_by_path[media.path(style)] = media
        return media
