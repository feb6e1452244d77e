"""The `arsip` command line: each command end to end, exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archiver.cli.main import build_cli
from archiver.clock import FixedClock, SystemClock
from archiver.simulator.mastodon import MastodonServer, run_mastodon
from archiver.simulator.mastodon_demo import DemoScript, scripted_demo_instance
from archiver.simulator.mastodon_export import write_account_archive
from tests.support.cli import isolate_home

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = isolate_home(tmp_path, monkeypatch)
    return home


@pytest.fixture
def demo() -> Iterator[tuple[MastodonServer, DemoScript]]:
    instance, script = scripted_demo_instance(SystemClock())
    with run_mastodon(instance) as server:
        yield server, script


def arsip(*args: str) -> Result:
    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


def assert_one_line_error(result: Result, code: int, pattern: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert re.search(pattern, lines[-1]), lines


def test_every_command_is_documented() -> None:
    docs = DOCS.read_text()
    cli = build_cli()
    missing = []
    for name, command in cli.commands.items():
        subcommands = getattr(command, "commands", {})
        for full in ([f"arsip {name} {sub}" for sub in subcommands] or [f"arsip {name}"]):
            if f"`{full}" not in docs:
                missing.append(full)
    assert missing == []


def test_full_cycle_through_the_command_line(home: Path, demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, script = demo
    assert arsip("init").exit_code == 0
    assert arsip("init").exit_code == 0  # idempotent
    added = arsip("accounts", "add", "mastodon", f"{server.base_url}/@cityhall", "--tag", "city", "--interval", "30m")
    assert added.exit_code == 0, added.output
    listed = json.loads(arsip("accounts", "list", "--json").output)
    assert listed[0]["tags"] == ["city"] and listed[0]["interval_seconds"] == 1800

    first = arsip("collect", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["counts"]["new"] > 30
    script.advance()
    assert arsip("collect").exit_code == 0

    deleted = json.loads(arsip("records", "list", "--state", "deleted", "--json").output)
    assert len(deleted) == 2
    shown = json.loads(arsip("records", "show", deleted[0]["id"], "--json").output)
    assert [v["state"] for v in shown["versions"]] == ["present", "deleted"]
    assert shown["versions"][0]["document"]["text"]
    assert arsip("verify", deleted[0]["id"]).exit_code == 0

    export = write_account_archive(script.instance, script.agency_id, tmp_path, fmt="zip")
    imported = arsip("import", "mastodon-archive", str(export), "--account", listed[0]["id"], "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["counts"].get("new", 0) == 0

    rotated = arsip("keys", "rotate")
    assert rotated.exit_code == 0
    assert len(json.loads(arsip("keys", "export-public").output)["keys"]) == 2
    script.instance.post(script.agency_id, "<p>signed with the new key</p>")
    assert arsip("collect").exit_code == 0
    assert arsip("verify", "--archive").exit_code == 0

    status = json.loads(arsip("log", "status", "--json").output)
    proofs = json.loads(arsip("log", "prove", deleted[0]["id"]).output)
    assert proofs and all(p["tree_size"] == status["size"] for p in proofs)
    consistency = json.loads(arsip("log", "consistency", "1", str(status["size"])).output)
    assert consistency["proof"]

    before = arsip("records", "list", "--limit", "1000").output
    assert arsip("rebuild", "--replace").exit_code == 0
    assert arsip("records", "list", "--limit", "1000").output == before
    assert arsip("verify", "--archive").exit_code == 0


def test_tampering_makes_verify_exit_1_and_name_the_object(home: Path, demo) -> None:  # type: ignore[no-untyped-def]
    server, _script = demo
    arsip("init")
    arsip("accounts", "add", "mastodon", f"{server.base_url}/@cityhall")
    arsip("collect")
    warc = sorted((home / "objects" / "warc").rglob("*.warc.gz"))[0]
    data = bytearray(warc.read_bytes())
    data[-40] ^= 0xFF
    warc.write_bytes(bytes(data))
    result = arsip("verify", "--archive")
    assert result.exit_code == 1
    assert str(warc.relative_to(home / "objects")) in result.stderr


@pytest.mark.parametrize("args, code, pattern", [
    (("accounts", "add", "mastodon", "https://social.example.gov/cityhall"), 2, r"does not end in /@NAME"),
    (("accounts", "add", "mastodon", "http://social.example.gov/@cityhall"), 2, r"plain http"),
    (("accounts", "add", "bluesky", "https://bsky.app/profile/x"), 2, r"not collected yet"),
    (("collect",), 1, r"no active accounts"),
    (("records", "show", "nope"), 1, r"no record 'nope'"),
    (("verify",), 2, r"either --archive, a RECORD"),
    (("accounts", "list", "--frobnicate"), 2, r"No such option"),
])
def test_bad_input_is_a_one_line_error(home: Path, args: tuple[str, ...], code: int, pattern: str) -> None:
    arsip("init")
    assert_one_line_error(arsip(*args), code, pattern)


def test_commands_before_init_say_to_run_init(home: Path) -> None:
    assert_one_line_error(arsip("records", "list"), 1, r"arsip init")


def test_hostile_archive_is_refused_and_nothing_archived(home: Path, tmp_path: Path) -> None:
    arsip("init")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("actor.json", "{}")
        zf.writestr("/etc/passwd", "root")
    assert_one_line_error(arsip("import", "mastodon-archive", str(evil)), 1, r"evil.zip: entry '/etc/passwd'")
    assert json.loads(arsip("records", "list", "--json").output) == []


def test_key_file_readable_by_others_is_refused(home: Path) -> None:
    arsip("init")
    key = next((home / "keys").glob("*.key"))
    key.chmod(0o644)
    assert_one_line_error(arsip("keys", "rotate"), 2, r"chmod 600")


def test_wrong_passphrase_is_a_clear_error(home: Path, demo, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    server, _script = demo
    arsip("init")
    arsip("accounts", "add", "mastodon", f"{server.base_url}/@cityhall")
    monkeypatch.setenv("ARSIP_KEY_PASSPHRASE", "not the passphrase at all")
    result = arsip("collect")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "passphrase" in result.stderr.lower()


def test_settings_show_masks_secrets(home: Path) -> None:
    shown = json.loads(arsip("settings", "--json").output)
    assert shown["key_passphrase"] == "********" and shown["home"] == str(home)


def test_demo_builds_a_verified_archive_and_can_run_again(home: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    first = arsip("demo", "--port", port)
    assert first.exit_code == 0, first.output
    assert "verify --archive: OK" in first.output and "2 deleted" in first.output
    again = arsip("demo", "--port", port)
    assert again.exit_code == 0 and "already exists" in again.output


def test_collect_loop_collects_each_account_again_when_due(home: Path, demo) -> None:  # type: ignore[no-untyped-def]
    from archiver.cli.main import Context

    server, _script = demo
    arsip("init")
    arsip("accounts", "add", "mastodon", f"{server.base_url}/@cityhall", "--interval", "15m")
    clock = FixedClock()
    clock.current = SystemClock().now()
    result = CliRunner().invoke(build_cli(), ["collect", "--loop", "--cycles", "2", "--json"],
                                obj=Context(clock=clock), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert clock.slept and 899 <= clock.slept[0] <= 900  # waited for the account's interval
    assert result.output.count('"run"') == 2
