"""Transfer and accession end to end: package, receipt, local disposal, certificate, rebuild.

The package is re-read by independent readers (bagit, warcio); the archive is re-verified after the
records left it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import bagit
import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archiver.clock import FixedClock
from archiver.db import schema as t
from archiver.db.catalog import Catalog
from archiver.db.engine import make_engine
from archiver.errors import ArchiverError
from archiver.rebuild import rebuild_catalog
from archiver.retention import batches
from archiver.retention.execute import confirm_receipt, execute, load_batch
from archiver.retention.holds import ScopeSpec, create_hold
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive
from retention_policies.model import Action
from tests.integration.test_rebuild import dump
from tests.support.demo_archive import captured_demo

OFFICER = "officer:alice"
PERMANENT = Path(__file__).parent.parent / "data" / "schedules" / "permanent.toml"


@pytest.fixture
def archive(tmp_path: Path, clock: FixedClock) -> Iterator[Archive]:
    opened = captured_demo(tmp_path, clock, records_officers=(OFFICER,), retention_schedules=(str(PERMANENT),),
                           agency="City of Example")
    clock.advance(int(timedelta(days=2 * 365).total_seconds()))  # past the test schedule's one year
    yield opened
    opened.close()


def record_ids(archive: Archive) -> list[str]:
    with archive.catalog.read() as conn:
        return sorted(conn.scalars(select(t.Record.id)))


def tombstones(archive: Archive) -> dict[str, str]:
    with archive.catalog.read() as conn:
        return dict(conn.execute(select(t.Tombstone.record_id, t.Tombstone.action)).all())


def approved_accession(archive: Archive) -> str:
    batch = batches.propose(archive, action=Action.ACCESSION, as_of=archive.clock.now(), actor=OFFICER)
    return batches.approve(archive, batch.id, actor=OFFICER, reference=None).id


def test_accession_packages_then_disposes_only_after_the_receipt(archive: Archive, tmp_path: Path) -> None:
    everything = record_ids(archive)
    kept = everything[0]
    create_hold(archive, matter="Doe v. City", reason="litigation", issuer="counsel",
                scope=ScopeSpec(records=(kept,)), actor="counsel")
    batch_id = approved_accession(archive)

    dry = execute(archive, batch_id, actor=OFFICER, yes=False, out=tmp_path / "out")
    assert dry.dry_run and not (tmp_path / "out").exists()
    packaged = execute(archive, batch_id, actor=OFFICER, yes=True, out=tmp_path / "out")
    assert packaged.package == str(tmp_path / "out" / batch_id)
    assert set(packaged.destroyed) == set(everything) - {kept}

    bag = bagit.Bag(packaged.package)
    bag.validate()  # independent reader: every checksum, Payload-Oxum, the tag manifests
    assert bag.info["External-Identifier"] == batch_id and bag.info["Source-Organization"] == "City of Example"
    warcs = sorted(Path(packaged.package, "data", "warc").iterdir())
    with open(warcs[0], "rb") as handle:
        versions = {r.rec_headers.protocol for r in ArchiveIterator(handle)}
    assert versions == {"WARC/1.0"}
    with open(Path(packaged.package, "data", "metadata.csv"), encoding="utf-8", newline="") as handle:
        listed = {row["Record ID"] for row in csv.DictReader(handle, delimiter="|")}
    assert set(packaged.destroyed) <= listed and kept not in listed

    # Nothing has left the archive yet, and the batch waits for its receipt.
    assert tombstones(archive) == {} and verify_archive(archive.store, origin=archive.origin).ok
    with pytest.raises(ArchiverError, match="once the receiving archive confirms it"):
        execute(archive, batch_id, actor=OFFICER, yes=True)
    assert archive.store.get_bytes(f"disposition/{batch_id}/transfer/manifest-sha256.txt") == \
        Path(packaged.package, "manifest-sha256.txt").read_bytes()

    manifest = Path(packaged.package, "manifest-sha256.txt").read_bytes()
    altered = manifest.replace(b"data/metadata.csv", b"data/metadata.CSV")
    with pytest.raises(ArchiverError, match="differs from the one sent"):
        confirm_receipt(archive, batch_id, actor=OFFICER, reference="NARA AN-2031-0001",
                        returned_manifest=altered, yes=True)
    assert tombstones(archive) == {}

    reordered = b"\r\n".join(reversed(manifest.splitlines()))  # order and line endings do not matter
    done = confirm_receipt(archive, batch_id, actor=OFFICER, reference="NARA AN-2031-0001",
                           returned_manifest=reordered, yes=True)
    assert tombstones(archive) == {r: "accession" for r in packaged.destroyed}
    certificate = json.loads(archive.store.get_bytes(done.certificate_key or ""))["certificate"]
    assert certificate["action"] == "accession"
    assert certificate["transfer"]["receipt"]["reference"] == "NARA AN-2031-0001"
    assert certificate["transfer"]["package"]["payload_oxum"] == bag.info["Payload-Oxum"]
    report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    assert report.ok, report.findings

    rebuilt = Catalog(make_engine(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"))
    rebuild_catalog(archive.store, rebuilt)
    original, again = dump(archive.catalog.engine), dump(rebuilt.engine)
    for table in ("tombstones", "disposition_batches", "disposition_items", "versions", "warc_objects"):
        assert again[table] == original[table], table


def test_a_hold_placed_after_packaging_keeps_the_record_here(archive: Archive, tmp_path: Path) -> None:
    batch_id = approved_accession(archive)
    packaged = execute(archive, batch_id, actor=OFFICER, yes=True, out=tmp_path)
    late = packaged.destroyed[0]
    create_hold(archive, matter="FOIA 2031-4", reason="pending request", issuer="FOIA office",
                scope=ScopeSpec(records=(late,)), actor="foia")
    dry = confirm_receipt(archive, batch_id, actor=OFFICER, reference="R-1", returned_manifest=None, yes=False)
    assert dry.dry_run and late in dry.skipped and tombstones(archive) == {}
    done = confirm_receipt(archive, batch_id, actor=OFFICER, reference="R-1", returned_manifest=None, yes=True)
    assert late not in tombstones(archive) and done.skipped[late].startswith("under hold")
    assert set(tombstones(archive)) == set(packaged.destroyed) - {late}
    assert any("tell the receiving archive" in w for w in done.warnings)


def test_receipt_needs_a_reference_an_officer_and_a_written_package(archive: Archive, tmp_path: Path) -> None:
    batch_id = approved_accession(archive)
    with pytest.raises(ArchiverError, match="only a transfer whose package was written"):
        confirm_receipt(archive, batch_id, actor=OFFICER, reference="R-1", returned_manifest=None, yes=True)
    execute(archive, batch_id, actor=OFFICER, yes=True, out=tmp_path)
    with pytest.raises(ArchiverError, match="receipt reference"):
        confirm_receipt(archive, batch_id, actor=OFFICER, reference="  ", returned_manifest=None, yes=True)
    with pytest.raises(ArchiverError, match="only records officers"):
        confirm_receipt(archive, batch_id, actor="clerk", reference="R-1", returned_manifest=None, yes=True)
    with pytest.raises(ArchiverError, match="not UTF-8"):
        confirm_receipt(archive, batch_id, actor=OFFICER, reference="R-1", returned_manifest=b"\xff\xfe", yes=True)
    assert tombstones(archive) == {}
    assert batches.cancel(archive, batch_id, actor=OFFICER, reason="the archives refused it").status == "cancelled"


def test_an_existing_package_directory_is_never_overwritten(archive: Archive, tmp_path: Path) -> None:
    batch_id = approved_accession(archive)
    (tmp_path / batch_id).mkdir()
    (tmp_path / batch_id / "precious.txt").write_text("keep me")
    with pytest.raises(ArchiverError, match="already exists"):
        execute(archive, batch_id, actor=OFFICER, yes=True, out=tmp_path)
    assert (tmp_path / batch_id / "precious.txt").read_text() == "keep me"
    assert load_batch(archive, batch_id).status == "approved"
