"""The Mastodon collector against a local server speaking the real wire format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from archiver.accounts import add_account, new_account
from archiver.capture.service import RunSummary, run_capture
from archiver.clock import FixedClock
from archiver.collectors.mastodon import MastodonCollector
from archiver.collectors.mastodon_api import parse_account_url
from archiver.db import schema as t
from archiver.db.queries import RecordDetail, record_detail
from archiver.model import AccountInfo, Platform, RunStatus
from archiver.simulator.mastodon import Fault, MastodonServer, run_mastodon
from archiver.simulator.mastodon_demo import DemoScript, scripted_demo_instance
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive


@pytest.fixture
def demo(clock: FixedClock) -> Iterator[tuple[MastodonServer, DemoScript]]:
    instance, script = scripted_demo_instance(clock)
    with run_mastodon(instance) as server:
        yield server, script


def account_for(archive: Archive, server: MastodonServer) -> AccountInfo:
    ref = parse_account_url(f"{server.base_url}/@cityhall")
    account = new_account(Platform.MASTODON, handle=ref.handle, url=ref.url, clock=archive.clock)
    return add_account(archive, account, actor="test")


def collect(archive: Archive, account: AccountInfo, **settings: object) -> RunSummary:
    with archive.catalog.read() as conn:
        current = archive.catalog.find_account(conn, account.id)
    return run_capture(archive, current, MastodonCollector(replace(archive.settings, **settings)))


def states(archive: Archive) -> dict[str, list[str]]:
    """platform id -> states of its versions, in order."""
    with archive.catalog.read() as conn:
        rows = conn.execute(select(t.Record.platform_id, t.Version.state)
                            .join(t.Version, t.Version.record_id == t.Record.id)
                            .order_by(t.Record.platform_id, t.Version.number)).all()
    found: dict[str, list[str]] = {}
    for platform_id, state in rows:
        found.setdefault(platform_id, []).append(state)
    return found


def pid(script: DemoScript, status_id: str) -> str:
    return f"{script.instance.host}/{status_id}"


def detail_of(archive: Archive, platform_id: str) -> RecordDetail:
    with archive.catalog.read() as conn:
        record_id = conn.execute(select(t.Record.id).where(t.Record.platform_id == platform_id)).scalar()
        return record_detail(conn, record_id)


def test_scripted_timeline_post_edit_reply_delete(archive: Archive, demo, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    server, script = demo
    account = account_for(archive, server)
    first = collect(archive, account)
    assert first.status is RunStatus.SUCCEEDED, first.problems
    before = states(archive)
    assert before[pid(script, script.edit_target_id)] == ["present"]
    assert before[pid(script, script.hostile_comment_id)] == ["present"]
    assert len([k for k in before if "/accounts/" not in k]) == (len(script.post_ids) + len(script.comment_ids) + 2)

    clock.advance(3600)
    script.advance()
    second = collect(archive, account)
    assert second.status is RunStatus.SUCCEEDED, second.problems
    after = states(archive)
    assert after[pid(script, script.edit_target_id)] == ["present", "edited"]
    assert after[pid(script, script.new_reply_id or "")] == ["present"]
    assert after[pid(script, script.comment_to_delete_id)] == ["present", "deleted"]
    assert after[pid(script, script.post_to_delete_id)] == ["present", "deleted"]
    unchanged = {k: v for k, v in after.items() if k not in (
        pid(script, script.edit_target_id), pid(script, script.new_reply_id or ""),
        pid(script, script.comment_to_delete_id), pid(script, script.post_to_delete_id))}
    assert all(v == before[k] for k, v in unchanged.items())

    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    assert report.ok, [f.line() for f in report.findings]


def test_deletion_is_confirmed_on_the_item_and_says_how(archive: Archive, demo, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    server, script = demo
    account = account_for(archive, server)
    collect(archive, account)
    clock.advance(3600)
    script.advance()
    server.clear_requests()
    collect(archive, account)
    deleted = script.post_to_delete_id
    assert any(r.path == f"/api/v1/statuses/{deleted}" for r in server.requests)
    detail = detail_of(archive, pid(script, deleted))
    tombstone = detail.versions[-1]
    assert (tombstone.state, tombstone.reason, tombstone.detection) == ("deleted", "unspecified", "recheck_not_found")
    assert detail.versions[0].text  # the original content is kept


def test_edit_history_becomes_every_revision(archive: Archive, demo, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    server, script = demo
    account = account_for(archive, server)
    instance = script.instance
    target = script.post_ids[3]
    for text in ("first correction", "second correction"):
        clock.advance(60)
        instance.edit(target, html_content=f"<p>{text}</p>")
    collect(archive, account)
    assert states(archive)[pid(script, target)] == ["present", "edited", "edited"]


def test_media_binaries_are_archived_with_the_version(archive: Archive, demo) -> None:  # type: ignore[no-untyped-def]
    server, script = demo
    account = account_for(archive, server)
    collect(archive, account)
    media = [r for r in server.requests if "/media_attachments/" in r.path]
    assert len(media) == 2
    with archive.catalog.read() as conn:
        evidence = conn.execute(select(t.Version.evidence).join(t.Record, t.Record.id == t.Version.record_id)
                                .where(t.Record.platform_id == pid(script, script.post_ids[0]))).scalar()
    assert len(evidence) == 2  # the timeline page and the image


def test_second_run_without_changes_adds_nothing_but_keeps_the_evidence(archive: Archive, demo,  # type: ignore[no-untyped-def]
                                                                       clock: FixedClock) -> None:
    server, _script = demo
    account = account_for(archive, server)
    collect(archive, account)
    with archive.catalog.read() as conn:
        versions = conn.execute(select(t.Version.log_index)).all()
    clock.advance(900)
    again = collect(archive, account)
    assert again.counts.get("new", 0) == 0 and again.counts.get("edited", 0) == 0
    with archive.catalog.read() as conn:
        assert conn.execute(select(t.Version.log_index)).all() == versions
    assert again.counts["evidence"] > 0


def test_rate_limit_429_waits_for_the_iso_reset_and_resumes(archive: Archive, demo, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    server, _script = demo
    account = account_for(archive, server)
    server.faults.inject(Fault.json_error(429, "Too many requests"), times=1, path_prefix="/api/v1/accounts/")
    summary = collect(archive, account)
    assert summary.status is RunStatus.SUCCEEDED
    assert clock.slept and clock.slept[0] >= 1


def test_rate_limit_beyond_the_allowed_wait_stops_and_resumes_next_run(archive: Archive, demo,  # type: ignore[no-untyped-def]
                                                                        clock: FixedClock) -> None:
    server, script = demo
    account = account_for(archive, server)
    server.set_rate_limit(3, window_seconds=3600)
    stopped = collect(archive, account, rate_limit_max_wait=60)
    assert stopped.status is RunStatus.FAILED
    assert [p.code for p in stopped.problems] == ["rate_limited"]
    server.set_rate_limit(10_000, window_seconds=300)
    clock.advance(3600)
    resumed = collect(archive, account, rate_limit_max_wait=60)
    assert resumed.status is RunStatus.SUCCEEDED
    assert pid(script, script.post_ids[0]) in states(archive)


@pytest.mark.parametrize("status, code", [(401, "auth_failed"), (403, "auth_failed"), (503, "server_error")])
def test_refusal_and_failure_are_coded_problems(archive: Archive, demo, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    server, _script = demo
    account = account_for(archive, server)
    server.faults.inject(Fault.json_error(status, "nope"), times=20, path_prefix="/api/v1/accounts/lookup")
    summary = collect(archive, account, http_retries=1)
    assert summary.status is RunStatus.FAILED
    assert [p.code for p in summary.problems] == [code]
    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    assert report.ok  # the failed exchanges are kept as evidence and verify


def test_unreachable_instance_fails_quickly_with_a_clear_problem(archive: Archive, clock: FixedClock) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ref = parse_account_url(f"http://127.0.0.1:{port}/@cityhall")
    account = add_account(archive, new_account(Platform.MASTODON, handle=ref.handle, url=ref.url, clock=clock),
                          actor="test")
    summary = collect(archive, account, http_retries=1, http_timeout=2.0)
    assert summary.status is RunStatus.FAILED
    assert summary.problems[0].code == "unreachable"
    assert "unreachable" in summary.problems[0].message


def test_malformed_json_is_a_problem_and_the_bytes_are_kept(archive: Archive, demo) -> None:  # type: ignore[no-untyped-def]
    server, _script = demo
    account = account_for(archive, server)
    server.faults.inject(Fault.malformed_json(), times=1, path_prefix="/api/v1/accounts/lookup")
    summary = collect(archive, account)
    assert summary.status is RunStatus.FAILED
    assert summary.problems[0].code == "bad_response"
    assert summary.counts["evidence"] == 1


def test_handle_taken_over_by_another_account_is_never_archived_as_ours(archive: Archive, demo) -> None:  # type: ignore[no-untyped-def]
    server, _script = demo
    account = account_for(archive, server)
    collect(archive, account)
    with archive.catalog.read() as conn:
        current = archive.catalog.find_account(conn, account.id)
        before = conn.execute(select(t.Version.log_index)).all()
    from archiver.accounts import save_account

    save_account(archive, replace(current, platform_account_id="999999"), actor="test")
    summary = collect(archive, account)
    assert summary.status is RunStatus.FAILED
    assert summary.problems[0].code == "account_mismatch"
    with archive.catalog.read() as conn:
        assert conn.execute(select(t.Version.log_index)).all() == before


def test_token_is_sent_but_never_stored(archive: Archive, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gzip

    server, script = demo
    token = "s3cret-token-value-1234567890"
    script.instance.add_token(token, script.agency_id)
    server.require_token = True
    account = account_for(archive, server)
    summary = run_capture(archive, account, MastodonCollector(archive.settings, token=token))
    assert summary.status is RunStatus.SUCCEEDED, summary.problems
    api_requests = [r for r in server.requests if r.path.startswith("/api")]
    assert all(r.headers.get("authorization") == f"Bearer {token}" for r in api_requests)
    stored = b""
    for item in archive.store.list(""):
        data = archive.store.get_bytes(item.key)
        stored += gzip.decompress(data) if item.key.endswith(".gz") else data
    assert token.encode() not in stored
    assert b"Authorization: Bearer REDACTED" in stored
    assert b"WARC-Arsip-Redacted: header:Authorization" in stored


def test_hostile_markup_is_stored_verbatim_but_never_becomes_text(archive: Archive, demo) -> None:  # type: ignore[no-untyped-def]
    from archiver.capture.document import read_document

    server, script = demo
    account = account_for(archive, server)
    collect(archive, account)
    version = detail_of(archive, pid(script, script.hostile_comment_id)).versions[0]
    document = read_document(archive.store, version.warc_key, version.warc_offset, version.warc_length,
                             version.content_sha256)
    assert "<script>alert(1)</script>" in document["content"]["html"]  # the evidence, as received
    assert "alert" not in version.text and "nice poster" in version.text
