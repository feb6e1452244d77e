"""`arsip demo`: a complete archive in one command, on a simulated Mastodon instance (no credentials,
no internet): collect, let the platform change, collect again, import the account's export, verify.
"""

from __future__ import annotations

import errno
import sys

import click

from archiver.accounts import add_account, new_account
from archiver.capture.service import run_capture
from archiver.cli.capture import refresh_derived, report
from archiver.cli.main import Context
from archiver.cli.records import list_
from archiver.collectors.mastodon import MastodonCollector
from archiver.collectors.mastodon_api import parse_account_url
from archiver.errors import CatalogError
from archiver.imports import import_mastodon_archive
from archiver.model import AccountInfo, Platform
from archiver.simulator.mastodon import run_mastodon
from archiver.simulator.mastodon_demo import DemoScript, scripted_demo_instance
from archiver.simulator.mastodon_export import write_account_archive
from archiver.verify.archive import verify_archive
from archiver.wiring import Archive, init_archive


@click.command()
@click.option("--port", type=click.IntRange(1024, 65535), default=8765, show_default=True,
              help="Loopback port of the simulated Mastodon instance.")
@click.pass_context
def demo(click_ctx: click.Context, port: int) -> None:
    """Build a demo archive under ARSIP_HOME from a simulated city-government Mastodon account."""
    ctx = click_ctx.find_object(Context)
    assert ctx is not None
    archive = ctx.adopt(init_archive(ctx.settings, clock=ctx.clock))
    url = f"http://127.0.0.1:{port}/@cityhall"
    if _existing(archive, url) is None:
        _run_scenario(archive, ctx, url, port)
    else:
        click.echo(f"the demo archive already exists in {ctx.settings.home}; showing it")
    report_ = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog)
    click.echo(f"\nverify --archive: {'OK' if report_.ok else 'FAILED'} — {report_.checked['versions']} signed "
               f"versions, {report_.checked['warc_records']} WARC records, {report_.checked['checkpoints']} "
               "signed checkpoints")
    click.echo("\nnewest records:")
    click_ctx.invoke(list_, account_ref=None, state=None, kind=None, limit=12, offset=0, as_json=False)
    click.echo(f"\nThe archive is in {ctx.settings.home}. Look around:\n"
               "  arsip records list --state deleted        # what disappeared, and when\n"
               "  arsip records show RECORD_ID              # every version of one record\n"
               "  arsip verify RECORD_ID                    # signatures, WARC digests, inclusion proof\n"
               "  arsip verify --archive                    # the whole archive, from the object store\n"
               "  arsip search 'banjir OR flood'            # every version, every record (docs/search.md)\n"
               "(Use the same ARSIP_HOME, e.g. `ARSIP_HOME=./var .venv/bin/arsip records list`.)")
    if not report_.ok:
        sys.exit(1)


def _run_scenario(archive: Archive, ctx: Context, url: str, port: int) -> None:
    instance, script = scripted_demo_instance(ctx.clock)
    try:
        with run_mastodon(instance, port=port) as server:
            _collect_change_import(archive, ctx, url, server.base_url, script)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.UsageError(f"port {port} is in use; run `arsip demo --port OTHER`") from None
        raise


def _collect_change_import(archive: Archive, ctx: Context, url: str, base_url: str, script: DemoScript) -> None:
    ref = parse_account_url(url)
    account = add_account(archive, new_account(Platform.MASTODON, handle=ref.handle, url=ref.url,
                                               clock=archive.clock, tags=("demo",), owner_agency="City of Example"),
                          actor=ctx.actor)
    click.echo(f"simulated Mastodon instance at {base_url}; collecting @cityhall")
    report(run_capture(archive, account, MastodonCollector(archive.settings), actor=ctx.actor), False)
    changes = script.advance()
    click.echo(f"\nthe platform changed: {len(changes.edited)} post edited, {len(changes.added)} new comment, "
               f"{len(changes.deleted)} statuses deleted; collecting again")
    report(run_capture(archive, _existing(archive, url) or account, MastodonCollector(archive.settings),
                       actor=ctx.actor), False)
    export_dir = ctx.settings.home / "demo-export"
    export_dir.mkdir(exist_ok=True)
    export = write_account_archive(script.instance, script.agency_id, export_dir, fmt="zip")
    click.echo(f"\nimporting the account's own export {export.name} (already captured live: nothing doubles)")
    report(import_mastodon_archive(archive, export, actor=ctx.actor, account=_existing(archive, url)), False)
    refresh_derived(archive)


def _existing(archive: Archive, url: str) -> AccountInfo | None:
    with archive.catalog.read() as conn:
        try:
            return archive.catalog.find_account(conn, parse_account_url(url).url)
        except CatalogError:
            return None


COMMANDS = [demo]
