"""Holds and disposition end to end on a real archive: file store, SQLite, tantivy index, WARC files."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from archiver.clock import FixedClock
from archiver.db import schema as t
from archiver.db.catalog import Catalog
from archiver.db.engine import make_engine
from archiver.errors import ArchiverError
from archiver.rebuild import rebuild_catalog
from archiver.retention import batches
from archiver.retention.certificate import check_signed, load_ledger
from archiver.retention.execute import execute
from archiver.retention.holds import ScopeSpec, create_hold, release_hold
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive
from retention_policies.model import Action
from search.hooks import matching_records
from tests.conftest import make_settings
from tests.integration.test_rebuild import dump
from tests.support.demo_archive import captured_demo

OFFICER, SECOND = "officer:alice", "officer:bob"


@pytest.fixture
def archive(tmp_path: Path, clock: FixedClock) -> Iterator[Archive]:
    opened = captured_demo(tmp_path, clock, records_officers=(OFFICER, SECOND))
    clock.advance(int(timedelta(days=5 * 365).total_seconds()))  # everything is past GRS 6.4's 3 years
    yield opened
    opened.close()


def record_ids(archive: Archive) -> list[str]:
    with archive.catalog.read() as conn:
        return sorted(conn.scalars(select(t.Record.id)))


def approved_batch(archive: Archive) -> str:
    batch = batches.propose(archive, action=Action.DESTROY, as_of=archive.clock.now(), actor=OFFICER)
    return batches.approve(archive, batch.id, actor=OFFICER, reference=None).id


def test_disposition_destroys_all_but_held_records_and_the_archive_still_verifies(archive: Archive,
                                                                                    tmp_path: Path) -> None:
    everything = record_ids(archive)
    kept = everything[0]
    create_hold(archive, matter="Doe v. City", reason="litigation", issuer="counsel",
                       scope=ScopeSpec(records=(kept,)), actor="counsel")
    batch_id = approved_batch(archive)

    dry = execute(archive, batch_id, actor=OFFICER, yes=False)
    assert dry.dry_run and kept not in dry.destroyed and len(dry.destroyed) == len(everything) - 1
    assert verify_archive(archive.store, origin=archive.origin).ok  # a dry run changes nothing

    done = execute(archive, batch_id, actor=OFFICER, yes=True)
    assert set(done.destroyed) == set(everything) - {kept}
    assert done.objects_deleted  # whole objects went, and the one holding the held record was rewritten
    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    assert report.ok, report.findings
    assert report.checked["destroyed_versions"] >= len(done.destroyed)

    with archive.catalog.read() as conn:
        tombstoned = set(conn.scalars(select(t.Tombstone.record_id)))
        texts = {r[0]: r[1] for r in conn.execute(select(t.Version.record_id, t.Version.text))}
    assert tombstoned == set(done.destroyed)
    assert all(texts[r] == "" for r in done.destroyed) and texts[kept] != ""
    assert done.skipped == {}  # the held record was never proposed


def test_destroyed_content_is_gone_from_store_and_index(archive: Archive) -> None:
    word = "budget"
    before = matching_records(archive, word)
    assert before, "the demo archive mentions the budget"
    execute(archive, approved_batch(archive), actor=OFFICER, yes=True)
    assert matching_records(archive, word) == set()
    left = [i.key for i in archive.store.list("warc/")]
    assert all("/capture-log/" in key for key in left), "only the runs' own operational evidence remains"


def test_a_hold_placed_after_approval_is_honoured_at_execution(archive: Archive) -> None:
    batch_id = approved_batch(archive)
    late = record_ids(archive)[-1]
    create_hold(archive, matter="FOIA 2029-17", reason="pending request", issuer="FOIA office",
                scope=ScopeSpec(records=(late,)), actor="foia")
    done = execute(archive, batch_id, actor=OFFICER, yes=True)
    assert late not in done.destroyed and done.skipped[late].startswith("under hold")


def test_query_scoped_hold_covers_matching_records(archive: Archive) -> None:
    matched = matching_records(archive, "budget")
    create_hold(archive, matter="Budget audit", reason="audit", issuer="inspector general",
                scope=ScopeSpec(query="budget"), actor="ig")
    done = execute(archive, approved_batch(archive), actor=OFFICER, yes=True)
    assert matched and not matched & set(done.destroyed)


def test_released_hold_makes_records_due_again_only_when_the_last_hold_goes(archive: Archive) -> None:
    target = record_ids(archive)[0]
    first = create_hold(archive, matter="A", reason="r", issuer="i", scope=ScopeSpec(records=(target,)), actor="x")
    second = create_hold(archive, matter="B", reason="r", issuer="i", scope=ScopeSpec(records=(target,)), actor="x")
    release_hold(archive, first.id, reason="matter closed", actor=OFFICER)
    batch = batches.propose(archive, action=Action.DESTROY, as_of=archive.clock.now(), actor=OFFICER)
    assert target not in {i.record_id for i in batches.items_of(archive, batch.id)}
    release_hold(archive, second.id, reason="matter closed", actor=OFFICER)
    batch = batches.propose(archive, action=Action.DESTROY, as_of=archive.clock.now(), actor=OFFICER)
    assert target in {i.record_id for i in batches.items_of(archive, batch.id)}


def test_only_records_officers_approve_and_two_approvals_need_two_people(tmp_path: Path,
                                                                          archive: Archive) -> None:
    batch = batches.propose(archive, action=Action.DESTROY, as_of=archive.clock.now(), actor="clerk")
    with pytest.raises(ArchiverError, match="only records officers"):
        batches.approve(archive, batch.id, actor="clerk", reference=None)
    with pytest.raises(ArchiverError, match="approvals first"):
        execute(archive, batch.id, actor=OFFICER, yes=True)
    strict = Archive(**{**archive.__dict__, "settings": make_settings(archive.settings.home,
                                                                      records_officers=(OFFICER, SECOND),
                                                                      disposition_approvers=2)})
    batches.approve(strict, batch.id, actor=OFFICER, reference=None)
    with pytest.raises(ArchiverError, match="already approved"):
        batches.approve(strict, batch.id, actor=OFFICER, reference=None)
    assert batches.approve(strict, batch.id, actor=SECOND, reference=None).status == "approved"


def test_rebuild_after_disposition_recreates_tombstones_holds_and_batches(archive: Archive, tmp_path: Path) -> None:
    kept = record_ids(archive)[0]
    create_hold(archive, matter="M", reason="r", issuer="i", scope=ScopeSpec(records=(kept,)), actor="x")
    execute(archive, approved_batch(archive), actor=OFFICER, yes=True)
    rebuilt = Catalog(make_engine(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"))
    rebuild_catalog(archive.store, rebuilt)
    original, again = dump(archive.catalog.engine), dump(rebuilt.engine)
    for table in ("tombstones", "holds", "versions", "records", "warc_objects", "disposition_batches",
                  "disposition_items"):
        assert again[table] == original[table], table
    assert verify_archive(archive.store, origin=archive.origin, catalog=rebuilt).ok


def test_certificate_is_signed_and_a_tampered_list_is_reported(archive: Archive) -> None:
    done = execute(archive, approved_batch(archive), actor=OFFICER, yes=True)
    assert done.certificate_key is not None
    signed = json.loads(archive.store.get_bytes(done.certificate_key))
    keys = {k.key_id: k for k in archive.keyring.list()}
    assert check_signed(signed, keys) is None
    pdf = PdfReader(io.BytesIO(archive.store.get_bytes(done.certificate_key.replace(".json", ".pdf"))))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Certificate of Destruction" in text and signed["certificate"]["batch_id"] in text
    listed = signed["certificate"]["list"]["key"]
    archive.store.put_bytes(listed, archive.store.get_bytes(listed).replace(b'"kind"', b'"KIND"'))
    problems: list[str] = []
    load_ledger(archive.store, keys, lambda code, subject, message: problems.append(code))
    assert problems == ["bad_certificate"]
    assert not verify_archive(archive.store, origin=archive.origin).ok  # missing objects are no longer excused
