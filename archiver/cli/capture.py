"""`arsip collect` and `arsip import`."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from archiver.capture.service import RunSummary, run_capture
from archiver.cli.main import Context, emit_json, pass_context
from archiver.collectors.registry import collector_for
from archiver.db.catalog import last_finished_at
from archiver.errors import CatalogError
from archiver.imports import import_mastodon_archive
from archiver.model import AccountInfo, ChangeKind, RunStatus
from archiver.plugins import after_capture
from archiver.wiring import Archive


@click.command()
@click.option("--account", "account_ref", help="Collect only this account (id, handle or URL).")
@click.option("--loop", is_flag=True, help="Keep collecting each active account at its interval.")
@click.option("--cycles", type=int, hidden=True, help="Stop --loop after this many passes (tests).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON summaries.")
@pass_context
def collect(ctx: Context, account_ref: str | None, loop: bool, cycles: int | None, as_json: bool) -> None:
    """Collect new posts, edits, replies and deletions from the platforms."""
    archive = ctx.archive()
    failed = False
    passes = 0
    while True:
        targets = _targets(archive, account_ref, due_only=loop)
        for account in targets:
            summary = run_capture(archive, account, collector_for(account, archive.settings), actor=ctx.actor)
            report(summary, as_json)
            refresh_derived(archive)
            failed |= summary.status is not RunStatus.SUCCEEDED
        passes += 1
        if not loop or (cycles is not None and passes >= cycles):
            break
        archive.clock.sleep(_seconds_until_next(archive))
    if failed:
        sys.exit(1)


def _targets(archive: Archive, account_ref: str | None, *, due_only: bool) -> list[AccountInfo]:
    with archive.catalog.begin() as conn:
        if account_ref:
            return [archive.catalog.find_account(conn, account_ref)]
        active = [a for a in archive.catalog.accounts(conn) if a.active]
        if not active:
            raise CatalogError("no active accounts; add one with `arsip accounts add`", code="no_accounts")
        if not due_only:
            return active
        now = archive.clock.now()
        return [a for a in active if _due(last_finished_at(conn, a.id), a, now)]


def _due(last: datetime | None, account: AccountInfo, now: datetime) -> bool:
    return last is None or now - last >= timedelta(seconds=account.interval_seconds)


def _seconds_until_next(archive: Archive) -> float:
    with archive.catalog.begin() as conn:
        now = archive.clock.now()
        waits = []
        for account in archive.catalog.accounts(conn):
            last = last_finished_at(conn, account.id) if account.active else None
            if account.active:
                due = (last or now) + timedelta(seconds=account.interval_seconds)
                waits.append(max((due - now).total_seconds(), 1.0))
    return min(waits, default=60.0)


@click.command("import")
@click.argument("kind", type=click.Choice(["mastodon-archive"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--include-private", is_flag=True, help="Also import followers-only posts and direct messages.")
@click.option("--skip-unsafe", is_flag=True, help="Import the rest of an archive that has unsafe entries "
              "(each skipped entry is reported); by default such an archive is refused.")
@click.option("--account", "account_ref", help="Attach the export to this account (default: the account with the "
              "export's handle, created paused if new).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@pass_context
def import_(ctx: Context, kind: str, file: Path, include_private: bool, skip_unsafe: bool, account_ref: str | None,
            as_json: bool) -> None:
    """Import a platform's data export, e.g. `arsip import mastodon-archive archive-2025.zip`."""
    archive = ctx.archive()
    account = None
    if account_ref:
        with archive.catalog.read() as conn:
            account = archive.catalog.find_account(conn, account_ref)
    summary = import_mastodon_archive(archive, file, actor=ctx.actor, account=account,
                                      include_private=include_private, skip_unsafe=skip_unsafe)
    report(summary, as_json)
    refresh_derived(archive)
    if summary.status is not RunStatus.SUCCEEDED:
        sys.exit(1)


def report(summary: RunSummary, as_json: bool) -> None:
    if as_json:
        emit_json({"run": summary.run_id, "account": summary.account.handle, "status": str(summary.status),
                   "counts": dict(summary.counts), "problems": [p.as_dict() for p in summary.problems],
                   "checkpoint": summary.checkpoint_size, "lock_problem": summary.lock_problem})
        return
    counts = summary.counts
    changes = ", ".join(f"{counts[k]} {k}" for k in ChangeKind if counts.get(k))
    click.echo(f"{summary.account.handle}: run {summary.run_id} {summary.status} — {changes or 'nothing observed'}"
               f"; {counts.get('evidence', 0)} exchanges kept")
    for problem in summary.problems:
        click.echo(f"  problem {problem.code}: {problem.message}" + (f" [{problem.item}]" if problem.item else ""),
                   err=True)
    if summary.timestamp_problem:
        click.echo(f"  time-stamp not obtained: {summary.timestamp_problem}", err=True)
    if summary.lock_problem:
        click.echo(f"  warning: {summary.lock_problem}", err=True)


def refresh_derived(archive: Archive) -> None:
    """Bring derived data (the search index) up to date after a run; problems there are warnings."""
    for warning in after_capture(archive):
        click.echo(f"  warning: {warning}", err=True)


COMMANDS = [collect, import_]
