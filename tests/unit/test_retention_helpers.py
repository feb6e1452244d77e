"""Builders shared by the retention tests: record facts, items and schedule files with few keystrokes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from retention_policies.model import (
    Action,
    AgeFrom,
    AppliesTo,
    Cutoff,
    Framework,
    RecordFacts,
    ScheduleItem,
    ScheduleSet,
)
from retention_policies.period import Period


def at(day: str, hour: int = 12) -> datetime:
    """Noon UTC on an ISO date, so no test depends on a time zone by accident."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).replace(hour=hour)


def make_facts(
    kind: str = "post",
    *,
    record_id: str = "r1",
    platform: str = "mastodon",
    account_id: str = "acct-1",
    tags: frozenset[str] = frozenset(),
    acted_on: bool = False,
    posted: str | datetime | None = "2024-01-10",
    captured: str | datetime = "2024-01-10",
    events: Mapping[str, datetime] | None = None,
    assigned_item: str | None = None,
) -> RecordFacts:
    return RecordFacts(
        record_id=record_id, platform=platform, account_id=account_id, account_tags=tags, kind=kind,
        acted_on=acted_on, posted_at=at(posted) if isinstance(posted, str) else posted,
        captured_at=at(captured) if isinstance(captured, str) else captured, events=events or {},
        assigned_item=assigned_item,
    )


def make_item(code: str = "X-1", **changes: object) -> ScheduleItem:
    """A destroy-after-one-year item covering everything, changed by keyword."""
    base = ScheduleItem(
        id=f"test/{code}", schedule_id="test", title="Test item", authority="TEST-1", applies_to=AppliesTo(),
        cutoff=Cutoff(), retention=Period(years=1), inactive=None, action=Action.DESTROY, security_class="",
        vital=False, age_from=AgeFrom.POSTED, framework=Framework.AGENCY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def make_set(*items: ScheduleItem) -> ScheduleSet:
    return ScheduleSet(items=tuple(items), fingerprint="0" * 64)


SCHEDULE_HEADER = """\
[schedule]
id = "{schedule_id}"
title = "Test schedule"
framework = "{framework}"
"""

MINIMAL_ITEM = """\
[[item]]
code = "A-1"
title = "Everything"
authority = "TEST-1"
action = "destroy"
retention = "P1Y"
"""


def write_schedule(directory: Path, body: str, *, name: str = "plan.toml", schedule_id: str = "test",
                   framework: str = "agency") -> Path:
    """A schedule file with a valid header followed by ``body`` (items, or deliberately broken text)."""
    path = directory / name
    path.write_text(SCHEDULE_HEADER.format(schedule_id=schedule_id, framework=framework) + "\n" + body,
                    encoding="utf-8")
    return path
