"""`arsip rebuild`: a catalog rebuilt from the object store alone equals the original (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine, select

from archiver.accounts import add_account, new_account
from archiver.audit import seal
from archiver.capture.service import run_capture
from archiver.clock import FixedClock
from archiver.collectors.mastodon import MastodonCollector
from archiver.collectors.mastodon_api import parse_account_url
from archiver.db import schema as t
from archiver.db.catalog import Catalog
from archiver.db.engine import make_engine
from archiver.errors import CatalogError, IntegrityError
from archiver.imports import import_mastodon_archive
from archiver.model import Platform
from archiver.rebuild import rebuild_catalog
from archiver.simulator.mastodon import Fault, run_mastodon
from archiver.simulator.mastodon_demo import scripted_demo_instance
from archiver.simulator.mastodon_export import write_account_archive
from archiver.wiring import Archive
from tests.support.postgres import fresh_database

# Columns that are not content: surrogate keys the database assigns.
IGNORED = {"run_problems": {"id"}}


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in t.Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in IGNORED.get(table.name, set())]
            rows = conn.execute(select(*columns)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def populate(archive: Archive, clock: FixedClock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    instance, script = scripted_demo_instance(clock)
    with run_mastodon(instance) as server:
        ref = parse_account_url(f"{server.base_url}/@cityhall")
        account = add_account(archive, new_account(Platform.MASTODON, handle=ref.handle, url=ref.url, clock=clock,
                                                   tags=("demo",)), actor="test")
        run_capture(archive, account, MastodonCollector(archive.settings))
        clock.advance(3600)
        script.advance()
        with archive.catalog.read() as conn:
            account = archive.catalog.find_account(conn, account.id)
        run_capture(archive, account, MastodonCollector(archive.settings))
        server.faults.inject(Fault.json_error(503, "x"), times=50, path_prefix="/api/v1/accounts/lookup")
        failed = run_capture(archive, account, MastodonCollector(archive.settings))
        assert failed.problems
    import_mastodon_archive(archive, write_account_archive(instance, script.agency_id, tmp_path, fmt="tar.gz"),
                            actor="test", account=account)
    seal(archive)


def test_rebuilt_catalog_equals_the_original(any_archive: Archive, clock: FixedClock, tmp_path,  # type: ignore[no-untyped-def]
                                             database_url: str) -> None:
    archive = any_archive
    populate(archive, clock, tmp_path)
    original = dump(archive.catalog.engine)
    assert len(original["versions"]) > 30 and original["run_problems"] and original["audit_events"]

    if database_url.startswith("sqlite"):
        target_url = f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"
    else:
        target_url = fresh_database(database_url, f"r_{uuid4().hex[:12]}")
    rebuilt = Catalog(make_engine(target_url))
    rebuild_catalog(archive.store, rebuilt)
    assert dump(rebuilt.engine) == original
    rebuilt.engine.dispose()


def test_rebuild_refuses_a_catalog_that_is_not_empty(archive: Archive) -> None:
    with pytest.raises(CatalogError, match="empty catalog"):
        rebuild_catalog(archive.store, archive.catalog)


def test_rebuild_refuses_to_adopt_a_tampered_store(archive: Archive, clock: FixedClock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    populate(archive, clock, tmp_path)
    batch = next(iter(archive.store.list("log/batches/"))).key
    body = archive.store.get_bytes(batch).replace(b'"state":"present"', b'"state":"deleted"', 1)
    path = archive.settings.home / "objects" / batch
    path.write_bytes(body)
    with pytest.raises(IntegrityError) as raised:
        rebuild_catalog(archive.store, Catalog(make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")))
    assert raised.value.code == "envelope_hash" and batch in str(raised.value)
