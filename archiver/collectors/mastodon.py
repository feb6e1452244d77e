"""The Mastodon collector: statuses, edit history, replies, media and deletions of one account.

One pass (a capture run):
1. look the account up (its profile is a record too; a handle now owned by another account id
   stops the run rather than archiving a stranger as the agency);
2. walk the timeline newest-first by ``Link: rel="next"`` until past both the newest status seen
   last time and the re-check horizon (``ARSIP_RECHECK_DAYS``); the first run backfills everything,
   resuming from a saved cursor if a rate limit stopped it;
3. fetch ``/history`` whenever ``edited_at`` names a revision not yet stored (every revision
   becomes a version), ``/context`` for recent statuses with replies, and media of new versions;
4. re-check known items of the horizon that did not show up: a 404 on the item itself confirms
   the disappearance and a tombstone version is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from archiver.capture.session import CaptureSession
from archiver.clock import parse_timestamp
from archiver.collectors.http import ClientOptions, Fetched, RecordingClient
from archiver.collectors.mastodon_api import (
    MastodonAccountRef,
    MastodonRatePolicy,
    id_before,
    link_targets,
    parse_account_url,
)
from archiver.collectors.mastodon_normalize import (
    kind_for,
    profile_observation,
    status_observation,
    status_platform_id,
    tombstone,
)
from archiver.errors import CollectorError, InputError
from archiver.model import (
    AccountInfo,
    DisappearanceReason,
    Observation,
    Platform,
    Problem,
    ProblemCode,
    RecordKind,
    SourceKind,
)
from archiver.settings import Settings

PAGE_LIMIT = 40
ANONYMOUS_DESCENDANTS_CAP = 60


class MastodonCollector:
    """Collects one Mastodon account over its public API (a token is optional)."""

    name = "mastodon"
    version = "1.0"
    source = SourceKind.LIVE

    def __init__(self, settings: Settings, *, token: str | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.token = token
        self.transport = transport

    def collect(self, session: CaptureSession, account: AccountInfo) -> AccountInfo:
        ref = parse_account_url(account.url)
        options = ClientOptions(timeout=self.settings.http_timeout, retries=self.settings.http_retries,
                                max_rate_wait=float(self.settings.rate_limit_max_wait), token=self.token)
        client = RecordingClient(session, clock=session.archive.clock, policy=MastodonRatePolicy(),
                                 options=options, spool_dir=session.spool.directory, transport=self.transport)
        try:
            return _Pass(session, account, ref, client, self.settings, has_token=bool(self.token)).run()
        finally:
            client.close()


@dataclass
class _Pass:
    session: CaptureSession
    account: AccountInfo
    ref: MastodonAccountRef
    client: RecordingClient
    settings: Settings
    has_token: bool

    def __post_init__(self) -> None:
        self.seen: set[str] = set()
        self.own_id = ""
        self.host = self.ref.host
        self.horizon = self.session.archive.clock.now() - timedelta(days=self.settings.recheck_days)
        self.author_gone: dict[str, bool] = {}

    def run(self) -> AccountInfo:
        updated = self._lookup()
        self._walk_timeline()
        self._recheck_missing()
        return updated

    # -- account ----------------------------------------------------------------------------------

    def _lookup(self) -> AccountInfo:
        fetched = self._get("/api/v1/accounts/lookup", params={"acct": self.ref.username})
        if fetched.status == 404:
            raise CollectorError(f"@{self.ref.username} was not found on {self.host} (renamed, deleted or "
                                 "suspended?); nothing was archived for it this run", code=ProblemCode.NOT_FOUND)
        data = self._expect_json(fetched, dict)
        found_id = str(data.get("id", ""))
        expected = self.account.platform_account_id
        if expected and found_id != expected:
            raise CollectorError(f"@{self.ref.username} on {self.host} now belongs to account id {found_id}, "
                                 f"not {expected}; the name may have been re-registered. Nothing was archived; "
                                 "check the account and re-add it if this is intended",
                                 code=ProblemCode.ACCOUNT_MISMATCH)
        self.own_id = found_id
        # Platform ids use the instance's own domain (as in its ActivityPub ids and exports), not the
        # address we reach the API at, so live captures and imported exports name records alike.
        self.host = urlsplit(str(data.get("url") or "")).netloc.lower() or self.ref.host
        self.session.observe(profile_observation(data, host=self.host, evidence=[fetched.evidence_id]))
        self.session.commit_point()
        return replace(self.account, platform_account_id=found_id,
                       display_name=data.get("display_name") or self.account.display_name)

    # -- timeline ---------------------------------------------------------------------------------

    def _walk_timeline(self) -> None:
        state = self.session.state
        newest_known = state.get("newest_id")
        timeline = f"/api/v1/accounts/{self.own_id}/statuses"
        url: str | None = self._url(timeline)
        params: dict[str, str | int] | None = {"limit": PAGE_LIMIT}
        jumped = False
        while url:
            fetched = self.client.get(url, params=params)
            params = None  # Link targets carry their own query
            statuses = self._expect_json(fetched, list)
            if not statuses:
                self._mark_backfill_done()
                break
            for status in statuses:
                self._take_status(status, fetched.evidence_id, self._timeline_kind(status))
            self.session.commit_point()
            newest, oldest = str(statuses[0]["id"]), statuses[-1]
            if not state.get("newest_id") or id_before(state["newest_id"], newest):
                state["newest_id"] = newest
            next_url = link_targets(fetched.header("link")).get("next")
            backfilling = not state.get("backfill_complete")
            if backfilling:
                cursor = state.get("backfill_max_id")
                if (cursor and not jumped and newest_known and not id_before(newest_known, str(oldest["id"]))
                        and id_before(cursor, str(oldest["id"]))):
                    url, params, jumped = self._url(timeline), {"limit": PAGE_LIMIT, "max_id": cursor}, True
                    continue  # resume an interrupted backfill where it stopped
                state["backfill_max_id"] = str(oldest["id"])
            if next_url is None:
                self._mark_backfill_done()
                break
            if not backfilling and self._past_horizon(oldest, newest_known):
                break
            url = next_url

    def _mark_backfill_done(self) -> None:
        self.session.state["backfill_complete"] = True
        self.session.state.pop("backfill_max_id", None)

    def _past_horizon(self, oldest: Mapping[str, Any], newest_known: str | None) -> bool:
        older_than_horizon = parse_timestamp(oldest["created_at"]) < self.horizon
        return older_than_horizon and (newest_known is None or not id_before(newest_known, str(oldest["id"])))

    def _timeline_kind(self, status: Mapping[str, Any]) -> RecordKind:
        if not status.get("in_reply_to_id"):
            return RecordKind.POST
        self_thread = str(status.get("in_reply_to_account_id")) == self.own_id
        return kind_for(True, RecordKind.POST if self_thread else RecordKind.COMMENT, True)

    # -- one status -------------------------------------------------------------------------------

    def _take_status(self, status: Mapping[str, Any], evidence_id: str, kind: RecordKind,
                     with_thread: bool = True) -> None:
        try:
            observation = status_observation(status, host=self.host, kind=kind, evidence=[evidence_id])
        except InputError as exc:
            self._problem(ProblemCode.BAD_RESPONSE, str(exc), None)
            return
        self.seen.add(observation.platform_id)
        first_sighting = self.session.prior(Platform.MASTODON, observation.platform_id) is None
        for revision in self._revisions(status, observation, kind):
            self._observe_with_media(revision)
        # Threads are fetched for statuses seen for the first time (a backfill captures old threads
        # once) and re-fetched for recent ones, where new replies and deletions still happen.
        recent = observation.posted_at is not None and observation.posted_at >= self.horizon
        if (with_thread and not status.get("reblog") and int(status.get("replies_count") or 0) > 0
                and (recent or first_sighting)):
            self._thread(status, kind)

    def _revisions(self, status: Mapping[str, Any], observation: Observation,
                   kind: RecordKind) -> Sequence[Observation]:
        """Every revision not yet stored, from ``/history`` when the status has been edited."""
        edited = status.get("edited_at")
        prior = self.session.prior(Platform.MASTODON, observation.platform_id)
        if not edited or (prior is not None and parse_timestamp(edited) in prior.revisions):
            return [observation]
        fetched = self._get(f"/api/v1/statuses/{status['id']}/history")
        if fetched.status != 200:
            self._problem(ProblemCode.BAD_RESPONSE, f"edit history answered HTTP {fetched.status}",
                          observation.platform_id)
            return [observation]
        revisions = self._expect_json(fetched, list)
        return [status_observation(status, host=self.host, kind=kind, revision=revision,
                                   evidence=[fetched.evidence_id, *observation.exchanges])
                for revision in revisions]

    def _observe_with_media(self, observation: Observation) -> None:
        if observation.media_urls and self.session.would_change(observation):
            media = [m for m in (self._media(url, observation.platform_id) for url in observation.media_urls) if m]
            observation = replace(observation, exchanges=(*observation.exchanges, *media))
        self.session.observe(observation)

    def _media(self, url: str, item: str) -> str | None:
        try:
            fetched = self.client.get(url, accept="*/*", max_bytes=self.settings.media_max_bytes, to_file=True)
        except CollectorError as exc:
            if exc.code == ProblemCode.RATE_LIMITED:
                raise
            code = ProblemCode.MEDIA_TOO_LARGE if exc.code == ProblemCode.MEDIA_TOO_LARGE else ProblemCode.MEDIA_FAILED
            self._problem(code, str(exc), item)
            return None
        if fetched.status != 200:
            self._problem(ProblemCode.MEDIA_FAILED, f"media {url} answered HTTP {fetched.status}", item)
            return None
        return fetched.evidence_id

    def _thread(self, root: Mapping[str, Any], root_kind: RecordKind) -> None:
        fetched = self._get(f"/api/v1/statuses/{root['id']}/context")
        if fetched.status != 200:
            return  # gone since the timeline page; the re-check will confirm and record it
        descendants = self._expect_json(fetched, dict).get("descendants") or []
        if len(descendants) >= ANONYMOUS_DESCENDANTS_CAP and not self.has_token:
            self._problem(ProblemCode.THREAD_TRUNCATED, f"{len(descendants)} replies returned, the anonymous "
                          "limit; configure a token to capture the whole thread",
                          status_platform_id(self.host, str(root["id"])))
        kinds: dict[str, RecordKind] = {str(root["id"]): root_kind}
        for reply in descendants:
            own = str(reply.get("account", {}).get("id")) == self.own_id
            kind = kind_for(own, kinds.get(str(reply.get("in_reply_to_id"))), True)
            kinds[str(reply["id"])] = kind
            self._take_status(reply, fetched.evidence_id, kind, with_thread=False)
        self.session.commit_point()

    # -- disappearance ----------------------------------------------------------------------------

    def _recheck_missing(self) -> None:
        catalog = self.session.archive.catalog
        with catalog.begin() as conn:
            known = catalog.records_to_recheck(conn, self.account.id, self.horizon)
        for record in known:
            if record.platform_id in self.seen or record.kind is RecordKind.PROFILE:
                continue
            status_id = record.platform_id.split("/", 1)[1]
            fetched = self._get(f"/api/v1/statuses/{status_id}")
            if fetched.status == 404:
                reason = self._reason(record.author)
                self.session.observe(tombstone(record.platform_id, record.kind, record.posted_at, reason=reason,
                                               evidence=[fetched.evidence_id]))
            elif fetched.status == 200:
                self._take_status(self._expect_json(fetched, dict), fetched.evidence_id, record.kind,
                                  with_thread=False)
            else:
                self._problem(ProblemCode.BAD_RESPONSE, f"re-check answered HTTP {fetched.status}",
                              record.platform_id)
            self.session.commit_point()

    def _reason(self, author: str | None) -> DisappearanceReason:
        """Mastodon's 404 does not say who removed a status; only a vanished author is knowable."""
        if not author:
            return DisappearanceReason.UNSPECIFIED
        if author not in self.author_gone:
            fetched = self._get("/api/v1/accounts/lookup", params={"acct": author})
            self.author_gone[author] = fetched.status == 404
        return DisappearanceReason.ACCOUNT_GONE if self.author_gone[author] else DisappearanceReason.UNSPECIFIED

    # -- plumbing ---------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.ref.base_url}{path}"

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> Fetched:
        return self.client.get(self._url(path), params=params)

    def _expect_json(self, fetched: Fetched, shape: type) -> Any:
        if fetched.status != 200:
            raise CollectorError(f"{fetched.exchange.url} answered HTTP {fetched.status}",
                                 code=ProblemCode.BAD_RESPONSE)
        data = fetched.json()
        if not isinstance(data, shape):
            raise CollectorError(f"{fetched.exchange.url} answered with JSON that is not a {shape.__name__}",
                                 code=ProblemCode.BAD_RESPONSE)
        return data

    def _problem(self, code: ProblemCode, message: str, item: str | None) -> None:
        self.session.problem(Problem(code=code, message=message, item=item))
