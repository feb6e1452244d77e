"""Legal holds reach the bucket: S3 Object Lock legal holds follow Arsip's holds (moto server mode).

moto does not enforce a legal hold against a versioned DELETE without a version id (it adds a
delete marker, as S3 does), so what is tested is the state Arsip sets and clears on each object,
and that Arsip itself refuses to destroy held records; S3's own refusal is covered by
test_s3_object_lock.py against what moto does enforce.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from archiver.accounts import add_account, new_account
from archiver.capture.service import run_capture
from archiver.clock import FixedClock, SystemClock
from archiver.db import schema as t
from archiver.model import Platform
from archiver.retention import batches
from archiver.retention.execute import execute
from archiver.retention.holds import ScopeSpec, create_hold, release_hold
from archiver.retention.object_locks import sync_object_locks
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive, init_archive, open_archive
from retention_policies.model import Action
from tests.conftest import make_settings
from tests.support.moto_s3 import create_bucket, moto_s3_server

pytestmark = pytest.mark.s3
OFFICER = "officer:alice"


@pytest.fixture
def s3_archive(tmp_path: Path) -> Iterator[Archive]:
    with moto_s3_server() as endpoint:
        home = tmp_path / "home"
        home.mkdir(mode=0o700)
        settings = make_settings(home, store_url=f"s3://{create_bucket(endpoint)}/agency", s3_endpoint_url=endpoint,
                                 s3_region="us-east-1", object_lock_mode="GOVERNANCE", object_lock_retain_days=0,
                                 records_officers=(OFFICER,))
        archive = init_archive(settings, clock=SystemClock())
        account = add_account(archive, new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                                                   url="https://social.example.gov/@cityhall", clock=archive.clock),
                              actor="test")
        # Posted long enough ago that no disposition date lies ahead of the wall clock moto judges by:
        # the objects get no retention, so the disposition below may delete them.
        plan = SyntheticPlan(versions=120, page_size=20, start=datetime(2020, 1, 1, tzinfo=UTC))
        run_capture(archive, account, SyntheticCollector(plan))
        archive.close()
        later = open_archive(settings, clock=FixedClock(SystemClock().now() + timedelta(days=5 * 365)))
        yield later
        later.close()


def held_object(archive: Archive, record_id: str) -> str:
    with archive.catalog.read() as conn:
        return str(conn.scalar(select(t.Version.warc_key).where(t.Version.record_id == record_id)))


def test_object_legal_hold_follows_holds_and_held_records_survive_disposition(s3_archive: Archive) -> None:
    with s3_archive.catalog.read() as conn:
        record_id = str(conn.scalar(select(t.Record.id).order_by(t.Record.id)))
    hold = create_hold(s3_archive, matter="M", reason="r", issuer="i", scope=ScopeSpec(records=(record_id,)),
                       actor="counsel")
    changes = sync_object_locks(s3_archive)
    assert held_object(s3_archive, record_id) in changes.locked
    assert s3_archive.store.head(held_object(s3_archive, record_id)).legal_hold  # type: ignore[union-attr]

    batch = batches.propose(s3_archive, action=Action.DESTROY, as_of=s3_archive.clock.now(), actor=OFFICER)
    batches.approve(s3_archive, batch.id, actor=OFFICER, reference=None)
    done = execute(s3_archive, batch.id, actor=OFFICER, yes=True)
    assert record_id not in done.destroyed and done.warnings == []
    moved_to = held_object(s3_archive, record_id)
    assert s3_archive.store.head(moved_to).legal_hold  # type: ignore[union-attr]  # the compacted copy is locked
    assert verify_archive(s3_archive.store, origin=s3_archive.origin, catalog=s3_archive.catalog).ok

    release_hold(s3_archive, hold.id, reason="closed", actor=OFFICER)
    assert moved_to in sync_object_locks(s3_archive).unlocked
    assert not s3_archive.store.head(moved_to).legal_hold  # type: ignore[union-attr]
