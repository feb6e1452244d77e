"""What the index holds about a record: the record and every version of it, as read from the catalog.

The indexer hands whole records to a backend, never single versions: a new version changes the
previous version's validity (for ``as-of``) and the record's combined document (for the default
all-versions search), so re-indexing the whole record is both simpler and idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class VersionEntry:
    log_index: int
    number: int
    state: str
    reason: str | None
    lang: str | None
    author: str | None
    captured_at: datetime
    valid_to: datetime | None  # when the next version was captured; None while current
    text: str  # a tombstone or hidden version carries the last text it took away
    media_count: int


@dataclass(frozen=True)
class RecordEntry:
    record_id: str
    platform: str
    account_id: str
    account_handle: str
    kind: str
    posted_at: datetime | None
    versions: tuple[VersionEntry, ...]

    @property
    def first_log_index(self) -> int:
        return self.versions[0].log_index
