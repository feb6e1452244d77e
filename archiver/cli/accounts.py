"""`arsip accounts add|list`."""

from __future__ import annotations

import click

from archiver.accounts import add_account, new_account
from archiver.cli.main import Context, emit_json, pass_context
from archiver.collectors.registry import account_identity
from archiver.errors import InputError
from archiver.model import Platform


def _interval(text: str) -> int:
    """``900``, ``15m``, ``2h`` or ``1d`` to seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        seconds = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    except (ValueError, IndexError):
        raise click.BadParameter(f"{text!r} is not a duration like 900, 15m, 2h or 1d") from None
    if seconds < 60:
        raise click.BadParameter("collect at most once a minute")
    return seconds


@click.group()
def accounts() -> None:
    """Official accounts to archive."""


@accounts.command("add")
@click.argument("platform", type=click.Choice([p.value for p in Platform]))
@click.argument("url")
@click.option("--tag", "tags", multiple=True, help="Tag the account (repeatable), e.g. --tag police.")
@click.option("--interval", default="15m", show_default=True, help="How often `arsip collect --loop` collects it.")
@click.option("--agency", help="The agency that owns the account.")
@click.option("--token-env", help="Environment variable holding an API token (e.g. ARSIP_SECRET_CITYHALL).")
@pass_context
def add(ctx: Context, platform: str, url: str, tags: tuple[str, ...], interval: str, agency: str | None,
        token_env: str | None) -> None:
    """Add an account, e.g. `arsip accounts add mastodon https://social.example.gov/@cityhall`."""
    archive = ctx.archive()
    try:
        handle, canonical = account_identity(Platform(platform), url)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    account = new_account(Platform(platform), handle=handle, url=canonical, clock=archive.clock, tags=tags,
                          interval_seconds=_interval(interval), owner_agency=agency,
                          credentials_ref=f"env:{token_env}" if token_env else None)
    add_account(archive, account, actor=ctx.actor)
    click.echo(f"added {platform} account {handle} as {account.id}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_accounts(ctx: Context, as_json: bool) -> None:
    """List accounts with their collection settings."""
    archive = ctx.archive()
    with archive.catalog.begin() as conn:
        found = archive.catalog.accounts(conn)
    if as_json:
        emit_json([a.to_json() for a in found])
        return
    for a in found:
        state = "active" if a.active else "paused"
        click.echo(f"{a.id}  {a.platform:9} {a.handle:40} every {a.interval_seconds // 60}m  {state}  "
                   f"{','.join(a.tags)}")


COMMANDS = [accounts]
