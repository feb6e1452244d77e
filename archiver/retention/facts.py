"""What the pure core needs to know about each record, read from the catalog."""

from __future__ import annotations

from collections.abc import Iterator

from archiver.db.catalog import Connection
from archiver.db.retention_rows import (
    RecordFactRow,
    acted_on_records,
    assignments,
    events,
    record_facts,
)
from retention_policies.model import RecordFacts


class FactsReader:
    """Turns catalog rows into :class:`RecordFacts`, with the few whole-archive lookups done once.

    A comment counts as *acted on* when the agency hid or removed it, or the account itself replied
    to it (NARA GRS 6.4/020 covers only comments needing no action). Other forms of action a
    records officer knows about are recorded by assigning the record a schedule item explicitly.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._moderated, self._replied_to = acted_on_records(conn)
        self._assigned = assignments(conn)
        self._account_events, self._record_events = events(conn)

    def all(self) -> Iterator[RecordFacts]:
        return (self.facts(row) for row in record_facts(self.conn))

    def facts(self, row: RecordFactRow) -> RecordFacts:
        acted_on = row.record_id in self._moderated or (row.platform, row.platform_id) in self._replied_to
        happened = {**self._account_events.get(row.account_id, {}), **self._record_events.get(row.record_id, {})}
        return RecordFacts(record_id=row.record_id, platform=row.platform, account_id=row.account_id,
                           account_tags=frozenset(row.account_tags), kind=row.kind, acted_on=acted_on,
                           posted_at=row.posted_at, captured_at=row.first_seen_at, events=happened,
                           assigned_item=self._assigned.get(row.record_id))
