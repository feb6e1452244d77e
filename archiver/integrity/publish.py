"""Publish what verifiers need into the object store: public keys, signed checkpoints and time-stamps."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.db.catalog import (
    Catalog,
    CheckpointRow,
    DuplicateRow,
    latest_checkpoint,
    save_checkpoint,
    save_signing_key,
)
from archiver.errors import ArchiverError
from archiver.integrity.checkpoint import Checkpoint, sign_checkpoint
from archiver.integrity.keys import KeyRing, PublicKeyInfo
from archiver.integrity.merkle import MerkleFrontier
from archiver.store.base import BlobStore, ObjectExists

if TYPE_CHECKING:
    from archiver.wiring import Archive

KEYS_PREFIX = "keys/"
CHECKPOINT_PREFIX = "log/checkpoints/"


def checkpoint_key(size: int) -> str:
    return f"{CHECKPOINT_PREFIX}{size:012d}.note"


def timestamp_key(size: int) -> str:
    return f"{CHECKPOINT_PREFIX}{size:012d}.tsr"


def publish_public_keys(store: BlobStore, catalog: Catalog, keyring: KeyRing) -> list[PublicKeyInfo]:
    """Write every public key (active and retired) to ``keys/<id>.json`` and the catalog."""
    infos = keyring.list()
    for info in infos:
        store.put_bytes(f"{KEYS_PREFIX}{info.key_id}.json", json.dumps(info.to_json(), indent=2).encode(),
                        content_type="application/json")
    with catalog.begin() as conn:
        for info in infos:
            save_signing_key(conn, info.key_id, info.to_json()["public_key"], str(info.status),
                             info.created_at, info.retired_at)
    return infos


def load_public_keys(store: BlobStore) -> dict[str, PublicKeyInfo]:
    """Every public key published in the store, by key id (what an offline verifier trusts)."""
    keys = {}
    for item in store.list(KEYS_PREFIX):
        info = PublicKeyInfo.from_json(json.loads(store.get_bytes(item.key)))
        keys[info.key_id] = info
    return keys


@dataclass(frozen=True)
class PublishedCheckpoint:
    row: CheckpointRow
    note: str
    timestamp_problem: str | None


def write_checkpoint(archive: Archive) -> PublishedCheckpoint | None:
    """Sign the log's current head as a C2SP checkpoint; time-stamp it when a TSA is configured.

    Returns None when the latest checkpoint already covers the current size. A failing time-stamp
    authority does not fail the checkpoint: the note is kept and the problem reported, because an
    unstamped signed checkpoint is still evidence and the next run stamps its own.
    """
    with archive.catalog.begin() as conn:
        head = archive.catalog.log_head(conn)
        latest = latest_checkpoint(conn)
    assert head is not None
    if head.size == 0 or (latest is not None and latest.size >= head.size):
        return None
    root = MerkleFrontier.from_json(head.frontier).root()
    note = sign_checkpoint(Checkpoint(origin=head.origin, size=head.size, root_hash=root),
                           head.origin, archive.signer())
    key = checkpoint_key(head.size)
    # Another process may have checkpointed the same size first; the log is the same, keep theirs.
    with contextlib.suppress(ObjectExists):
        archive.store.put_bytes(key, note.encode(), content_type="text/plain; charset=utf-8", if_absent=True)
    stamp_key, problem = _timestamp(archive, head.size, note.encode())
    row = CheckpointRow(size=head.size, root_hash=root.hex(), key=key, timestamp_key=stamp_key)
    # The same race in the catalog: save_checkpoint's look-then-insert can lose to a concurrent insert
    # of this size. The log is the same, so the row already there is this checkpoint.
    with contextlib.suppress(DuplicateRow), archive.catalog.begin() as conn:
        save_checkpoint(conn, row)
    return PublishedCheckpoint(row=row, note=note, timestamp_problem=problem)


def _timestamp(archive: Archive, size: int, note: bytes) -> tuple[str | None, str | None]:
    settings = archive.settings
    if not settings.tsa_url or not settings.tsa_roots:
        return None, None
    # Imported here so archives without a time-stamp authority never load the RFC 3161 extension.
    from archiver.integrity.timestamp import load_roots
    from archiver.integrity.tsa_client import TimestampClient

    roots = load_roots(Path(settings.tsa_roots))
    try:
        token = TimestampClient(settings.tsa_url, roots=roots, timeout=settings.http_timeout).stamp(note)
    except ArchiverError as exc:
        return None, str(exc)
    key = timestamp_key(size)
    with contextlib.suppress(ObjectExists):
        archive.store.put_bytes(key, token.der, content_type="application/timestamp-reply", if_absent=True)
    return key, None
