"""Catalog rows of saved searches (definitions are also in the object store; see archiver.saved_searches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from archiver.db import schema as t


@dataclass(frozen=True)
class SavedSearchRow:
    id: str
    name: str
    owner: str
    query: str
    revision: int
    created_at: datetime
    last_run_at: datetime | None = None
    last_run_upto: int | None = None


def upsert_saved(conn: Connection, row: SavedSearchRow) -> None:
    values = {"name": row.name, "owner": row.owner, "query": row.query, "revision": row.revision,
              "created_at": row.created_at}
    if conn.execute(select(t.SavedSearch.id).where(t.SavedSearch.id == row.id)).first() is None:
        conn.execute(insert(t.SavedSearch).values(id=row.id, **values))
    else:
        conn.execute(update(t.SavedSearch).where(t.SavedSearch.id == row.id).values(**values))


def find_saved(conn: Connection, owner: str, name: str) -> SavedSearchRow | None:
    row = conn.execute(select(t.SavedSearch).where(t.SavedSearch.owner == owner, t.SavedSearch.name == name)).first()
    return None if row is None else _row(row)


def list_saved(conn: Connection, owner: str | None = None) -> list[SavedSearchRow]:
    query = select(t.SavedSearch).order_by(t.SavedSearch.owner, t.SavedSearch.name)
    if owner is not None:
        query = query.where(t.SavedSearch.owner == owner)
    return [_row(r) for r in conn.execute(query)]


def mark_run(conn: Connection, search_id: str, at: datetime, upto: int) -> None:
    conn.execute(update(t.SavedSearch).where(t.SavedSearch.id == search_id)
                 .values(last_run_at=at, last_run_upto=upto))


def remove_saved(conn: Connection, search_id: str) -> None:
    conn.execute(delete(t.SavedSearch).where(t.SavedSearch.id == search_id))


def _row(row: object) -> SavedSearchRow:
    return SavedSearchRow(id=row.id, name=row.name, owner=row.owner, query=row.query,  # type: ignore[attr-defined]
                          revision=row.revision, created_at=row.created_at,  # type: ignore[attr-defined]
                          last_run_at=row.last_run_at, last_run_upto=row.last_run_upto)  # type: ignore[attr-defined]
