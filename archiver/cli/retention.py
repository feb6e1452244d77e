"""`arsip holds …` and `arsip retention …`: legal holds, the due report and disposition batches."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, time
from pathlib import Path
from typing import BinaryIO

import click

from archiver.audit import audit
from archiver.cli.main import Context, emit_json, pass_context, printable
from archiver.db.retention_rows import list_assignments, list_batches, list_events, list_holds
from archiver.retention import batches as batch_ops
from archiver.retention import classify
from archiver.retention.execute import TRANSFERS, Outcome, confirm_receipt, execute
from archiver.retention.facts import FactsReader
from archiver.retention.holds import ScopeSpec, active_holds, create_hold, get_hold, release_hold
from archiver.retention.object_locks import sync_object_locks
from archiver.retention.schedules import schedules_in_force
from archiver.wiring import Archive
from retention_policies.evaluate import evaluate
from retention_policies.holds import HoldIndex
from retention_policies.model import Action, Decision, Status


def _as_of(archive: Archive, value: datetime | None) -> datetime:
    """Midnight UTC of an --as-of date, or now."""
    return datetime.combine(value.date(), time(0, 0), tzinfo=UTC) if value else archive.clock.now()


@click.group()
def holds() -> None:
    """Legal holds: while one covers a record, nothing can destroy, transfer or change it."""


@holds.command("create")
@click.option("--matter", required=True, help="The case or matter the hold preserves records for.")
@click.option("--reason", required=True, help="Why the records must be preserved.")
@click.option("--issuer", required=True, help="Who ordered the hold (counsel, court, agency).")
@click.option("--account", "accounts", multiple=True, help="Cover this account's records (repeatable).")
@click.option("--record", "records", multiple=True, help="Cover this record (repeatable).")
@click.option("--query", help="Cover every record a search query matches, now and captured later.")
@click.option("--from", "posted_from", type=click.DateTime(["%Y-%m-%d"]), help="Posted on or after (with --account).")
@click.option("--to", "posted_to", type=click.DateTime(["%Y-%m-%d"]), help="Posted on or before (with --account).")
@pass_context
def create(ctx: Context, matter: str, reason: str, issuer: str, accounts: tuple[str, ...],
           records: tuple[str, ...], query: str | None, posted_from: datetime | None,
           posted_to: datetime | None) -> None:
    """Place a hold."""
    archive = ctx.archive()
    with archive.catalog.read() as conn:
        account_ids = tuple(archive.catalog.find_account(conn, ref).id for ref in accounts)
    scope = ScopeSpec(accounts=account_ids, records=records, query=query,
                      posted_from=posted_from.date() if posted_from else None,
                      posted_to=posted_to.date() if posted_to else None)
    row = create_hold(archive, matter=matter, reason=reason, issuer=issuer, scope=scope, actor=ctx.actor)
    click.echo(f"hold {row.id} placed for {printable(row.matter)}")
    _sync_locks(archive)


@holds.command("list")
@click.option("--all", "include_released", is_flag=True, help="Include released holds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_(ctx: Context, include_released: bool, as_json: bool) -> None:
    """List holds."""
    archive = ctx.archive()
    with archive.catalog.read() as conn:
        rows = list_holds(conn, active_only=not include_released)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    for r in rows:
        state = "active" if r.active else f"released {r.released_at:%Y-%m-%d}"
        click.echo(f"{r.id}  {r.created_at:%Y-%m-%d}  {state:20} {printable(r.matter)[:40]:40} "
                   f"issued by {printable(r.issuer)}")


@holds.command("show")
@click.argument("hold_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def show(ctx: Context, hold_id: str, as_json: bool) -> None:
    """Show a hold and how many records it covers now."""
    archive = ctx.archive()
    row = get_hold(archive, hold_id)
    with archive.catalog.read() as conn:
        index = HoldIndex([h for h in active_holds(archive, conn) if h.id == hold_id])
        covered = 0 if index.empty else sum(1 for f in FactsReader(conn).all() if index.covering(f))
    audit(archive, actor=ctx.actor, action="hold.view", target=f"hold:{hold_id}")
    if as_json:
        emit_json({**asdict(row), "records_covered": covered})
        return
    click.echo(f"hold {row.id}: {printable(row.matter)}\n  issuer: {printable(row.issuer)}\n"
               f"  reason: {printable(row.reason)}\n  placed {row.created_at:%Y-%m-%d %H:%M}Z by {row.created_by}")
    click.echo(f"  scope: {row.scope}\n  records covered now: {covered}")
    if not row.active:
        click.echo(f"  released {row.released_at:%Y-%m-%d %H:%M}Z by {row.released_by}: "
                   f"{printable(row.release_reason)}")


@holds.command("release")
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why the hold ends (matter closed, order lifted).")
@pass_context
def release(ctx: Context, hold_id: str, reason: str) -> None:
    """Release a hold (records stay held while another hold covers them)."""
    row = release_hold(ctx.archive(), hold_id, reason=reason, actor=ctx.actor)
    click.echo(f"hold {row.id} released")
    _sync_locks(ctx.archive())


@holds.command("sync")
@pass_context
def sync(ctx: Context) -> None:
    """Make every object's Object Lock match its records: legal holds, retention to the schedule's date."""
    _sync_locks(ctx.archive())


def _sync_locks(archive: Archive) -> None:
    if not archive.store.supports_object_lock:
        return
    changes = sync_object_locks(archive)
    audit(archive, actor="arsip", action="hold.object_locks", target=None,
          details={"locked": len(changes.locked), "unlocked": len(changes.unlocked),
                   "extended": len(changes.extended), "undated": len(changes.undated)})
    click.echo(f"object locks: {len(changes.locked)} legal holds set, {len(changes.unlocked)} cleared, "
               f"{len(changes.extended)} retentions extended, {len(changes.undated)} objects hold records "
               "with no disposition date yet")


@click.group()
def retention() -> None:
    """Retention schedules, the due report and disposition."""


@retention.command("due")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Report as of this date (default today).")
@click.option("--all", "show_all", is_flag=True, help="Also list held records and those not yet due.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@pass_context
def due(ctx: Context, as_of: datetime | None, show_all: bool, as_json: bool) -> None:
    """Read-only report: what is due for destruction, transfer or review, and why."""
    archive = ctx.archive()
    now = _as_of(archive, as_of)
    schedules = schedules_in_force(archive, actor=ctx.actor)
    counts: dict[str, int] = {}
    with archive.catalog.read() as conn:
        for d in evaluate(FactsReader(conn).all(), schedules, active_holds(archive, conn), now):
            counts[f"{d.status}:{d.action}"] = counts.get(f"{d.status}:{d.action}", 0) + 1
            if d.status is Status.DUE or (show_all and d.status is Status.HELD):
                _print_decision(d, as_json)
    audit(archive, actor=ctx.actor, action="retention.due", target=None,
          details={"as_of": now.date().isoformat(), "counts": counts})
    if not as_json:
        click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no records", err=True)


def _print_decision(d: Decision, as_json: bool) -> None:
    data = asdict(d)
    if as_json:
        click.echo(json.dumps(data, default=str, ensure_ascii=False))
        return
    held = f" held by {', '.join(data['holds'])}" if data["holds"] else ""
    click.echo(f"{data['record_id']}  {data['status']:8} {data['action']:10} {data['eligible_on'] or '-'}  "
               f"{data['item_id']} ({printable(data['authority'])}){held}")


@retention.command("assign")
@click.argument("record_ids", nargs=-1, required=True)
@click.option("--item", "item_id", help="Schedule item id, e.g. nara-grs/6.4-010.")
@click.option("--clear", is_flag=True, help="Remove the assignment: the records match by their facts again.")
@click.option("--reason", required=True, help="Why (recorded and audited).")
@pass_context
def assign(ctx: Context, record_ids: tuple[str, ...], item_id: str | None, clear: bool, reason: str) -> None:
    """File records under a schedule item explicitly (overrides matching; records officers only)."""
    if clear == (item_id is not None):
        raise click.UsageError("give either --item ITEM or --clear")
    change = classify.assign(ctx.archive(), record_ids, item_id=item_id, reason=reason, actor=ctx.actor)
    click.echo(f"{len(change.records)} records " + (f"filed under {item_id}" if item_id else "match by their facts"))


@retention.command("event")
@click.argument("name")
@click.option("--account", "account_id", help="The account the event happened to (covers all its records).")
@click.option("--record", "record_ids", multiple=True, help="A record the event happened to (repeatable).")
@click.option("--at", type=click.DateTime(["%Y-%m-%d"]), help="When it happened (default today).")
@pass_context
def event(ctx: Context, name: str, account_id: str | None, record_ids: tuple[str, ...], at: datetime | None) -> None:
    """Record an event that starts a retention period (final_action, account_closed, no_longer_needed)."""
    archive = ctx.archive()
    rows = classify.record_event(archive, name, at=_as_of(archive, at), account_id=account_id,
                                 record_ids=record_ids, actor=ctx.actor)
    click.echo(f"event {name} recorded for {len(rows)} " + ("account" if account_id else "records"))


@retention.command("events")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def events(ctx: Context, as_json: bool) -> None:
    """List recorded retention events and explicit schedule assignments."""
    with ctx.archive().catalog.read() as conn:
        recorded, assigned = list_events(conn), list_assignments(conn)
    if as_json:
        emit_json({"events": [asdict(e) for e in recorded], "assignments": assigned})
        return
    for e in recorded:
        target = f"account {e.account_id}" if e.account_id else f"record {e.record_id}"
        click.echo(f"{e.at:%Y-%m-%d}  {e.name:20} {target}  (by {e.recorded_by})")
    for a in assigned:
        click.echo(f"{a['assigned_at']:%Y-%m-%d}  assigned {a['record_id']} -> {a['item_id']}  "
                   f"(by {a['assigned_by']}: {printable(a['reason'])})")


@retention.command("propose")
@click.option("--action", type=click.Choice([a.value for a in Action]), default="destroy", show_default=True)
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Due as of this date (default now).")
@pass_context
def propose(ctx: Context, action: str, as_of: datetime | None) -> None:
    """Put every record due for an action into a batch awaiting approval."""
    archive = ctx.archive()
    moment = _as_of(archive, as_of)
    row = batch_ops.propose(archive, action=Action(action), as_of=moment, actor=ctx.actor)
    click.echo(f"batch {row.id}: {(row.details or {}).get('records', 0)} records proposed for {row.action}; "
               f"it needs {archive.settings.disposition_approvers} approval(s)")


@retention.command("approve")
@click.argument("batch_id")
@click.option("--reference", help="External approval reference (required for JRA items of 10+ years: ANRI).")
@pass_context
def approve(ctx: Context, batch_id: str, reference: str | None) -> None:
    """Approve a proposed batch (records officers only)."""
    row = batch_ops.approve(ctx.archive(), batch_id, actor=ctx.actor, reference=reference)
    click.echo(f"batch {row.id} is {row.status} ({len(row.approvals)} approval(s))")


@retention.command("cancel")
@click.argument("batch_id")
@click.option("--reason", required=True)
@pass_context
def cancel(ctx: Context, batch_id: str, reason: str) -> None:
    """Cancel a batch that has not run."""
    row = batch_ops.cancel(ctx.archive(), batch_id, actor=ctx.actor, reason=reason)
    click.echo(f"batch {row.id} cancelled")


@retention.command("batches")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def batches(ctx: Context, as_json: bool) -> None:
    """List disposition batches."""
    with ctx.archive().catalog.read() as conn:
        rows = list_batches(conn)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    for r in rows:
        click.echo(f"{r.id}  {r.action:9} {r.status:16} {(r.details or {}).get('records', 0):>8} records  "
                   f"approvals {len(r.approvals)}  {r.certificate_key or ''}")


@retention.command("execute")
@click.argument("batch_id")
@click.option("--yes", is_flag=True, help="Really carry it out (without it: a dry run that changes nothing).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Transfers: write the package under this directory (default ARSIP_HOME/transfers).")
@pass_context
def execute_(ctx: Context, batch_id: str, yes: bool, out: Path | None) -> None:
    """Carry out an approved batch: re-check holds, then destroy and certify, or write the transfer package."""
    outcome = execute(ctx.archive(), batch_id, actor=ctx.actor, yes=yes, out=out)
    if outcome.action in TRANSFERS:
        _report(outcome, would=f"package for {outcome.action}", did=f"packaged for {outcome.action}")
    else:
        _report(outcome, would=outcome.action, did=Action(outcome.action).done)


@retention.command("receipt")
@click.argument("batch_id")
@click.option("--reference", required=True,
              help="The receiving archive's receipt: accession or transfer number, berita acara serah terima.")
@click.option("--manifest", type=click.File("rb"),
              help="The receiver's copy of manifest-sha256.txt; it must list exactly the files sent.")
@click.option("--yes", is_flag=True, help="Really dispose of the records here (without it: a dry run).")
@pass_context
def receipt(ctx: Context, batch_id: str, reference: str, manifest: BinaryIO | None, yes: bool) -> None:
    """Confirm a transfer's receipt: the records leave this archive, certified like a destruction."""
    returned = manifest.read(MANIFEST_LIMIT + 1) if manifest else None
    if returned is not None and len(returned) > MANIFEST_LIMIT:
        raise click.UsageError(f"--manifest is larger than {MANIFEST_LIMIT // 1_000_000} MB; give the bag's "
                               "manifest-sha256.txt, not the package")
    outcome = confirm_receipt(ctx.archive(), batch_id, actor=ctx.actor, reference=reference,
                              returned_manifest=returned, yes=yes)
    _report(outcome, would=outcome.action, did=Action(outcome.action).done)


MANIFEST_LIMIT = 200_000_000  # a manifest line is ~100 bytes: two million files


def _report(outcome: Outcome, *, would: str, did: str) -> None:
    verb = f"would {would}" if outcome.dry_run else did
    click.echo(f"batch {outcome.batch_id}: {verb} {len(outcome.destroyed)} records; skipped {len(outcome.skipped)}")
    for record_id, why in sorted(outcome.skipped.items())[:50]:
        click.echo(f"  skipped {record_id}: {why}")
    if outcome.dry_run:
        click.echo(f"  objects in the affected partitions: {len(outcome.objects_compacted)}; "
                   "run again with --yes to carry it out")
    elif outcome.package:
        click.echo(f"  package written to {outcome.package}; send it, then confirm its receipt with "
                   f"`arsip retention receipt {outcome.batch_id} --reference ...`")
    else:
        click.echo(f"  objects deleted {len(outcome.objects_deleted)}, rewritten {len(outcome.objects_compacted)}; "
                   f"certificate {outcome.certificate_key}")
    for warning in outcome.warnings:
        click.echo(f"arsip: warning: {warning}", err=True)


COMMANDS = [holds, retention]
