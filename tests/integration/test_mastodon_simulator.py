"""The Mastodon simulator over real HTTP: paging, edits, deletions, thread caps, rate limits, auth and faults.

Expected values come from the reference (platform-formats.md §1) and from the clock the test sets,
never from the simulator's own output.
"""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from archiver.clock import FixedClock
from archiver.simulator.mastodon import (
    Fault,
    MastodonInstance,
    MastodonServer,
    MediaSpec,
    SimulatorError,
    run_mastodon,
)
from archiver.simulator.mastodon_demo import HOSTILE_TEXT, scripted_demo_instance, tiny_png

START = datetime(2025, 3, 1, 15, 4, 5, tzinfo=UTC)
NOT_FOUND_BODY = b'{"error":"Record not found"}'
TOKEN = "s3cret-token"
# Status fields named in platform-formats.md §1.4.
STATUS_FIELDS = """id uri url created_at edited_at account content visibility sensitive spoiler_text media_attachments
mentions tags emojis reblogs_count favourites_count replies_count in_reply_to_id in_reply_to_account_id reblog
language card poll"""


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def instance(clock: FixedClock) -> MastodonInstance:
    inst = MastodonInstance(clock=clock)
    inst.add_account("cityhall", "City Hall")
    inst.add_account("resident", "A Resident")
    return inst


@pytest.fixture
def city(instance: MastodonInstance) -> str:
    account = instance.find_account("cityhall")
    assert account is not None
    return account.id


@pytest.fixture
def resident(instance: MastodonInstance) -> str:
    account = instance.find_account("resident")
    assert account is not None
    return account.id


@pytest.fixture
def server(instance: MastodonInstance) -> Iterator[MastodonServer]:
    with run_mastodon(instance) as running:
        yield running


@pytest.fixture
def client(server: MastodonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5.0) as http:
        yield http


def post_many(instance: MastodonInstance, clock: FixedClock, account_id: str, count: int) -> list[str]:
    ids = []
    for number in range(count):
        clock.advance(60)
        ids.append(instance.post(account_id, f"<p>Notice {number}</p>"))
    return ids


def walk_next(client: httpx.Client, url: str) -> tuple[list[str], list[httpx.Response]]:
    seen: list[str] = []
    pages: list[httpx.Response] = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200
        pages.append(response)
        seen.extend(item["id"] for item in response.json())
        next_url = response.links.get("next", {}).get("url")
        assert len(pages) < 50, "paging did not terminate"
    return seen, pages


# -- paging -------------------------------------------------------------------------------------


def test_next_links_walk_whole_timeline_newest_first_without_duplicates(client, instance, clock, city):
    posted = post_many(instance, clock, city, 45)
    seen, pages = walk_next(client, f"/api/v1/accounts/{city}/statuses?limit=10")
    assert seen == list(reversed(posted))
    assert [len(p.json()) for p in pages] == [10, 10, 10, 10, 5]
    assert "next" not in pages[-1].links


def test_timeline_that_fills_its_last_page_ends_with_an_empty_page_without_links(client, instance, clock, city):
    posted = post_many(instance, clock, city, 40)
    seen, pages = walk_next(client, f"/api/v1/accounts/{city}/statuses")
    assert sorted(seen, key=int) == posted
    assert pages[-1].json() == []
    assert "Link" not in pages[-1].headers


def test_link_header_is_absolute_keeps_filters_and_points_at_page_edges(client, server, instance, clock, city):
    post_many(instance, clock, city, 5)
    response = client.get(f"/api/v1/accounts/{city}/statuses", params={"limit": 2, "exclude_replies": "true"})
    page = [item["id"] for item in response.json()]
    endpoint = f"{server.base_url}/api/v1/accounts/{city}/statuses"
    assert response.links["next"]["url"] == f"{endpoint}?exclude_replies=true&limit=2&max_id={page[-1]}"
    assert response.links["prev"]["url"] == f"{endpoint}?exclude_replies=true&limit=2&min_id={page[0]}"
    assert re.fullmatch(r'<[^>]+>; rel="next", <[^>]+>; rel="prev"', response.headers["Link"])


