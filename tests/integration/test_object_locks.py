"""Object Lock follows the retention schedule: retain-until = the latest disposition date of an object's
records, legal holds for held records, both applied by the capture run that writes the objects.

Every test runs on the file store (the embedded default, which emulates Object Lock) and on S3 over
HTTP (moto's server mode). Expected dates are worked out here from the fixed clock and the shipped
NARA GRS rules (GRS 6.4/010: posts destroyed 3 years after posting, no cutoff; GRS 6.4/020: comments
nobody acted on, 90 days), never by asking the code under test. moto accepts shortening a COMPLIANCE
retention (test_s3_object_lock.py::test_moto_gap_compliance_retention_can_be_shortened), so "never
shortened" is about what Arsip asks for, on either store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archiver.accounts import add_account, new_account
from archiver.capture.service import RunSummary, run_capture
from archiver.cli.main import Context, build_cli
from archiver.clock import FixedClock
from archiver.db import schema as t
from archiver.model import AccountInfo, Platform, RunStatus
from archiver.retention import object_locks
from archiver.retention.holds import ScopeSpec, create_hold
from archiver.retention.object_locks import sync_object_locks
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.store.base import LockMode, ObjectInfo
from archiver.wiring import Archive, init_archive, open_archive
from retention_policies.loader import builtin_schedule_dir
from tests.conftest import make_settings
from tests.support.cli import isolate_home
from tests.support.moto_s3 import create_bucket, moto_s3_server, utc_now

MakeArchive = Callable[..., Archive]  # settings overrides -> the test archive opened with them

# Today at noon, so every date below is in the future for moto too (it judges by the wall clock).
TODAY = utc_now().date()
NOON = datetime.combine(TODAY, time(12), tzinfo=UTC)
POSTED_FROM = datetime.combine(TODAY - timedelta(days=20), time(0), tzinfo=UTC)  # 7 minutes apart: one day


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years, 29 February becoming 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def grs_day(kind: str, posted: date, *, post_years: int = 3, comment_days: int = 90) -> date:
    return add_years(posted, post_years) if kind == "post" else posted + timedelta(days=comment_days)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.s3)])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "file":
        return {}
    endpoint = request.getfixturevalue("s3_endpoint")
    return {"store_url": f"s3://{create_bucket(endpoint)}/agency", "s3_endpoint_url": endpoint,
            "s3_region": "us-east-1"}


@pytest.fixture
def make_archive(tmp_path: Path, store_settings: dict[str, Any]) -> Iterator[MakeArchive]:
    """Open (the first time: create) the test archive with the given settings; all are closed after."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    opened: list[Archive] = []

    def make(**settings: Any) -> Archive:
        full = make_settings(home, **store_settings, **settings)
        archive = open_archive(full, clock=FixedClock(NOON)) if opened else init_archive(full, clock=FixedClock(NOON))
        opened.append(archive)
        return archive

    yield make
    for archive in opened:
        archive.close()


def capture(archive: Archive, *, tags: tuple[str, ...] = (), hold: bool = False) -> tuple[AccountInfo, RunSummary]:
    account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                               url="https://social.example.gov/@cityhall", clock=archive.clock,
                                               tags=tags), actor="test")
    if hold:
        create_hold(archive, matter="Doe v. City", reason="litigation", issuer="counsel",
                    scope=ScopeSpec(accounts=(account.id,)), actor="counsel")
    summary = run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=120, page_size=20,
                                                                             start=POSTED_FROM)))
    assert summary.status is RunStatus.SUCCEEDED and summary.lock_problem is None, summary
    return account, summary


def objects(archive: Archive) -> dict[str, ObjectInfo]:
    with archive.catalog.read() as conn:
        keys = sorted(conn.scalars(select(t.WarcObject.key)))
    assert keys
    found = {key: archive.store.head(key) for key in keys}
    return {key: info for key, info in found.items() if info is not None}


