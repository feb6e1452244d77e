"""`arsip records list|show`: what the archive holds, with each record's version history."""

from __future__ import annotations

from dataclasses import asdict

import click

from archiver.audit import audit
from archiver.capture.document import read_document
from archiver.cli.main import Context, emit_json, pass_context, printable
from archiver.db.queries import find_record_id, list_records, record_detail
from archiver.db.retention_rows import tombstone
from archiver.model import RecordKind, VersionState
from retention_policies.model import Action


def _clip(text: str, width: int) -> str:
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@click.group()
def records() -> None:
    """Archived records and their versions."""


@records.command("list")
@click.option("--account", "account_ref", help="Only this account (id, handle or URL).")
@click.option("--state", type=click.Choice([s.value for s in VersionState]), help="Only records in this state.")
@click.option("--kind", type=click.Choice([k.value for k in RecordKind]), help="Only records of this kind.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_(ctx: Context, account_ref: str | None, state: str | None, kind: str | None, limit: int, offset: int,
          as_json: bool) -> None:
    """List records, newest first."""
    archive = ctx.archive()
    with archive.catalog.begin() as conn:
        account_id = archive.catalog.find_account(conn, account_ref).id if account_ref else None
        found = list_records(conn, account_id=account_id, state=state, kind=kind, limit=limit, offset=offset)
    audit(archive, actor=ctx.actor, action="records.list", target=f"account:{account_id}" if account_id else None,
          details={"state": state, "kind": kind, "limit": limit, "offset": offset, "returned": len(found)})
    if as_json:
        emit_json([asdict(r) for r in found])
        return
    for r in found:
        posted = r.posted_at.strftime("%Y-%m-%d %H:%M") if r.posted_at else "-"
        click.echo(f"{r.id}  {posted}  {r.kind:8} v{r.latest_version:<3} {r.latest_state:8} "
                   f"{printable(r.author or '-')[:28]:28} {_clip(r.text, 60)}")


@records.command("show")
@click.argument("record")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, including each version's document.")
@pass_context
def show(ctx: Context, record: str, as_json: bool) -> None:
    """Show a record and every version of it (id, or platform:platform_id)."""
    archive = ctx.archive()
    with archive.catalog.begin() as conn:
        detail = record_detail(conn, find_record_id(conn, record))
        gone = tombstone(conn, detail.record.id)
    audit(archive, actor=ctx.actor, action="record.view", target=f"record:{detail.record.id}")
    if as_json:
        data = asdict(detail)
        data["tombstone"] = gone
        for version, shown in zip(detail.versions, data["versions"], strict=True):
            if gone:  # the content left the archive; the digests and the log entry remain
                continue
            shown["document"] = read_document(archive.store, version.warc_key, version.warc_offset,
                                              version.warc_length, version.content_sha256)
        emit_json(data)
        return
    r = detail.record
    click.echo(f"record {r.id}  {r.platform} {printable(r.platform_id)}  ({r.kind}, by "
               f"{printable(r.author) or 'unknown'})")
    click.echo(f"url: {printable(detail.url) or '-'}   parent: {printable(detail.parent_platform_id) or '-'}")
    click.echo(f"first seen {detail.first_seen_at:%Y-%m-%d %H:%M:%S}Z, "
               f"last seen {detail.last_seen_at:%Y-%m-%d %H:%M:%S}Z")
    if gone:
        done = Action(gone["action"]).done
        click.echo(f"{done} {gone['executed_at']:%Y-%m-%d %H:%M:%S}Z by disposition {gone['batch_id']} under "
                   f"{gone['item_id']} ({printable(gone['authority'])}); certificate {gone['certificate_key']}")
    for v in detail.versions:
        why = f" ({v.reason}, {v.detection})" if v.reason else ""
        click.echo(f"\n  v{v.number} {v.state}{why} captured {v.captured_at:%Y-%m-%d %H:%M:%S}Z run {v.run_id}")
        click.echo(f"     log entry {v.log_index}, envelope {v.envelope_sha256[:16]}…, key {v.key_id}")
        click.echo(f"     {v.warc_key} @ {v.warc_offset}+{v.warc_length}")
        if v.text:
            for line in v.text.splitlines()[:20]:
                click.echo(f"     | {printable(line)}")


COMMANDS = [records]
