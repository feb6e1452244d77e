"""Synthetic Mastodon traffic for benchmarks and pipeline tests: realistic pages, no network.

Each page is a real Mastodon API response body (a JSON array of Status objects, 20–300 words of
mixed English and Indonesian) wrapped in an HTTP exchange, then normalized by the real Mastodon
normalizer, so a benchmark measures the whole pipeline rather than a shortcut through it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from archiver.capture.evidence import ExchangeEvidence
from archiver.capture.session import CaptureSession
from archiver.collectors.mastodon_normalize import kind_for, status_observation
from archiver.model import AccountInfo, RecordKind, SourceKind
from archiver.warc.exchange import HttpExchange

ENGLISH = tuple("""
the city council will meet on tuesday to discuss the road closure budget permits clinic hours
residents are asked to report flooding near the bridge and keep drains clear the library opens late
on thursday vaccination schedule for children updated please share with neighbours thank you for
your patience while crews repair the water main on main street
""".split())
INDONESIAN = tuple("""
jalan merdeka ditutup sampai pukul delapan belas warga diminta melaporkan banjir di dekat jembatan
pelayanan puskesmas dibuka kembali hari senin jadwal imunisasi anak diperbarui mohon sebarkan
informasi ini kepada tetangga terima kasih atas kesabaran anda petugas sedang memperbaiki pipa air
di jalan utama pemerintah kota mengumumkan anggaran baru
""".split())


@dataclass(frozen=True)
class SyntheticPlan:
    versions: int
    page_size: int = 40
    comment_share: float = 0.5
    edit_share: float = 0.1
    seed: int = 7
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    host: str = "social.example.gov"


TEXT_POOL = 4096


def words(rng: random.Random) -> str:
    vocabulary = ENGLISH if rng.random() < 0.5 else INDONESIAN
    return " ".join(rng.choices(vocabulary, k=rng.randint(20, 300)))


def text_pool(seed: int) -> list[str]:
    """Pre-generated texts: drawing from a pool keeps the generator's own cost out of what a
    benchmark measures (making 300 random words costs about as much as archiving them)."""
    rng = random.Random(seed)
    return [words(rng) for _ in range(TEXT_POOL)]


def status(rng: random.Random, texts: list[str], plan: SyntheticPlan, number: int, *, comment: bool,
           edited: bool) -> dict[str, Any]:
    created = plan.start + timedelta(minutes=7 * number)
    author: dict[str, str | None] = {"id": "1", "username": "cityhall", "acct": "cityhall", "display_name": "City Hall",
              "url": f"https://{plan.host}/@cityhall"}
    if comment:
        author = {"id": str(1000 + number % 997), "username": f"resident{number % 997}",
                  "acct": f"resident{number % 997}@town.example", "display_name": "Resident", "url": None}
    status_id = str(113_000_000_000_000_000 + number)
    return {
        "id": status_id, "uri": f"https://{plan.host}/users/{author['username']}/statuses/{status_id}",
        "url": f"https://{plan.host}/@{author['username']}/{status_id}",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "edited_at": (created + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z") if edited else None,
        "visibility": "public", "sensitive": False, "spoiler_text": "", "language": "en",
        "content": f"<p>{rng.choice(texts)}</p>",
        "in_reply_to_id": str(113_000_000_000_000_000 + number - 1) if comment else None,
        "in_reply_to_account_id": "1" if comment else None, "reblog": None, "account": author,
        "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
        "replies_count": 0, "reblogs_count": rng.randint(0, 9), "favourites_count": rng.randint(0, 99),
    }


def pages(plan: SyntheticPlan) -> Iterator[list[dict[str, Any]]]:
    """Pages of statuses; an edited status appears again later with new content (a second version)."""
    rng = random.Random(plan.seed)
    texts = text_pool(plan.seed)
    produced = 0
    number = 0
    while produced < plan.versions:
        page: list[dict[str, Any]] = []
        while len(page) < plan.page_size and produced < plan.versions:
            number += 1
            edit_later = rng.random() < plan.edit_share and produced + 2 <= plan.versions
            item = status(rng, texts, plan, number, comment=rng.random() < plan.comment_share, edited=False)
            page.append(item)
            produced += 1
            if edit_later:
                edited = dict(item, content=f"<p>{rng.choice(texts)}</p>", edited_at=status(
                    rng, texts, plan, number, comment=False, edited=True)["edited_at"])
                page.append(edited)
                produced += 1
        yield page


def page_exchange(plan: SyntheticPlan, page: list[dict[str, Any]], at: datetime) -> HttpExchange:
    body = json.dumps(page, separators=(",", ":")).encode()
    url = f"https://{plan.host}/api/v1/accounts/1/statuses?limit={plan.page_size}&max_id={page[0]['id']}"
    return HttpExchange(method="GET", url=url,
                        request_headers=(("Host", plan.host), ("Accept", "application/json")), request_body=b"",
                        http_version="HTTP/1.1", status=200, reason="OK",
                        response_headers=(("Content-Type", "application/json; charset=utf-8"),
                                          ("Content-Length", str(len(body)))),
                        body=body, body_path=None, started_at=at)


def _kind(item: dict[str, Any]) -> RecordKind:
    comment = item["in_reply_to_id"] is not None
    return kind_for(not comment, RecordKind.POST if comment else None, comment)


class SyntheticCollector:
    """A collector whose platform is :func:`pages`: the whole capture pipeline, minus the network."""

    name = "synthetic-mastodon"
    version = "1.0"
    source = SourceKind.LIVE

    def __init__(self, plan: SyntheticPlan) -> None:
        self.plan = plan

    def collect(self, session: CaptureSession, account: AccountInfo) -> AccountInfo:
        for page in pages(self.plan):
            evidence = session.record(ExchangeEvidence(page_exchange(self.plan, page, session.archive.clock.now())))
            observations = [status_observation(item, host=self.plan.host, kind=_kind(item), evidence=[evidence])
                            for item in page]
            session.prefetch(observations)
            for observation in observations:
                session.observe(observation)
            session.commit_point()
        return account
