"""Importing Mastodon account archives (zip and tar.gz), including broken and hostile ones."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archiver.accounts import add_account, new_account
from archiver.capture.service import RunSummary, run_capture
from archiver.clock import FixedClock
from archiver.collectors.export_archive import ExportArchiveError
from archiver.collectors.mastodon import MastodonCollector
from archiver.collectors.mastodon_api import parse_account_url
from archiver.db import schema as t
from archiver.imports import import_mastodon_archive
from archiver.model import Platform, RunStatus
from archiver.simulator.mastodon import run_mastodon
from archiver.simulator.mastodon_demo import DemoScript, scripted_demo_instance
from archiver.simulator.mastodon_export import write_account_archive
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive


def import_archive(archive: Archive, path: Path, **options: bool) -> RunSummary:
    return import_mastodon_archive(archive, path, actor="test", **options)


def count_versions(archive: Archive) -> int:
    with archive.catalog.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.Version)).scalar() or 0)


@pytest.fixture
def script(clock: FixedClock) -> DemoScript:
    return scripted_demo_instance(clock)[1]


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_archive_imports_public_statuses_with_their_media(archive: Archive, script: DemoScript, tmp_path: Path,
                                                          fmt: str) -> None:
    path = write_account_archive(script.instance, script.agency_id, tmp_path, fmt=fmt)
    summary = import_archive(archive, path)
    assert summary.status is RunStatus.SUCCEEDED, summary.problems
    own = [s for s in script.post_ids] + [script.agency_reply_id]
    assert summary.counts["new"] == len(own)
    with archive.catalog.read() as conn:
        sources = set(conn.execute(select(t.CaptureRun.source)).scalars())
        evidence = conn.execute(select(t.Version.evidence).join(t.Record, t.Record.id == t.Version.record_id)
                                .where(t.Record.platform_id == f"{script.instance.host}/{script.post_ids[0]}")).scalar()
    assert sources == {"export"}
    assert len(evidence) == 2  # the outbox item and the image file
    assert verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog).ok


def test_importing_twice_adds_nothing(archive: Archive, script: DemoScript, tmp_path: Path) -> None:
    path = write_account_archive(script.instance, script.agency_id, tmp_path, fmt="zip")
    import_archive(archive, path)
    before = count_versions(archive)
    again = import_archive(archive, path)
    assert again.counts.get("new", 0) == 0 and count_versions(archive) == before


def test_import_after_live_capture_recognises_the_same_revisions(archive: Archive, clock: FixedClock,
                                                                 tmp_path: Path) -> None:
    instance, script = scripted_demo_instance(clock)
    with run_mastodon(instance) as server:
        ref = parse_account_url(f"{server.base_url}/@cityhall")
        account = add_account(archive, new_account(Platform.MASTODON, handle=ref.handle, url=ref.url, clock=clock),
                              actor="test")
        run_capture(archive, account, MastodonCollector(archive.settings))
    before = count_versions(archive)
    summary = import_archive(archive, write_account_archive(instance, script.agency_id, tmp_path, fmt="zip"))
    assert summary.counts.get("new", 0) == 0 and summary.counts.get("edited", 0) == 0
    assert count_versions(archive) == before


def test_private_and_direct_statuses_stay_out_unless_asked(archive: Archive, script: DemoScript,
                                                           tmp_path: Path) -> None:
    instance = script.instance
    instance.post(script.agency_id, "<p>followers only</p>", visibility="private")
    instance.post(script.agency_id, "<p>a direct message</p>", visibility="direct")
    path = write_account_archive(instance, script.agency_id, tmp_path, fmt="zip")
    public = import_archive(archive, path)
    assert public.counts["skipped_not_public"] == 2


def test_traversal_entry_refuses_the_archive_and_touches_nothing(archive: Archive, tmp_path: Path) -> None:
    before = count_versions(archive)
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("outbox.json", "{}")
        zf.writestr("../../etc/cron.d/evil", "x")
    with pytest.raises(ExportArchiveError) as raised:
        import_archive(archive, path)
    assert raised.value.code == "unsafe_archive_entry" and "../../etc/cron.d/evil" in str(raised.value)
    assert count_versions(archive) == before


@pytest.mark.parametrize("sample, code", [("truncated.zip", "corrupt_archive"), ("bomb.zip", "archive_limit"),
                                          ("absolute.zip", "unsafe_archive_entry"),
                                          ("symlink.tar.gz", "unsafe_archive_entry")])
def test_broken_samples_are_refused_with_a_code(archive: Archive, sample: str, code: str) -> None:
    path = Path(__file__).parents[1] / "data" / "exports" / sample
    with pytest.raises(ExportArchiveError) as raised:
        import_archive(archive, path)
    assert raised.value.code == code
    assert count_versions(archive) == 0


def test_invalid_outbox_json_fails_the_run_but_keeps_what_was_read(archive: Archive, script: DemoScript,
                                                                   tmp_path: Path) -> None:
    good = write_account_archive(script.instance, script.agency_id, tmp_path, fmt="zip")
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("outbox.json"):
                cut = data.index(b'"type":"Create"', len(data) // 2)
                data = data[:cut]
            target.writestr(item, data)
    summary = import_archive(archive, broken)
    assert summary.status is RunStatus.FAILED
    assert "not valid JSON" in summary.problems[-1].message
    assert 0 < count_versions(archive) < len(script.post_ids) + 1
    assert verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog).ok