def test_min_id_returns_only_newer_statuses_and_prev_links_continue_upwards(client, instance, clock, city):
    old = post_many(instance, clock, city, 5)
    new = post_many(instance, clock, city, 3)
    first = client.get(f"/api/v1/accounts/{city}/statuses", params={"min_id": old[-1], "limit": 2})
    # min_id pages sit directly above the cursor, newest first.
    assert [item["id"] for item in first.json()] == [new[1], new[0]]
    second = client.get(first.links["prev"]["url"])
    assert [item["id"] for item in second.json()] == [new[2]]
    third = client.get(second.links["prev"]["url"])
    assert third.json() == []


def test_max_id_and_since_id_bound_the_page(client, instance, clock, city):
    ids = post_many(instance, clock, city, 6)
    response = client.get(f"/api/v1/accounts/{city}/statuses", params={"max_id": ids[4], "since_id": ids[1]})
    assert [item["id"] for item in response.json()] == [ids[3], ids[2]]


def test_limit_defaults_to_20_and_is_capped_at_40(client, instance, clock, city):
    post_many(instance, clock, city, 50)
    assert len(client.get(f"/api/v1/accounts/{city}/statuses").json()) == 20
    assert len(client.get(f"/api/v1/accounts/{city}/statuses", params={"limit": 100}).json()) == 40


def test_status_ids_are_numeric_strings_that_sort_in_posting_order(instance, clock, city):
    ids = post_many(instance, clock, city, 5)
    assert all(re.fullmatch(r"\d{18}", i) for i in ids)
    assert sorted(ids, key=int) == ids


def test_exclude_replies_keeps_self_threads_but_drops_replies_to_others(client, instance, clock, city, resident):
    root = instance.post(city, "<p>Road works</p>")
    thread = instance.post(city, "<p>More detail</p>", in_reply_to_id=root)
    question = instance.post(resident, "<p>When?</p>", in_reply_to_id=root)
    answer = instance.post(city, "<p>Friday</p>", in_reply_to_id=question)
    everything = [s["id"] for s in client.get(f"/api/v1/accounts/{city}/statuses").json()]
    filtered = [s["id"] for s in client.get(f"/api/v1/accounts/{city}/statuses?exclude_replies=true").json()]
    assert set(everything) == {root, thread, answer}
    assert set(filtered) == {root, thread}


def test_anonymous_callers_see_only_public_and_unlisted(client, instance, city):
    visible = {instance.post(city, "<p>a</p>"), instance.post(city, "<p>b</p>", visibility="unlisted")}
    private = instance.post(city, "<p>c</p>", visibility="private")
    instance.post(city, "<p>d</p>", visibility="direct")
    assert {s["id"] for s in client.get(f"/api/v1/accounts/{city}/statuses").json()} == visible
    assert client.get(f"/api/v1/statuses/{private}").status_code == 404
    instance.add_token(TOKEN, city)
    owner = client.get(f"/api/v1/accounts/{city}/statuses", headers={"Authorization": f"Bearer {TOKEN}"})
    assert len(owner.json()) == 4


# -- entities -----------------------------------------------------------------------------------


def test_status_json_has_the_reference_fields_and_formats(client, instance, city):
    status_id = instance.post(city, "<p>Main St closed until 6pm.</p>", tags=["Roads"])
    response = client.get(f"/api/v1/statuses/{status_id}")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    missing = set(STATUS_FIELDS.split()) - body.keys()
    assert not missing
    assert body["created_at"] == "2025-03-01T15:04:05.000Z"
    assert body["edited_at"] is None and body["card"] is None and body["poll"] is None
    assert body["uri"] == f"https://social.example.gov/users/cityhall/statuses/{status_id}"
    assert body["url"] == f"https://social.example.gov/@cityhall/{status_id}"
    assert body["tags"] == [{"name": "roads", "url": "https://social.example.gov/tags/roads"}]
    assert {"id", "username", "acct", "display_name", "url"} <= body["account"].keys()


