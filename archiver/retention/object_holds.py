"""Object Lock legal holds on the objects that hold records under a legal hold (S3 stores only).

The catalog decides (DESIGN.md invariant 6: holds are re-checked inside the disposition
transaction); the store's legal hold is a second lock that the bucket itself enforces, so even a
compromised server cannot delete held evidence. An object is locked when any record under an
active hold has a version in it, and unlocked when none has. Objects that capture writes after a
hold was placed are locked at the next hold change, disposition, or `arsip holds sync`.
"""

from __future__ import annotations

from dataclasses import dataclass

from archiver.db.queries import warc_object_keys
from archiver.db.retention_rows import version_refs
from archiver.retention.facts import FactsReader
from archiver.retention.holds import active_holds
from archiver.wiring import Archive
from retention_policies.holds import HoldIndex


@dataclass(frozen=True)
class LockChanges:
    locked: tuple[str, ...]
    unlocked: tuple[str, ...]


def sync_object_holds(archive: Archive) -> LockChanges:
    """Set or clear the legal hold of every WARC object so it matches the active holds."""
    store = archive.store
    if not store.supports_object_lock:
        return LockChanges((), ())
    with archive.catalog.read() as conn:
        index = HoldIndex(active_holds(archive, conn))
        held = [] if index.empty else [f.record_id for f in FactsReader(conn).all() if index.covering(f)]
        wanted = {ref.warc_key for ref in version_refs(conn, held)}
        objects = sorted(warc_object_keys(conn))
    locked: list[str] = []
    unlocked: list[str] = []
    for key in objects:
        info = store.head(key)
        if info is None or info.legal_hold == (key in wanted):
            continue
        store.set_legal_hold(key, key in wanted)
        (locked if key in wanted else unlocked).append(key)
    return LockChanges(tuple(locked), tuple(unlocked))

