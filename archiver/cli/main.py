"""The `arsip` command group: settings, the archive handle, one error renderer and exit codes.

Exit codes: 0 ok; 1 problems found (verification failed, items failed, the platform failed);
2 usage or configuration error. Errors print one line naming the problem and what to do.
"""

from __future__ import annotations

import getpass
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import click

from archiver import __version__
from archiver.audit import seal
from archiver.clock import Clock, SystemClock
from archiver.errors import ArchiverError, ConfigError, SigningKeyError
from archiver.settings import Settings, load_settings
from archiver.wiring import Archive, open_archive
from retention_policies.errors import PolicyError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    """What every command gets: settings and an archive opened on first use (so `--help` needs nothing)."""

    clock: Clock = field(default_factory=SystemClock)
    actor: str = field(default_factory=lambda: f"cli:{getpass.getuser()}")
    _settings: Settings | None = None
    _archive: Archive | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = open_archive(self.settings, clock=self.clock)
        return self._archive

    def adopt(self, archive: Archive) -> Archive:
        self._archive = archive
        return archive

    def close(self) -> None:
        """Seal this command's audit entries into the store, then release the archive."""
        if self._archive is not None:
            seal(self._archive)
            self._archive.close()
            self._archive = None


pass_context = click.make_pass_decorator(Context, ensure=True)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"arsip: error: {message}", err=True)
    sys.exit(code)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str | None) -> str:
    """Archived text is hostile: neutralize terminal escapes and bidi overrides before printing."""
    if not text:
        return ""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class ArsipGroup(click.Group):
    """Turns Arsip errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, SigningKeyError) as exc:
            fail(str(exc), 2)
        except PolicyError as exc:  # a schedule file or assignment is wrong: the operator's to fix
            fail(str(exc), 2)
        except ArchiverError as exc:
            fail(str(exc), 1)
        except OSError as exc:  # disk full, permission denied: the operator's to fix, not a bug
            where = f" ({exc.filename})" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}", 1)
        finally:
            state = ctx.find_object(Context)
            if state is not None:
                try:
                    state.close()
                except ArchiverError as exc:
                    fail(f"could not seal the audit log: {exc}", 1)


def build_cli() -> click.Group:
    """The command tree; built on demand so importing this module registers nothing."""
    from archiver.cli import accounts, capture, demo, integrity, keys, records, retention, settings_cmd
    from archiver.plugins import plugin_commands

    @click.group(cls=ArsipGroup)
    @click.version_option(__version__, prog_name="arsip")
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        """Arsip: a verifiable records archive for government social media."""
        ctx.ensure_object(Context)

    for module in (settings_cmd, accounts, capture, records, integrity, keys, retention, demo):
        for command in module.COMMANDS:
            cli.add_command(command)
    for command in plugin_commands():
        cli.add_command(command)
    return cli


def main() -> None:
    build_cli()()
