"""`arsip init` and `arsip settings`."""

from __future__ import annotations

import click

from archiver.audit import audit
from archiver.cli.main import Context, emit_json, pass_context
from archiver.settings import SETTINGS
from archiver.wiring import init_archive


@click.command()
@pass_context
def init(ctx: Context) -> None:
    """Create ARSIP_HOME, the catalog, the Merkle log and a first signing key (safe to re-run)."""
    archive = ctx.adopt(init_archive(ctx.settings, clock=ctx.clock))
    keys = archive.keyring.list()
    active = archive.keyring.active()
    audit(archive, actor=ctx.actor, action="archive.init", target=archive.origin,
          details={"store": archive.store.url, "keys": [k.key_id for k in keys]})
    click.echo(f"archive ready at {ctx.settings.home} (log origin {archive.origin}, "
               f"signing key {active.key_id if active else 'none'})")


@click.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def show_settings(ctx: Context, as_json: bool) -> None:
    """Show every setting's resolved value (secrets masked) and where to read about it."""
    view = ctx.settings.public_view()
    if as_json:
        emit_json(view)
        return
    for setting in SETTINGS:
        click.echo(f"{setting.env:32} {view[setting.name]!s:40} {setting.help[:60]}")


COMMANDS = [init, show_settings]
