"""The whole archive on S3 over HTTP (moto's server mode): capture, Object Lock, verify, rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.accounts import add_account, new_account
from archiver.capture.service import run_capture
from archiver.clock import SystemClock
from archiver.db.catalog import Catalog
from archiver.db.engine import make_engine
from archiver.model import Platform, RunStatus
from archiver.rebuild import rebuild_catalog
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.store.base import LockMode, ObjectLocked
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive, init_archive, open_archive
from tests.conftest import make_settings
from tests.support.moto_s3 import create_bucket, moto_s3_server

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_archive(tmp_path: Path) -> Iterator[Archive]:
    with moto_s3_server() as endpoint:
        bucket = create_bucket(endpoint)
        home = tmp_path / "home"
        home.mkdir(mode=0o700)
        settings = make_settings(home, store_url=f"s3://{bucket}/agency-a", s3_endpoint_url=endpoint,
                                 s3_region="us-east-1", object_lock_mode="COMPLIANCE", object_lock_retain_days=1)
        archive = init_archive(settings, clock=SystemClock())
        yield archive
        archive.close()


def test_capture_on_s3_verifies_and_rebuilds(s3_archive: Archive, tmp_path: Path) -> None:
    archive = s3_archive
    account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                               url="https://social.example.gov/@cityhall", clock=archive.clock),
                          actor="test")
    summary = run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=200)))
    assert summary.status is RunStatus.SUCCEEDED
    keys = [item.key for item in archive.store.list("")]
    assert any(k.startswith("warc/") for k in keys) and any(k.startswith("log/batches/") for k in keys)
    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    assert report.ok, [f.line() for f in report.findings]
    assert report.checked["versions"] == 200

    rebuilt = Catalog(make_engine(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"))
    assert rebuild_catalog(archive.store, rebuilt).counts["versions"] == 200
    rebuilt.engine.dispose()
    reopened = open_archive(archive.settings, clock=SystemClock())
    assert reopened.origin == archive.origin
    reopened.close()


def test_evidence_is_written_under_object_lock_and_cannot_be_deleted(s3_archive: Archive) -> None:
    archive = s3_archive
    account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                               url="https://social.example.gov/@cityhall", clock=archive.clock),
                          actor="test")
    run_capture(archive, account, SyntheticCollector(SyntheticPlan(versions=40)))
    warc = next(item.key for item in archive.store.list("warc/"))
    info = archive.store.head(warc)
    assert info is not None and info.lock_mode is LockMode.COMPLIANCE and info.retain_until is not None
    assert info.sha256 is not None
    with pytest.raises(ObjectLocked):
        archive.store.delete(warc)