def test_json_bodies_escape_html_characters_like_rails(client, instance, city):
    status_id = instance.post(city, "<p>Fish & chips</p>")
    raw = client.get(f"/api/v1/statuses/{status_id}").content
    assert b'"content":"\\u003cp\\u003eFish \\u0026 chips\\u003c/p\\u003e"' in raw


def test_reply_mentions_the_parent_author_and_counts_on_the_parent(client, instance, city, resident):
    root = instance.post(city, "<p>Clinic hours</p>")
    instance.post(resident, "<p>Thanks</p>", in_reply_to_id=root)
    reply = client.get(f"/api/v1/accounts/{resident}/statuses").json()[0]
    assert reply["in_reply_to_id"] == root and reply["in_reply_to_account_id"] == city
    assert [m["acct"] for m in reply["mentions"]] == ["cityhall"]
    assert client.get(f"/api/v1/statuses/{root}").json()["replies_count"] == 1


def test_boosts_carry_the_original_and_can_be_excluded(client, instance, city, resident):
    original = instance.post(resident, "<p>Great park</p>")
    boost = instance.boost(city, original)
    page = client.get(f"/api/v1/accounts/{city}/statuses").json()
    assert page[0]["id"] == boost and page[0]["reblog"]["id"] == original
    assert client.get(f"/api/v1/accounts/{city}/statuses?exclude_reblogs=1").json() == []


def test_account_lookup_accepts_local_acct_forms(client, city):
    assert client.get("/api/v1/accounts/lookup", params={"acct": "cityhall"}).json()["id"] == city
    assert client.get("/api/v1/accounts/lookup", params={"acct": "cityhall@social.example.gov"}).json()["id"] == city
    missing = client.get("/api/v1/accounts/lookup", params={"acct": "nobody"})
    assert missing.status_code == 404 and missing.content == NOT_FOUND_BODY


# -- edits and deletions ------------------------------------------------------------------------


def test_edit_sets_edited_at_and_history_lists_every_revision_oldest_first(client, instance, clock, city):
    status_id = instance.post(city, "<p>Main St closed until 5pm.</p>")
    clock.advance(355)  # 15:10:00
    instance.edit(status_id, html_content="<p>Main St closed until 6pm.</p>")
    clock.advance(600)  # 15:20:00
    instance.edit(status_id, spoiler_text="roads")
    status = client.get(f"/api/v1/statuses/{status_id}").json()
    assert status["edited_at"] == "2025-03-01T15:20:00.000Z"
    assert status["content"] == "<p>Main St closed until 6pm.</p>" and status["spoiler_text"] == "roads"
    history = client.get(f"/api/v1/statuses/{status_id}/history").json()
    assert [h["created_at"] for h in history] == [
        "2025-03-01T15:04:05.000Z",
        "2025-03-01T15:10:00.000Z",
        "2025-03-01T15:20:00.000Z",
    ]
    assert history[0]["content"] == "<p>Main St closed until 5pm.</p>"
    assert [h["spoiler_text"] for h in history] == ["", "", "roads"]
    assert all("id" not in h and h["account"]["id"] == city for h in history)


def test_unedited_status_has_a_one_element_history(client, instance, city):
    status_id = instance.post(city, "<p>Permit office open</p>")
    history = client.get(f"/api/v1/statuses/{status_id}/history").json()
    assert [h["content"] for h in history] == ["<p>Permit office open</p>"]


def test_edit_can_replace_media_and_history_keeps_the_old_attachment(client, instance, clock, city):
    status_id = instance.post(city, "<p>Map</p>", media=[MediaSpec(tiny_png(4, 4, (0, 0, 0), (9, 9, 9)), "old map")])
    clock.advance(60)
    instance.edit(status_id, media=[MediaSpec(tiny_png(6, 4, (0, 0, 0), (9, 9, 9)), "new map")])
    history = client.get(f"/api/v1/statuses/{status_id}/history").json()
    assert [h["media_attachments"][0]["description"] for h in history] == ["old map", "new map"]


