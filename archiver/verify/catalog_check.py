"""Cross-check the catalog against what the store proved: the catalog is derived, never trusted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, select

from archiver.db import schema as t
from archiver.verify.findings import Report

CHUNK = 5000


@dataclass(frozen=True)
class StoredVersion:
    """What the store says a catalog version row must contain."""

    record_id: str
    number: int
    state: str
    content_sha256: str
    text: str


def check_rows(engine: Engine, expected: Mapping[int, StoredVersion], report: Report) -> None:
    """Compare one batch's catalog rows with the signed envelopes and stored documents, so an edit
    made directly in the database (say, to a post's text) is found and named."""
    if not expected:
        return
    with engine.connect() as conn:
        query = (select(t.Version.log_index, t.Version.record_id, t.Version.number, t.Version.state,
                        t.Version.content_sha256, t.Version.text)
                 .where(t.Version.log_index.between(min(expected), max(expected))))
        found = {row.log_index: row for row in conn.execute(query)}
    for index, stored in expected.items():
        row = found.get(index)
        subject = f"record {stored.record_id} version {stored.number} (log entry {index})"
        if row is None:
            report.error("catalog_diverges", subject, "missing from the catalog; run `arsip rebuild`")
        elif (row.record_id, row.number, row.state, row.content_sha256) != (
                stored.record_id, stored.number, stored.state, stored.content_sha256):
            report.error("catalog_altered", subject, "the catalog row differs from the signed envelope; "
                         "run `arsip rebuild`")
        elif row.text != stored.text:
            report.error("catalog_altered", subject, "the catalog's text differs from the stored document; the "
                         "signed original is intact in the store, run `arsip rebuild`")
        report.checked["catalog_rows"] += 1


def check_log(engine: Engine, leaves: bytes, listed_objects: set[str], report: Report) -> None:
    """Every catalog leaf must equal the store's, and both must list the same WARC objects."""
    store_size = len(leaves) // 32
    with engine.connect() as conn:
        catalog_size = 0
        query = select(t.LogLeaf.index, t.LogLeaf.sha256).order_by(t.LogLeaf.index).execution_options(
            yield_per=CHUNK)
        for index, sha256 in conn.execute(query):
            catalog_size += 1
            if index >= store_size or leaves[index * 32:(index + 1) * 32].hex() != sha256:
                report.error("catalog_diverges", f"catalog log entry {index}",
                             "differs from the store's log; run `arsip rebuild`")
        catalog_objects = set(conn.execute(select(t.WarcObject.key)).scalars())
    if catalog_size != store_size:
        report.error("catalog_diverges", "catalog", f"holds {catalog_size} log entries, the store {store_size}")
    for key in sorted(catalog_objects - listed_objects):
        report.error("catalog_diverges", key, "the catalog lists this WARC object but no batch in the store does")
