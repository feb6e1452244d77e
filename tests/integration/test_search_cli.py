"""`arsip search`, `arsip index` and `arsip searches` end to end on a real archive and index."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archiver.capture.service import run_capture
from archiver.cli.main import build_cli
from archiver.simulator.synthetic import SyntheticCollector, SyntheticPlan
from archiver.wiring import init_archive
from tests.conftest import PASSPHRASE, make_settings
from tests.support.accounts import add_cityhall


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [k for k in os.environ if k.startswith("ARSIP_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("ARSIP_HOME", str(home))
    monkeypatch.setenv("ARSIP_KEY_PASSPHRASE", PASSPHRASE)
    archive = init_archive(make_settings(home))
    run_capture(archive, add_cityhall(archive), SyntheticCollector(SyntheticPlan(versions=120)))
    archive.close()
    return home


def arsip(*args: str) -> Result:
    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


def test_search_after_update_prints_records_snippets_and_a_cursor(home: Path) -> None:
    status = arsip("index", "status")
    assert status.exit_code == 0 and "120 behind" in status.output
    assert arsip("index", "update").exit_code == 0
    result = arsip("search", "jalan OR bridge", "--limit", "3", "--facets")
    assert result.exit_code == 0, result.output
    assert "records (tantivy" in result.output and "matched v1" in result.output
    assert "more: --cursor" in result.output and "platform: mastodon" in result.output
    assert re.search(r"(^|\s)\[(jalan|bridge)\](\s|[.,;:!?]|$)", result.output, re.IGNORECASE | re.MULTILINE)
    cursor = result.output.rsplit("--cursor ", 1)[1].split()[0]
    second = arsip("search", "jalan OR bridge", "--limit", "3", "--cursor", cursor)
    assert second.exit_code == 0


def test_search_json_and_as_of(home: Path) -> None:
    arsip("index", "rebuild")
    data = json.loads(arsip("search", "jalan", "--json", "--as-of", "2030-01-01").output)
    assert data["as_of"] == "2030-01-01" and data["index_behind"] == 0
    assert data["total"] == len(data["hits"]) or data["next_cursor"]
    assert all(hit["matched_versions"] for hit in data["hits"])


def test_a_syntax_error_is_one_line_with_the_position_and_exit_2(home: Path) -> None:
    result = arsip("search", "budget AND (road")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "query syntax error at position" in result.stderr


def test_searches_are_written_to_the_sealed_audit_log(home: Path) -> None:
    arsip("index", "update")
    arsip("search", "bridge w/5 road")
    entries = [json.loads(line) for segment in sorted((home / "objects" / "audit").rglob("*.jsonl"))
               for line in segment.read_text().splitlines()]
    searches = [e for e in entries if e["action"] == "search"]
    assert searches and searches[-1]["details"]["query"] == "bridge w/5 road"
    assert searches[-1]["details"]["backend"] == "tantivy" and searches[-1]["actor"].startswith("cli:")


def test_saved_searches_save_list_run_remove(home: Path) -> None:
    arsip("index", "update")
    assert arsip("searches", "save", "bridges", "bridge").exit_code == 0
    assert "bridges" in arsip("searches", "list").output
    first = arsip("searches", "run", "bridges")
    assert first.exit_code == 0 and "ever (first run)" in first.output
    again = arsip("searches", "run", "bridges")
    assert "0 records with new matching versions since the last run" in again.output
    assert arsip("searches", "save", "broken", "budget AND (").exit_code == 2
    assert arsip("searches", "remove", "bridges").exit_code == 0
    assert "bridges" not in arsip("searches", "list").output