def test_deleted_reply_answers_404_and_leaves_timeline_and_context(client, instance, city, resident):
    root = instance.post(city, "<p>Clinic open</p>")
    reply = instance.post(resident, "<p>Rude words</p>", in_reply_to_id=root)
    instance.delete(reply)
    gone = client.get(f"/api/v1/statuses/{reply}")
    assert gone.status_code == 404
    assert gone.content == NOT_FOUND_BODY
    assert gone.headers["Content-Type"] == "application/json; charset=utf-8"
    assert client.get(f"/api/v1/accounts/{resident}/statuses").json() == []
    assert client.get(f"/api/v1/statuses/{root}/context").json() == {"ancestors": [], "descendants": []}


def test_deleted_parent_breaks_the_thread_but_the_reply_keeps_its_pointer(client, instance, city, resident):
    root = instance.post(city, "<p>Posted in error</p>")
    reply = instance.post(resident, "<p>What?</p>", in_reply_to_id=root)
    instance.delete(root)
    assert client.get(f"/api/v1/statuses/{root}/context").status_code == 404
    assert client.get(f"/api/v1/statuses/{reply}").json()["in_reply_to_id"] == root
    assert client.get(f"/api/v1/statuses/{reply}/context").json()["ancestors"] == []


def test_suspended_account_and_its_statuses_answer_404(client, instance, city):
    status_id = instance.post(city, "<p>Hello</p>")
    instance.suspend_account(city)
    for path in (
        "/api/v1/accounts/lookup?acct=cityhall",
        f"/api/v1/statuses/{status_id}",
        f"/api/v1/accounts/{city}/statuses",
    ):
        response = client.get(path)
        assert (response.status_code, response.content) == (404, NOT_FOUND_BODY), path


# -- threads ------------------------------------------------------------------------------------


def reply_chain(instance: MastodonInstance, root: str, authors: list[str], length: int) -> list[str]:
    chain, parent = [], root
    for number in range(length):
        parent = instance.post(authors[number % len(authors)], f"<p>r{number}</p>", in_reply_to_id=parent)
        chain.append(parent)
    return chain