def expected_until(archive: Archive, key: str, **periods: int) -> datetime | None:
    """00:00 UTC of the latest GRS disposition day of the records with a version in the object."""
    with archive.catalog.read() as conn:
        rows = conn.execute(select(t.Record.kind, t.Record.posted_at, t.Record.first_seen_at)
                            .join(t.Version, t.Version.record_id == t.Record.id)
                            .where(t.Version.warc_key == key)).all()
    days = [grs_day(kind, (posted or seen).astimezone(UTC).date(), **periods) for kind, posted, seen in rows]
    return datetime.combine(max(days), time(0), tzinfo=UTC) if days else None


def schedules_with(tmp_path: Path, name: str, *, posts: str, comments: str) -> str:
    """The shipped NARA GRS set with other periods for GRS 6.4/010 (posts) and 6.4/020 (comments)."""
    text = (builtin_schedule_dir() / "nara-grs.toml").read_text(encoding="utf-8")
    assert text.count('retention = "P3Y"') == 1 and text.count('retention = "P90D"') == 1
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace('retention = "P3Y"', f'retention = "{posts}"')
                    .replace('retention = "P90D"', f'retention = "{comments}"'), encoding="utf-8")
    return str(path)


def test_captured_objects_are_retained_until_their_records_latest_disposition_date(make_archive: MakeArchive) -> None:
    archive = make_archive(object_lock_mode="COMPLIANCE")
    capture(archive)
    found = objects(archive)
    expected = {key: expected_until(archive, key) for key in found}
    # Both GRS 6.4 items are exercised: the posts' objects and the comments' objects.
    assert set(expected.values()) == {datetime.combine(d, time(0), tzinfo=UTC) for d in
                                      (add_years(POSTED_FROM.date(), 3), POSTED_FROM.date() + timedelta(days=90))}
    for key, info in found.items():
        assert (info.retain_until, info.lock_mode, info.legal_hold) == (expected[key], LockMode.COMPLIANCE, False), key
    assert sync_object_locks(archive).extended == ()  # the run already did it all


def test_retain_until_is_extended_when_dates_move_later_and_never_shortened(make_archive: MakeArchive,
                                                                             tmp_path: Path) -> None:
    capture(make_archive(object_lock_mode="COMPLIANCE"))
    shorter = make_archive(object_lock_mode="COMPLIANCE",
                           retention_schedules=(schedules_with(tmp_path, "shorter", posts="P1Y", comments="P30D"),))
    before = objects(shorter)
    changes = sync_object_locks(shorter)
    assert (changes.extended, changes.undated) == ((), ())
    assert {k: i.retain_until for k, i in objects(shorter).items()} == {k: i.retain_until for k, i in before.items()}

    longer = make_archive(object_lock_mode="COMPLIANCE",
                          retention_schedules=(schedules_with(tmp_path, "longer", posts="P5Y", comments="P90D"),))
    changes = sync_object_locks(longer)
    moved = {key for key in before if expected_until(longer, key, post_years=5) != before[key].retain_until}
    assert moved and set(changes.extended) == moved  # the posts' objects; the comments' dates did not move
    for key, info in objects(longer).items():
        assert info.retain_until == expected_until(longer, key, post_years=5), key


def test_objects_captured_under_a_hold_get_their_legal_hold_in_the_same_run(make_archive: MakeArchive) -> None:
    archive = make_archive(object_lock_mode="GOVERNANCE")
    capture(archive, hold=True)
    found = objects(archive)
    assert all(info.legal_hold for info in found.values())
    assert all(info.retain_until == expected_until(archive, key) for key, info in found.items())


def test_with_object_lock_mode_none_no_retention_is_set(make_archive: MakeArchive) -> None:
    archive = make_archive(object_lock_mode="none")
    capture(archive)
    for key, info in objects(archive).items():
        assert (info.retain_until, info.lock_mode, info.legal_hold) == (None, None, False), key
    changes = sync_object_locks(archive)
    assert (changes.locked, changes.unlocked, changes.extended, changes.undated) == ((), (), (), ())


