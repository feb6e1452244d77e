"""Cross-check the catalog against what the store proved: the catalog is derived, never trusted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from archiver.db.catalog import Catalog
from archiver.db.queries import iter_leaves, version_rows_between, warc_object_keys
from archiver.verify.findings import Report


@dataclass(frozen=True)
class StoredVersion:
    """What the store says a catalog version row must contain."""

    record_id: str
    number: int
    state: str
    content_sha256: str
    text: str


def check_rows(catalog: Catalog, expected: Mapping[int, StoredVersion], report: Report) -> None:
    """Compare one batch's catalog rows with the signed envelopes and stored documents, so an edit
    made directly in the database (say, to a post's text) is found and named."""
    if not expected:
        return
    with catalog.read() as conn:
        found = version_rows_between(conn, min(expected), max(expected))
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


def check_log(catalog: Catalog, leaves: bytes, listed_objects: set[str], report: Report) -> None:
    """Every catalog leaf must equal the store's, and both must list the same WARC objects."""
    store_size = len(leaves) // 32
    with catalog.read() as conn:
        catalog_size = 0
        for index, sha256 in iter_leaves(conn):
            catalog_size += 1
            if index >= store_size or leaves[index * 32:(index + 1) * 32].hex() != sha256:
                report.error("catalog_diverges", f"catalog log entry {index}",
                             "differs from the store's log; run `arsip rebuild`")
        catalog_objects = warc_object_keys(conn)
    if catalog_size != store_size:
        report.error("catalog_diverges", "catalog", f"holds {catalog_size} log entries, the store {store_size}")
    for key in sorted(catalog_objects - listed_objects):
        report.error("catalog_diverges", key, "the catalog lists this WARC object but no batch in the store does")