def test_anonymous_context_caps_ancestors_at_40_nearest_first_and_a_token_lifts_it(client, instance, city, resident):
    root = instance.post(city, "<p>Thread</p>")
    chain = reply_chain(instance, root, [resident, city], 45)
    anonymous = client.get(f"/api/v1/statuses/{chain[-1]}/context").json()["ancestors"]
    assert [s["id"] for s in anonymous] == chain[4:44]
    instance.add_token(TOKEN)
    with_token = client.get(f"/api/v1/statuses/{chain[-1]}/context", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [s["id"] for s in with_token.json()["ancestors"]] == [root, *chain[:44]]


def test_anonymous_context_caps_descendants_at_60(client, instance, city, resident):
    root = instance.post(city, "<p>Survey</p>")
    replies = [instance.post(resident, f"<p>{n}</p>", in_reply_to_id=root) for n in range(70)]
    anonymous = client.get(f"/api/v1/statuses/{root}/context").json()["descendants"]
    assert [s["id"] for s in anonymous] == replies[:60]
    instance.add_token(TOKEN)
    full = client.get(f"/api/v1/statuses/{root}/context", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert len(full["descendants"]) == 70


def test_anonymous_context_stops_at_depth_20(client, instance, city, resident):
    root = instance.post(city, "<p>Deep</p>")
    chain = reply_chain(instance, root, [resident], 25)
    anonymous = client.get(f"/api/v1/statuses/{root}/context").json()["descendants"]
    assert [s["id"] for s in anonymous] == chain[:20]
    instance.add_token(TOKEN)
    full = client.get(f"/api/v1/statuses/{root}/context", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [s["id"] for s in full["descendants"]] == chain


def test_context_descendants_are_depth_first_in_id_order(client, instance, city, resident):
    root = instance.post(city, "<p>Q</p>")
    first = instance.post(resident, "<p>a</p>", in_reply_to_id=root)
    second = instance.post(resident, "<p>b</p>", in_reply_to_id=root)
    under_first = instance.post(city, "<p>a1</p>", in_reply_to_id=first)
    ids = [s["id"] for s in client.get(f"/api/v1/statuses/{root}/context").json()["descendants"]]
    assert ids == [first, under_first, second]


# -- rate limits and auth -----------------------------------------------------------------------


def test_exhausted_budget_answers_429_with_iso_reset_and_zero_remaining(client, server, clock, city):
    server.set_rate_limit(3)
    remaining = [client.get(f"/api/v1/accounts/{city}").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = client.get(f"/api/v1/accounts/{city}")
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests"}
    assert refused.headers["Content-Type"].startswith("application/json")
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Limit"] == "3"
    # 15:04:05 sits in the five-minute window that ends at 15:05:00.
    assert refused.headers["X-RateLimit-Reset"] == "2025-03-01T15:05:00.000000Z"
    clock.advance(60)
    assert client.get(f"/api/v1/accounts/{city}").status_code == 200


def test_every_api_response_carries_rate_limit_headers(client, city):
    for path in (f"/api/v1/accounts/{city}", "/api/v1/statuses/999", "/api/v1/nothing/here"):
        headers = client.get(path).headers
        assert headers["X-RateLimit-Limit"] == "300", path
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", headers["X-RateLimit-Reset"]), path


def test_required_token_refuses_anonymous_and_unknown_tokens(instance, city):
    instance.add_token(TOKEN)
    with run_mastodon(instance, require_token=True) as server, httpx.Client(base_url=server.base_url) as http:
        anonymous = http.get(f"/api/v1/accounts/{city}/statuses")
        assert anonymous.status_code == 401
        assert anonymous.json() == {"error": "This API requires an authenticated user"}
        assert http.get(f"/api/v1/accounts/{city}", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get(f"/api/v1/accounts/{city}", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


# -- faults, latency, log -----------------------------------------------------------------------


def test_injected_errors_hit_only_matching_paths_and_run_out(client, server, instance, city):
    status_id = instance.post(city, "<p>x</p>")
    server.faults.inject(Fault.json_error(503, "Service unavailable"), times=2, path_prefix="/api/v1/statuses/")
    assert client.get(f"/api/v1/accounts/{city}/statuses").status_code == 200
    codes = [client.get(f"/api/v1/statuses/{status_id}").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert server.faults.pending == 0


def test_injected_html_error_page_and_malformed_json(client, server, city):
    server.faults.inject(Fault.html_error(502))
    server.faults.inject(Fault.malformed_json())
    page = client.get(f"/api/v1/accounts/{city}")
    assert page.status_code == 502 and page.headers["Content-Type"] == "text/html"
    assert b"502 Bad Gateway" in page.content
    broken = client.get(f"/api/v1/accounts/{city}")
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)


def test_injected_auth_errors(client, server, city):
    server.faults.inject(Fault.json_error(401, "The access token is invalid"))
    server.faults.inject(Fault.json_error(403, "This action is not allowed"))
    assert [client.get(f"/api/v1/accounts/{city}").status_code for _ in range(3)] == [401, 403, 200]


def test_dropped_connection_and_truncated_body_raise_protocol_errors(client, server, city):
    server.faults.inject(Fault.drop_connection())
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/api/v1/accounts/{city}")
    server.faults.inject(Fault.truncated_body())
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/api/v1/accounts/{city}")
    assert client.get(f"/api/v1/accounts/{city}").status_code == 200


def test_latency_delays_each_request(client, server, city):
    server.latency_seconds = 0.05
    started = time.monotonic()
    client.get(f"/api/v1/accounts/{city}")
    assert time.monotonic() - started >= 0.05


def test_request_log_keeps_method_path_query_and_headers(client, server, city):
    client.get(f"/api/v1/accounts/{city}/statuses", params={"limit": "5"}, headers={"X-Probe": "yes"})
    entry = server.requests[-1]
    assert (entry.method, entry.path) == ("GET", f"/api/v1/accounts/{city}/statuses")
    assert entry.query == {"limit": ["5"]}
    assert entry.headers["x-probe"] == "yes"


# -- media --------------------------------------------------------------------------------------


def test_media_is_served_at_its_attachment_url_with_type_and_length(client, instance, city):
    image = tiny_png(8, 6, (255, 0, 0), (0, 0, 255))
    status_id = instance.post(city, "<p>Detour</p>", media=[MediaSpec(image, "Detour map", "image/png")])
    attachment = client.get(f"/api/v1/statuses/{status_id}").json()["media_attachments"][0]
    assert re.search(r"/system/media_attachments/files/\d{3}/\d{3}/\d{3}/original/[^/]+\.png$", attachment["url"])
    assert attachment["meta"]["original"]["width"] == 8 and attachment["meta"]["original"]["height"] == 6
    assert attachment["type"] == "image" and attachment["description"] == "Detour map"
    assert attachment["remote_url"] is None
    file = client.get(attachment["url"])
    assert file.content == image
    assert file.headers["Content-Type"] == "image/png"
    assert file.headers["Content-Length"] == str(len(image))
    instance.delete(status_id)
    assert client.get(attachment["url"]).status_code == 404


# -- the demo script ----------------------------------------------------------------------------


def png_is_valid(data: bytes) -> bool:
    """Check the signature, every chunk CRC, and that IDAT inflates to the declared raster."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    position, idat, size = 8, b"", (0, 0)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        idat += body if kind == b"IDAT" else b""
        position += 12 + length
    return len(zlib.decompress(idat)) == size[1] * (1 + 3 * size[0])


def test_demo_instance_tells_a_plausible_story_over_the_api(clock):
    instance, script = scripted_demo_instance(clock)
    with run_mastodon(instance) as server, httpx.Client(base_url=server.base_url) as http:
        account = http.get("/api/v1/accounts/lookup", params={"acct": "cityhall"}).json()
        assert account["display_name"] == "City of Example"
        posts, _ = walk_next(http, f"/api/v1/accounts/{account['id']}/statuses?exclude_replies=true&limit=40")
        statuses = [http.get(f"/api/v1/statuses/{i}").json() for i in posts]
        assert 20 <= len(statuses) <= 30
        assert {s["language"] for s in statuses} == {"en", "id"}
        assert any("Jalan Merdeka ditutup" in s["content"] for s in statuses)
        media = [m for s in statuses for m in s["media_attachments"]]
        assert len(media) == 2 and all(png_is_valid(http.get(m["url"]).content) for m in media)
        comments = http.get(f"/api/v1/statuses/{script.post_ids[9]}/context").json()["descendants"]
        assert any(HOSTILE_TEXT in c["content"] for c in comments)


def test_demo_second_act_edits_adds_and_deletes(clock):
    instance, script = scripted_demo_instance(clock)
    clock.advance(3600)
    changes = script.advance()
    with run_mastodon(instance) as server, httpx.Client(base_url=server.base_url) as http:
        edited = http.get(f"/api/v1/statuses/{script.edit_target_id}").json()
        assert edited["edited_at"] == "2025-03-01T16:04:05.000Z"
        assert len(http.get(f"/api/v1/statuses/{script.edit_target_id}/history").json()) == 2
        for gone in changes.deleted:
            assert http.get(f"/api/v1/statuses/{gone}").content == NOT_FOUND_BODY
        thread = http.get(f"/api/v1/statuses/{script.edit_target_id}/context").json()["descendants"]
        assert script.new_reply_id in [s["id"] for s in thread]
    with pytest.raises(SimulatorError, match="only one more act"):
        script.advance()
