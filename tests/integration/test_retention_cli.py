"""`arsip holds` and `arsip retention` as an operator types them: every path to destruction honours holds."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import bagit
import pytest
from click.testing import CliRunner, Result

from archiver.cli.main import Context, build_cli
from archiver.clock import FixedClock
from tests.support.cli import isolate_home

OFFICER = "cli:officer"
LATER = FixedClock(datetime(2031, 1, 1, tzinfo=UTC))  # the demo's posts are past GRS 6.4's three years
PERMANENT = Path(__file__).parent.parent / "data" / "schedules" / "permanent.toml"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = isolate_home(tmp_path, monkeypatch)
    monkeypatch.setenv("ARSIP_RECORDS_OFFICERS", OFFICER)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    built = run("demo", "--port", str(port), clock=FixedClock(datetime(2025, 3, 1, 12, tzinfo=UTC)))
    assert built.exit_code == 0, built.output
    return home


def run(*args: str, actor: str = OFFICER, clock: FixedClock = LATER) -> Result:
    return CliRunner().invoke(build_cli(), list(args), obj=Context(clock=clock, actor=actor), catch_exceptions=False)


def record_ids() -> list[str]:
    listed = run("records", "list", "--limit", "1000", "--json")
    return sorted(r["id"] for r in json.loads(listed.output))


def test_cli_hold_keeps_a_record_through_propose_approve_execute(home: Path) -> None:
    target = record_ids()[0]
    placed = run("holds", "create", "--matter", "Doe v. City", "--reason", "litigation", "--issuer", "counsel",
                 "--record", target, actor="cli:counsel")
    assert placed.exit_code == 0, placed.output
    due = run("retention", "due", "--json")
    assert target not in due.output and due.output.count("\n") == len(record_ids()) - 1
    proposed = run("retention", "propose")
    batch_id = proposed.output.split()[1].rstrip(":")
    assert run("retention", "approve", batch_id).exit_code == 0
    dry = run("retention", "execute", batch_id)
    assert "would destroy" in dry.output and "run again with --yes" in dry.output
    done = run("retention", "execute", batch_id, "--yes")
    assert done.exit_code == 0, done.output
    assert "destroyed" in done.output and "certificate disposition/" in done.output
    shown = run("records", "show", target)
    assert "destroyed" not in shown.output  # the held record is intact
    assert run("verify", "--archive").exit_code == 0


def test_cli_refuses_release_and_approval_by_non_officers_in_one_line(home: Path) -> None:
    placed = run("holds", "create", "--matter", "M", "--reason", "r", "--issuer", "i", "--query", "budget")
    hold_id = placed.output.split()[1]
    refused = run("holds", "release", hold_id, "--reason", "done", actor="cli:clerk")
    assert refused.exit_code == 1 and "only records officers" in refused.stderr.strip().splitlines()[-1]
    batch_id = run("retention", "propose").output.split()[1].rstrip(":")
    refused = run("retention", "approve", batch_id, actor="cli:clerk")
    assert refused.exit_code == 1 and "Traceback" not in refused.output


def test_cli_query_hold_is_listed_and_shows_coverage(home: Path) -> None:
    run("holds", "create", "--matter", "Budget audit", "--reason", "r", "--issuer", "IG", "--query", "budget")
    listed = run("holds", "list")
    assert "Budget audit" in listed.output
    hold_id = listed.output.split()[0]
    shown = run("holds", "show", hold_id)
    assert "records covered now: " in shown.output and "records covered now: 0" not in shown.output


def test_bad_hold_input_is_one_line_and_changes_nothing(home: Path) -> None:
    result = run("holds", "create", "--matter", "M", "--reason", "r", "--issuer", "i", "--query", "budget AND (")
    assert result.exit_code == 1 and "unbalanced parenthesis" in result.stderr.strip().splitlines()[-1]
    result = run("holds", "create", "--matter", "M", "--reason", "r", "--issuer", "i")
    assert result.exit_code != 0 and "needs a scope" in result.stderr
    assert run("holds", "list").output == ""


def test_cli_transfer_waits_for_its_receipt_and_keeps_held_records(home: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARSIP_RETENTION_SCHEDULES", str(PERMANENT))
    target = record_ids()[0]
    run("holds", "create", "--matter", "Doe v. City", "--reason", "r", "--issuer", "counsel", "--record", target)
    batch_id = run("retention", "propose", "--action", "accession").output.split()[1].rstrip(":")
    assert run("retention", "approve", batch_id).exit_code == 0
    assert "would package for accession" in run("retention", "execute", batch_id).output
    packaged = run("retention", "execute", batch_id, "--yes", "--out", str(tmp_path / "out"))
    assert packaged.exit_code == 0 and "package written to" in packaged.output, packaged.output
    package = tmp_path / "out" / batch_id
    bagit.Bag(str(package)).validate()

    wrong = tmp_path / "wrong-manifest.txt"
    wrong.write_bytes((package / "manifest-sha256.txt").read_bytes()[:-40])
    refused = run("retention", "receipt", batch_id, "--reference", "AN-1", "--manifest", str(wrong), "--yes")
    assert refused.exit_code == 1 and "differs from the one sent" in refused.stderr.strip().splitlines()[-1]
    done = run("retention", "receipt", batch_id, "--reference", "AN-1", "--manifest",
               str(package / "manifest-sha256.txt"), "--yes")
    assert done.exit_code == 0 and "accessioned" in done.output, done.output
    assert "accessioned" not in run("records", "show", target).output  # the held record never left
    assert "accessioned" in run("records", "show", record_ids()[-1]).output
    assert run("verify", "--archive").exit_code == 0
