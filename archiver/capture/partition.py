"""Which WARC partition a record's evidence goes to, so each object shares one retention schedule and
cutoff period and disposition can delete whole objects."""

from __future__ import annotations

from datetime import datetime

CAPTURE_LOG = "capture-log"


def record_partition(platform: str, account_id: str, kind: str, dated: datetime) -> str:
    """Partition by account, record kind and calendar year of posting.

    Schedules differ by kind (GRS 6.4 keeps posts 3 years and un-actioned comments 90 days) and
    cutoffs fall on year boundaries, so this keeps each object inside one schedule and one
    calendar-year cutoff period. A schedule-aware partitioner (fiscal years, event cutoffs) belongs
    with the retention engine and replaces this function there.
    """
    return f"{platform}/{account_id}/{kind}/{dated.year:04d}"


def capture_log_partition(platform: str, account_id: str, dated: datetime) -> str:
    """Exchanges that observed no record (errors, empty pages) are operational evidence of the run."""
    return f"{platform}/{account_id}/{CAPTURE_LOG}/{dated.year:04d}"