def test_records_without_a_disposition_date_leave_retain_until_as_written(make_archive: MakeArchive) -> None:
    # Transitory accounts fall under GRS 5.2/010: nothing is dated until `no_longer_needed` is recorded.
    archive = make_archive(object_lock_mode="COMPLIANCE", object_lock_retain_days=1)
    capture(archive, tags=("transitory",))
    found = objects(archive)
    assert all(info.retain_until == NOON + timedelta(days=1) for info in found.values())  # the minimum
    changes = sync_object_locks(archive)
    assert changes.extended == () and set(changes.undated) == set(found)


def test_a_lock_failure_is_reported_with_the_run_and_the_capture_kept(make_archive: MakeArchive,
                                                                      tmp_path: Path) -> None:
    archive = make_archive(object_lock_mode="COMPLIANCE", retention_schedules=(str(tmp_path / "missing.toml"),))
    account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                               url="https://social.example.gov/@cityhall", clock=archive.clock),
                          actor="test")
    summary = run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=40, start=POSTED_FROM)))
    assert summary.status is RunStatus.SUCCEEDED and summary.counts["versions"] == 40
    assert summary.lock_problem is not None and "arsip holds sync" in summary.lock_problem
    assert "missing.toml" in summary.lock_problem
    assert all(info.retain_until is None for info in objects(archive).values())
    with archive.catalog.read() as conn:
        details = conn.scalars(select(t.AuditEvent.details).where(t.AuditEvent.action == "capture")).one()
    assert details["locks"]["failed"] == len(objects(archive)) and "missing.toml" in details["locks"]["problem"]


def test_every_object_is_locked_on_either_catalog_database(tmp_path: Path, database_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks, so records are streamed across several reads, each followed by other queries.
    monkeypatch.setattr(object_locks, "CHUNK", 7)
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    archive = init_archive(make_settings(home, database_url=database_url), clock=FixedClock(NOON))
    capture(archive)  # retention off: nothing locked yet
    archive.close()
    archive = open_archive(make_settings(home, database_url=database_url, object_lock_mode="COMPLIANCE"),
                           clock=FixedClock(NOON))
    changes = sync_object_locks(archive)
    found = objects(archive)
    assert set(changes.extended) == set(found) and changes.undated == ()
    assert all(info.retain_until == expected_until(archive, key) for key, info in found.items())
    archive.close()


def test_cli_holds_sync_locks_what_was_captured_before_retention_was_turned_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = isolate_home(tmp_path, monkeypatch)
    monkeypatch.setenv("ARSIP_LOG_ORIGIN", "test.example/arsip")
    home.mkdir(mode=0o700)
    archive = init_archive(make_settings(home), clock=FixedClock(NOON))
    capture(archive)
    archive.close()
    monkeypatch.setenv("ARSIP_OBJECT_LOCK_MODE", "GOVERNANCE")
    runner = CliRunner()
    first = runner.invoke(build_cli(), ["holds", "sync"], obj=Context(clock=FixedClock(NOON), actor="cli:officer"),
                          catch_exceptions=False)
    assert first.exit_code == 0, first.output
    archive = open_archive(make_settings(home, object_lock_mode="GOVERNANCE"), clock=FixedClock(NOON))
    found = objects(archive)
    assert f"{len(found)} retentions extended" in first.output
    assert all(info.retain_until == expected_until(archive, key) for key, info in found.items())
    with archive.catalog.read() as conn:
        details = conn.scalars(select(t.AuditEvent.details).where(t.AuditEvent.action == "hold.object_locks")).one()
    archive.close()
    assert details["extended"] == len(found)
    again = runner.invoke(build_cli(), ["holds", "sync"], obj=Context(clock=FixedClock(NOON), actor="cli:officer"),
                          catch_exceptions=False)
    assert "0 retentions extended" in again.output
