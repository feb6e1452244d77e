"""A records officer's inputs to the schedules — explicit item assignments and dated events — on a real
archive: they change what is due, are refused when wrong, and survive a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from archiver.clock import FixedClock
from archiver.db.catalog import Catalog
from archiver.db.engine import make_engine
from archiver.errors import ArchiverError
from archiver.rebuild import rebuild_catalog
from archiver.retention.classify import assign, record_event
from archiver.retention.facts import FactsReader
from archiver.retention.holds import active_holds
from archiver.retention.schedules import schedules_in_force
from archiver.wiring import Archive
from retention_policies.evaluate import evaluate
from retention_policies.model import Decision, Status
from tests.integration.test_rebuild import dump
from tests.support.demo_archive import captured_demo

OFFICER = "officer:alice"
DAY = 86_400


def decisions(archive: Archive) -> dict[str, Decision]:
    schedules = schedules_in_force(archive, actor="test")
    with archive.catalog.read() as conn:
        return {d.record_id: d for d in evaluate(FactsReader(conn).all(), schedules, active_holds(archive, conn),
                                                 archive.clock.now())}


@pytest.fixture
def archive(tmp_path: Path, clock: FixedClock) -> Iterator[Archive]:
    opened = captured_demo(tmp_path, clock, records_officers=(OFFICER,))
    yield opened
    opened.close()


@pytest.fixture
def transitory(tmp_path: Path, clock: FixedClock) -> Iterator[Archive]:
    opened = captured_demo(tmp_path, clock, tags=("transitory",), records_officers=(OFFICER,))
    yield opened
    opened.close()


def test_an_assignment_moves_a_no_action_comment_to_three_years(archive: Archive, clock: FixedClock) -> None:
    clock.advance(200 * DAY)  # past GRS 6.4/020's 90 days, well inside 6.4/010's three years
    before = decisions(archive)
    comment = next(r for r, d in sorted(before.items()) if d.item_id == "nara-grs/6.4-020")
    assert before[comment].status is Status.DUE
    assign(archive, [comment], item_id="nara-grs/6.4-010", reason="answered by phone; agency acted on it",
           actor=OFFICER)
    after = decisions(archive)[comment]
    assert after.item_id == "nara-grs/6.4-010" and after.status is not Status.DUE
    assert after.eligible_on is not None and after.eligible_on > before[comment].eligible_on  # type: ignore[operator]
    assign(archive, [comment], item_id=None, reason="filed in error", actor=OFFICER)
    assert decisions(archive)[comment].item_id == "nara-grs/6.4-020"


def test_transitory_records_wait_for_the_no_longer_needed_event(transitory: Archive, clock: FixedClock) -> None:
    clock.advance(30 * DAY)
    waiting = decisions(transitory)
    assert waiting and all(d.item_id == "nara-grs/5.2-010" and d.status is not Status.DUE for d in waiting.values())
    account_id = next(iter(waiting.values())).record_id  # any record; its account is what the event names
    with transitory.catalog.read() as conn:
        account_id = next(FactsReader(conn).all()).account_id
    record_event(transitory, "no_longer_needed", at=clock.now() - timedelta(days=1), account_id=account_id,
                 record_ids=(), actor=OFFICER)
    assert all(d.status is Status.DUE for d in decisions(transitory).values())


def test_wrong_assignments_and_events_are_refused_in_one_line_and_record_nothing(archive: Archive,
                                                                                clock: FixedClock) -> None:
    record = sorted(decisions(archive))[0]
    cases = [
        (lambda: assign(archive, [record], item_id="nara-grs/9.9-999", reason="r", actor=OFFICER), "9.9-999"),
        (lambda: assign(archive, ["no-such-record"], item_id="nara-grs/6.4-010", reason="r", actor=OFFICER),
         "not in the archive"),
        (lambda: assign(archive, [record], item_id="nara-grs/6.4-010", reason="  ", actor=OFFICER), "reason"),
        (lambda: assign(archive, [record], item_id="nara-grs/6.4-010", reason="r", actor="clerk"),
         "only records officers"),
        (lambda: record_event(archive, "account_exploded", at=clock.now(), account_id=None, record_ids=[record],
                              actor=OFFICER), "events in use: final_action, no_longer_needed"),
        (lambda: record_event(archive, "final_action", at=clock.now() + timedelta(days=2), account_id=None,
                              record_ids=[record], actor=OFFICER), "in the future"),
        (lambda: record_event(archive, "final_action", at=clock.now(), account_id="nobody", record_ids=(),
                              actor=OFFICER), "no account"),
        (lambda: record_event(archive, "final_action", at=clock.now(), account_id=None, record_ids=(),
                              actor=OFFICER), "either one account"),
    ]
    for attempt, message in cases:
        with pytest.raises(ArchiverError, match=message) as raised:
            attempt()
        assert "\n" not in str(raised.value)
    assert list(archive.store.list("retention/assignments/")) == []
    assert list(archive.store.list("retention/events/")) == []


def test_rebuild_replays_assignments_and_events_in_order(archive: Archive, tmp_path: Path) -> None:
    records = sorted(decisions(archive))
    assign(archive, records[:2], item_id="nara-grs/6.4-010", reason="first", actor=OFFICER)
    assign(archive, records[:1], item_id=None, reason="second thoughts", actor=OFFICER)
    record_event(archive, "final_action", at=archive.clock.now(), account_id=None, record_ids=records[2:3],
                 actor=OFFICER)
    rebuilt = Catalog(make_engine(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"))
    rebuild_catalog(archive.store, rebuilt)
    original, again = dump(archive.catalog.engine), dump(rebuilt.engine)
    assert again["schedule_assignments"] == original["schedule_assignments"]
    assert [row[0] for row in original["schedule_assignments"]] == [records[1]]
    assert again["retention_events"] == original["retention_events"] and len(original["retention_events"]) == 1
