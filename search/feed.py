"""Turn catalog rows into index entries: group a record's versions, work out validity and carried text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from archiver.db.index_feed import IndexRow
from search.entries import RecordEntry, VersionEntry

CARRIES_TEXT = frozenset({"deleted", "hidden"})


def group_records(rows: Iterable[IndexRow]) -> Iterator[RecordEntry]:
    """Rows ordered by record then version number -> one entry per record.

    A version is valid from its capture until the next version's capture, which is what
    ``as-of`` searches. A deletion or hide tombstone has no text of its own; it carries the text
    it took away, so "deleted posts that mentioned the budget" finds the tombstone too.
    """
    current: list[IndexRow] = []
    for row in rows:
        if current and row.record_id != current[0].record_id:
            yield _entry(current)
            current = []
        current.append(row)
    if current:
        yield _entry(current)


def _entry(rows: list[IndexRow]) -> RecordEntry:
    versions: list[VersionEntry] = []
    last_text = ""
    for position, row in enumerate(rows):
        following = rows[position + 1] if position + 1 < len(rows) else None
        text = row.text
        if not text and row.state in CARRIES_TEXT:
            text = last_text
        last_text = text or last_text
        versions.append(VersionEntry(
            log_index=row.log_index, number=row.number, state=row.state, reason=row.reason, lang=row.lang,
            author=row.author, captured_at=row.captured_at,
            valid_to=following.captured_at if following is not None else None, text=text,
            media_count=row.media_count))
    first = rows[0]
    return RecordEntry(record_id=first.record_id, platform=first.platform, account_id=first.account_id,
                       account_handle=first.account_handle, kind=first.kind, posted_at=first.posted_at,
                       versions=tuple(versions))
