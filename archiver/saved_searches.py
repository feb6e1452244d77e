"""Saved searches as archive configuration: a catalog row plus every revision in the object store.

The core keeps only the definition (name, owner, query text) so `arsip rebuild` restores it; the
search package parses and runs it. Removing a saved search writes a final revision marked removed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, replace
from typing import Any

from archiver.audit import audit
from archiver.clock import isoformat_z, parse_timestamp
from archiver.db.saved_rows import SavedSearchRow, find_saved, remove_saved, upsert_saved
from archiver.errors import CatalogError
from archiver.store.base import BlobStore
from archiver.wiring import Archive

SEARCHES_PREFIX = "searches/"


def save_search(archive: Archive, *, name: str, owner: str, query: str, actor: str) -> SavedSearchRow:
    """Create a saved search, or change the query of an existing one (a new revision)."""
    if not name.strip() or len(name) > 255:
        raise CatalogError("a saved search needs a name of 1-255 characters", code="bad_name")
    with archive.catalog.begin() as conn:
        current = find_saved(conn, owner, name)
        row = (SavedSearchRow(id=secrets.token_hex(8), name=name, owner=owner, query=query, revision=1,
                              created_at=archive.clock.now()) if current is None
               else replace(current, query=query, revision=current.revision + 1))
        upsert_saved(conn, row)
        _publish(archive.store, row, removed=False)
    audit(archive, actor=actor, action="saved_search.save", target=f"saved_search:{row.id}",
          details={"name": name, "owner": owner, "query": query, "revision": row.revision})
    return row


def delete_search(archive: Archive, *, name: str, owner: str, actor: str) -> None:
    with archive.catalog.begin() as conn:
        current = find_saved(conn, owner, name)
        if current is None:
            raise CatalogError(f"no saved search {name!r} for {owner}", code="saved_search_unknown")
        remove_saved(conn, current.id)
        _publish(archive.store, replace(current, revision=current.revision + 1), removed=True)
    audit(archive, actor=actor, action="saved_search.remove", target=f"saved_search:{current.id}")


def latest_saved_searches(store: BlobStore) -> list[SavedSearchRow]:
    """The current definition of every saved search in the store (for `arsip rebuild`)."""
    latest: dict[str, str] = {}
    for item in store.list(SEARCHES_PREFIX):
        search_id = item.key.split("/")[1]
        latest[search_id] = max(latest.get(search_id, ""), item.key)
    rows = []
    for key in sorted(latest.values()):
        data = json.loads(store.get_bytes(key))
        if not data.get("removed"):
            rows.append(SavedSearchRow(id=data["id"], name=data["name"], owner=data["owner"], query=data["query"],
                                       revision=int(data["revision"]), created_at=parse_timestamp(data["created_at"])))
    return rows


def _publish(store: BlobStore, row: SavedSearchRow, *, removed: bool) -> None:
    data: dict[str, Any] = {k: v for k, v in asdict(row).items() if not k.startswith("last_run")}
    data["created_at"] = isoformat_z(row.created_at)
    data["removed"] = removed
    store.put_bytes(f"{SEARCHES_PREFIX}{row.id}/{row.revision:06d}.json", json.dumps(data, indent=1).encode(),
                    content_type="application/json", if_absent=True)
