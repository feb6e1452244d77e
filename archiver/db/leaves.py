"""The Merkle log's leaves as stored in the catalog, served to proof generation in chunks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from archiver.db import schema as t
from archiver.integrity.merkle import leaf_hash


class CatalogLeafSource:
    """A :class:`archiver.integrity.merkle.LeafSource` over ``log_leaves`` (leaf data = envelope SHA-256)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def size(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.LogLeaf)).scalar() or 0)

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        query = (select(t.LogLeaf.sha256).where(t.LogLeaf.index >= start, t.LogLeaf.index < end)
                 .order_by(t.LogLeaf.index))
        return [leaf_hash(bytes.fromhex(sha)) for sha in self.conn.execute(query).scalars()]
