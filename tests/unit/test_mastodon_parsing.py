"""Mastodon wire details and normalization, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archiver.cli.main import printable
from archiver.collectors.html_text import html_to_text
from archiver.collectors.mastodon_api import MastodonRatePolicy, id_before, link_targets, parse_account_url
from archiver.collectors.mastodon_normalize import kind_for, media_kind, status_observation
from archiver.errors import InputError
from archiver.model import RecordKind
from archiver.warc.exchange import HttpExchange

NOW = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)


def test_account_url_gives_handle_and_canonical_url() -> None:
    ref = parse_account_url("https://Social.Example.gov/@cityhall ")
    assert (ref.handle, ref.url, ref.base_url) == ("cityhall@social.example.gov", "https://Social.Example.gov/@cityhall",
                                                   "https://Social.Example.gov")


@pytest.mark.parametrize("url", ["ftp://x/@a", "https://x/a", "https://x/@a/b", "https://x/@", "http://x.gov/@a",
                                 "https://x/@a b", "not a url"])
def test_bad_account_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError):
        parse_account_url(url)


def test_link_header_paging() -> None:
    header = ('<https://h/api/v1/accounts/1/statuses?max_id=113>; rel="next", '
              '<https://h/api/v1/accounts/1/statuses?min_id=119>; rel="prev"')
    assert link_targets(header) == {"next": "https://h/api/v1/accounts/1/statuses?max_id=113",
                                    "prev": "https://h/api/v1/accounts/1/statuses?min_id=119"}
    assert link_targets(None) == {}


def test_status_ids_compare_numerically_only_when_both_are_digits() -> None:
    assert id_before("9", "10") and not id_before("10", "9")
    assert id_before("abc", "abd")


def exchange(status: int, headers: dict[str, str]) -> HttpExchange:
    return HttpExchange(method="GET", url="https://h/x", request_headers=(), request_body=b"", http_version="HTTP/1.1",
                        status=status, reason="", response_headers=tuple(headers.items()), body=b"", body_path=None,
                        started_at=NOW)


def test_rate_policy_reads_iso_reset_times() -> None:
    policy = MastodonRatePolicy()
    exhausted = exchange(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2025-03-01T15:05:00.000000Z"})
    assert policy.pause_after(exhausted, NOW) == 300
    assert policy.pause_after(exchange(200, {"X-RateLimit-Remaining": "12"}), NOW) == 0
    assert policy.retry_after(exchange(429, {"Retry-After": "7"}), NOW) == 7
    assert policy.retry_after(exchange(429, {"X-RateLimit-Reset": "garbage"}), NOW) == 60


@pytest.mark.parametrize("own, parent, reply, kind", [
    (True, None, False, RecordKind.POST), (True, RecordKind.POST, True, RecordKind.POST),
    (True, RecordKind.COMMENT, True, RecordKind.REPLY), (False, RecordKind.POST, True, RecordKind.COMMENT),
    (False, RecordKind.COMMENT, True, RecordKind.REPLY), (False, None, True, RecordKind.REPLY),
])
def test_kinds(own: bool, parent: RecordKind | None, reply: bool, kind: RecordKind) -> None:
    assert kind_for(own, parent, reply) is kind


def test_media_kinds_agree_between_api_and_export() -> None:
    assert media_kind("gifv") == media_kind("video/mp4") == "video"
    assert media_kind("image") == media_kind("image/png") == "image"
    assert media_kind(None) == "unknown"


def test_counts_are_context_not_content() -> None:
    status = {"id": "1", "created_at": "2025-03-01T15:04:05.000Z", "edited_at": None, "content": "<p>hi</p>",
              "account": {"acct": "cityhall"}, "favourites_count": 3, "media_attachments": [], "visibility": "public"}
    first = status_observation(status, host="h", kind=RecordKind.POST, evidence=["e"])
    later = status_observation({**status, "favourites_count": 99}, host="h", kind=RecordKind.POST, evidence=["e"])
    assert first.content == later.content and first.context != later.context
    assert first.author == "cityhall@h" and first.platform_id == "h/1"


def test_malformed_status_is_an_input_error() -> None:
    with pytest.raises(InputError, match="malformed Mastodon status"):
        status_observation({"id": "1"}, host="h", kind=RecordKind.POST, evidence=[])


def test_html_text_drops_markup_and_script_bodies_but_keeps_escaped_text() -> None:
    html = "<p>Main St closed.</p><p>Use <a href='x'>Oak</a><br>Ave</p>"
    assert html_to_text(html) == "Main St closed.\nUse Oak\nAve"
    assert html_to_text("<p>a</p><script>steal()</script><style>p{}</style>") == "a"
    assert html_to_text("<p>&lt;script&gt;x&lt;/script&gt;</p>") == "<script>x</script>"


def test_terminal_output_neutralizes_escape_sequences_and_bidi_overrides() -> None:
    assert printable("ok\x1b[2J\x07\u202egnp.exe") == "ok\\x1b[2J\\x07\\u202egnp.exe"
    assert printable(None) == ""
