"""`arsip requests …`: records requests from intake to production (registered via ``arsip.commands``)."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from archiver.cli.main import Context, emit_json, fail, pass_context, printable
from export.errors import ExportError
from export.production.build import ProductionOptions
from export.production.service import produce
from export.requests import journal, service
from export.requests.case import TAGS, Case

DATE = click.DateTime(["%Y-%m-%d"])


class _RequestsGroup(click.Group):
    """Export errors become one line and exit status 1 (the archive is left as it was)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ExportError as exc:
            fail(f"{exc} [{exc.code}]", 1)


@click.group(cls=_RequestsGroup)
def requests() -> None:
    """Records requests (FOIA, CPRA, FOIL, UU KIP): intake, deadlines, scoping, redaction, productions."""


@requests.command("open")
@click.argument("number")
@click.option("--requester", required=True)
@click.option("--received", type=DATE, required=True, help="Date the request was received (YYYY-MM-DD).")
@click.option("--jurisdiction", required=True, help="us-federal, us-ca-cpra, us-ny-foil or id-uu-kip.")
@click.option("--description", required=True)
@click.option("--assign", "assigned", multiple=True, help="Staff member handling it (repeatable).")
@click.option("--expedited", is_flag=True, help="Expedited processing was requested.")
@pass_context
def open_(ctx: Context, number: str, requester: str, received: datetime, jurisdiction: str, description: str,
          assigned: tuple[str, ...], expedited: bool) -> None:
    """Register a request; prints its deadlines."""
    archive = ctx.archive()
    case = service.open_request(archive, service.Intake(
        number=number, requester=requester, received=received.date(), jurisdiction=jurisdiction,
        description=description, assigned=assigned, expedited=expedited), actor=ctx.actor)
    click.echo(f"request {case.number} opened ({case.jurisdiction})")
    _print_clocks(case, archive.clock.now().date())


@requests.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def list_(ctx: Context, as_json: bool) -> None:
    """Every request with its status and next deadline."""
    archive = ctx.archive()
    today = archive.clock.now().date()
    rows = []
    for case in journal.cases(archive):
        clocks = service.clocks(case, today) if case.status != "closed" else []
        due = min((c.due for c in clocks), default=None)
        rows.append({"number": case.number, "jurisdiction": case.jurisdiction, "status": case.status,
                     "received": case.received.isoformat(), "requester": case.requester,
                     "next_due": due.isoformat() if due else None, "scope": len(case.scope),
                     "productions": len(case.productions)})
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{printable(str(row['number']))}  {row['jurisdiction']}  {row['status']}  "
                   f"received {row['received']}  due {row['next_due'] or '-'}  {row['scope']} records  "
                   f"{row['productions']} productions")


@requests.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def show(ctx: Context, number: str, as_json: bool) -> None:
    """One request: deadlines, scope, searches, redactions, productions."""
    archive = ctx.archive()
    case = journal.load(archive, number)
    today = archive.clock.now().date()
    clocks = service.clocks(case, today) if case.status != "closed" else []
    data = _case_json(case, clocks)
    if as_json:
        emit_json(data)
        return
    click.echo(f"Request {printable(case.number)} ({case.jurisdiction}) — {case.status}")
    click.echo(f"  requester: {printable(case.requester)}; received {case.received}; "
               f"assigned: {printable(', '.join(case.assigned)) or '-'}")
    click.echo(f"  {printable(case.description)}")
    _print_clocks(case, today)
    counts = {tag: len(case.tagged(tag)) for tag in TAGS}
    click.echo(f"  scope: {len(case.scope)} records ({', '.join(f'{n} {t}' for t, n in counts.items())}); "
               f"{len(case.redactions)} redactions; {len(case.withheld)} withheld in full")
    for search in case.searches:
        click.echo(f"  search {search['at']} [{search['backend']}] {printable(search['query'])!r}: "
                   f"{search['matched']} matched, {search['added']} added")
    for production in case.productions:
        click.echo(f"  production {production.id}: {len(production.records)} documents, Bates "
                   f"{production.first_bates}-{production.last_bates}, sha256 {production.package_sha256}")


@requests.command("scope")
@click.argument("number")
@click.option("--query", help="Add every record this search matches (the query is logged with the request).")
@click.option("--record", "records", multiple=True, help="Add this record (id or platform:platform_id).")
@click.option("--ids-file", type=click.File("r"), help="Add the records listed one per line in this file.")
@pass_context
def scope(ctx: Context, number: str, query: str | None, records: tuple[str, ...], ids_file: Any) -> None:
    """Add records to the request's scope (each starts as needs_review)."""
    archive = ctx.archive()
    refs = list(records) + ([line.strip() for line in ids_file if line.strip()] if ids_file else [])
    if bool(query) == bool(refs):
        raise click.UsageError("give either --query or records (--record / --ids-file)")
    if query:
        case, matched = service.scope_from_search(archive, number, query, actor=ctx.actor)
        click.echo(f"{matched} records matched; scope is now {len(case.scope)} records")
    else:
        case = service.scope_records(archive, number, refs, actor=ctx.actor)
        click.echo(f"scope is now {len(case.scope)} records")


@requests.command("tag")
@click.argument("number")
@click.argument("tag", type=click.Choice(TAGS))
@click.option("--record", "records", multiple=True, help="Tag this record (repeatable).")
@click.option("--all-pending", is_flag=True, help="Tag every record still needing review.")
@pass_context
def tag(ctx: Context, number: str, tag: str, records: tuple[str, ...], all_pending: bool) -> None:
    """Mark records responsive, non_responsive or needs_review."""
    archive = ctx.archive()
    ids = list(records)
    if all_pending:
        ids += journal.load(archive, number).tagged("needs_review")
    if not ids:
        raise click.UsageError("name records with --record, or use --all-pending")
    service.tag(archive, number, ids, tag, actor=ctx.actor)
    click.echo(f"{len(set(ids))} records tagged {tag}")


@requests.command("suggest")
@click.argument("number")
@click.argument("record")
@click.option("--minor", "minors", multiple=True, help="Name of a minor to look for (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def suggest(ctx: Context, number: str, record: str, minors: tuple[str, ...], as_json: bool) -> None:
    """Personal data a reviewer may want to redact (nothing is redacted until accepted)."""
    found = service.suggestions(ctx.archive(), number, record, minors=minors)
    if as_json:
        emit_json([{"index": i, "record_id": f.record_id, "version": f.version, "field": f.field,
                    "start": f.suggestion.start, "end": f.suggestion.end, "kind": f.suggestion.kind,
                    "preview": f.suggestion.text_preview} for i, f in enumerate(found, start=1)])
        return
    for i, f in enumerate(found, start=1):
        click.echo(f"{i}. version {f.version} {f.field}[{f.suggestion.start}:{f.suggestion.end}] "
                   f"{f.suggestion.kind}: {printable(f.suggestion.text_preview)}")
    if not found:
        click.echo("no open suggestions")


@requests.command("accept")
@click.argument("number")
@click.argument("record")
@click.argument("index", type=int)
@click.option("--code", required=True, help="Exemption code of the request's jurisdiction, e.g. '(b)(6)'.")
@click.option("--reason", required=True, help="Foreseeable harm / uji konsekuensi.")
@pass_context
def accept(ctx: Context, number: str, record: str, index: int, code: str, reason: str) -> None:
    """Accept suggestion INDEX (from `arsip requests suggest`) as a redaction."""
    archive = ctx.archive()
    found = _suggestion(service.suggestions(archive, number, record), index)
    service.redact(archive, number, found.record_id, version=found.version, field=found.field,
                   start=found.suggestion.start, end=found.suggestion.end, code=code, reason=reason,
                   actor=ctx.actor, suggested=found.suggestion.kind)
    click.echo(f"redaction {code} recorded for version {found.version}")


@requests.command("reject")
@click.argument("number")
@click.argument("record")
@click.argument("index", type=int)
@pass_context
def reject(ctx: Context, number: str, record: str, index: int) -> None:
    """Reject suggestion INDEX: the text stays; the decision is logged."""
    archive = ctx.archive()
    found = _suggestion(service.suggestions(archive, number, record), index)
    service.reject_suggestion(archive, number, found, actor=ctx.actor)
    click.echo("suggestion rejected")


def _suggestion(found: list[service.VersionSuggestion], index: int) -> service.VersionSuggestion:
    if not 1 <= index <= len(found):
        raise click.UsageError(f"no suggestion {index}; there are {len(found)} open (see `arsip requests suggest`)")
    return found[index - 1]


@requests.command("redact")
@click.argument("number")
@click.argument("record")
@click.option("--version", "version", type=int, required=True)
@click.option("--field", default="text", show_default=True, help="Dotted field of the version document.")
@click.option("--start", type=int, help="First character to remove (0-based).")
@click.option("--end", type=int, help="Character after the last one to remove.")
@click.option("--match", help="Remove every occurrence of this exact text in the field instead of --start/--end.")
@click.option("--code", required=True, help="Exemption code of the request's jurisdiction.")
@click.option("--reason", required=True, help="Foreseeable harm / uji konsekuensi.")
@pass_context
def redact(ctx: Context, number: str, record: str, version: int, field: str, start: int | None, end: int | None,
           match: str | None, code: str, reason: str) -> None:
    """Burn out part of a version (a new derived copy is produced; the original is never touched)."""
    archive = ctx.archive()
    spans = [(start, end)] if start is not None and end is not None else []
    if bool(match) == bool(spans):
        raise click.UsageError("give either --start and --end, or --match")
    if match:
        spans = service.match_spans(archive, record, version, field, match)
    for span_start, span_end in spans:
        service.redact(archive, number, record, version=version, field=field, start=span_start, end=span_end,
                       code=code, reason=reason, actor=ctx.actor)
    click.echo(f"{len(spans)} redactions {code} recorded")


@requests.command("unredact")
@click.argument("number")
@click.argument("redaction_id")
@pass_context
def unredact(ctx: Context, number: str, redaction_id: str) -> None:
    """Withdraw a redaction decision (logged; the decision stays in the journal)."""
    service.unredact(ctx.archive(), number, redaction_id, actor=ctx.actor)
    click.echo(f"redaction {redaction_id} withdrawn")


@requests.command("withhold")
@click.argument("number")
@click.argument("record")
@click.option("--code", required=True)
@click.option("--reason", required=True, help="Why no part can be released (segregability considered).")
@pass_context
def withhold(ctx: Context, number: str, record: str, code: str, reason: str) -> None:
    """Withhold a record in full (it is listed in the withholding log, never released)."""
    service.withhold(ctx.archive(), number, record, code=code, reason=reason, actor=ctx.actor)
    click.echo(f"record withheld in full under {code}")


@requests.command("release")
@click.argument("number")
@click.argument("record")
@pass_context
def release(ctx: Context, number: str, record: str) -> None:
    """Undo a withholding in full."""
    service.release(ctx.archive(), number, record, actor=ctx.actor)
    click.echo("withholding withdrawn")


@requests.command("toll")
@click.argument("number")
@click.option("--kind", type=click.Choice(["information", "fee"]), default="information", show_default=True)
@click.option("--start", type=DATE, help="The clock stops on this date (asking the requester).")
@click.option("--end", type=DATE, help="The clock restarts on this date (the requester answered).")
@pass_context
def toll(ctx: Context, number: str, kind: str, start: datetime | None, end: datetime | None) -> None:
    """Stop or restart the response clock."""
    if bool(start) == bool(end):
        raise click.UsageError("give --start to stop the clock or --end to restart it")
    day = (start or end or datetime.min).date().isoformat()  # exactly one is given (checked above)
    data = {"toll": kind, "start": day} if start else {"end": day}
    case = service.record(ctx.archive(), number, "toll", data, actor=ctx.actor)
    _print_clocks(case, ctx.archive().clock.now().date())


@requests.command("extend")
@click.argument("number")
@click.option("--days", type=int, required=True)
@click.option("--notice", required=True, help="The written notice sent to the requester (reasons, expected date).")
@click.option("--requester-agreed", is_flag=True, help="The requester agreed to a longer timeframe.")
@pass_context
def extend(ctx: Context, number: str, days: int, notice: str, requester_agreed: bool) -> None:
    """Extend the response deadline within the jurisdiction's limit."""
    case = service.record(ctx.archive(), number, "extension",
                          {"days": days, "notice": notice, "requester_agreed": requester_agreed}, actor=ctx.actor)
    _print_clocks(case, ctx.archive().clock.now().date())


@requests.command("dates")
@click.argument("number")
@click.option("--appeal-received", type=DATE)
@click.option("--objection-received", type=DATE, help="UU KIP: keberatan to the atasan PPID received.")
@click.option("--objection-answered", type=DATE, help="UU KIP: the atasan PPID answered.")
@pass_context
def dates(ctx: Context, number: str, appeal_received: datetime | None, objection_received: datetime | None,
          objection_answered: datetime | None) -> None:
    """Record appeal / objection dates; their own clocks start."""
    given = {name: value.date().isoformat() for name, value in (
        ("appeal_received", appeal_received), ("objection_received", objection_received),
        ("objection_answered", objection_answered)) if value}
    if not given:
        raise click.UsageError("give at least one date")
    case = service.record(ctx.archive(), number, "dates", given, actor=ctx.actor)
    _print_clocks(case, ctx.archive().clock.now().date())


@requests.command("note")
@click.argument("number")
@click.argument("text")
@pass_context
def note(ctx: Context, number: str, text: str) -> None:
    service.record(ctx.archive(), number, "note", {"text": text}, actor=ctx.actor)
    click.echo("note added")


@requests.command("assign")
@click.argument("number")
@click.argument("staff", nargs=-1, required=True)
@pass_context
def assign(ctx: Context, number: str, staff: tuple[str, ...]) -> None:
    service.record(ctx.archive(), number, "assigned", {"staff": list(staff)}, actor=ctx.actor)
    click.echo(f"assigned to {printable(', '.join(staff))}")


@requests.command("produce")
@click.argument("number")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Directory for the zip.")
@click.option("--bates-prefix", help="Bates prefix (default: the request number, e.g. 'FOIA2024001-').")
@click.option("--bates-width", type=click.IntRange(4, 12), default=6, show_default=True)
@click.option("--bates-start", type=click.IntRange(1), help="First number (default: after the last production).")
@click.option("--no-pdf", is_flag=True, help="Skip the per-record PDFs (faster; load files then have no images).")
@click.option("--wacz", is_flag=True, help="Also include a WACZ web archive of the released records.")
@click.option("--record", "only", multiple=True, help="Produce only these due records (a partial production).")
@pass_context
def produce_(ctx: Context, number: str, out_dir: Path, bates_prefix: str | None, bates_width: int,
             bates_start: int | None, no_pdf: bool, wacz: bool, only: tuple[str, ...]) -> None:
    """Build the next (rolling) production: one zip, a signed BagIt bag with PDFs, load files and proofs."""
    progress = _progress_bar() if sys.stderr.isatty() else None
    options = ProductionOptions(out_dir=out_dir, bates_prefix=bates_prefix, bates_width=bates_width,
                                bates_start=bates_start, pdf=not no_pdf, wacz=wacz, only=only, progress=progress)
    _case, built = produce(ctx.archive(), number, options, actor=ctx.actor)
    if progress:
        click.echo("", err=True)
    click.echo(f"production {built.id}: {len(built.records)} documents, Bates {built.first_bates} to "
               f"{built.last_bates}")
    click.echo(f"package {built.path} ({built.bytes} bytes, sha256 {built.sha256})")


@requests.command("close")
@click.argument("number")
@click.option("--final-action", type=DATE, required=True, help="Date of the final agency action.")
@pass_context
def close(ctx: Context, number: str, final_action: datetime) -> None:
    """Close the request (its production packages' retention runs from the final action)."""
    service.close(ctx.archive(), number, final_action.date(), actor=ctx.actor)
    click.echo(f"request {number} closed")


def _progress_bar() -> Any:
    def show(done: int, total: int) -> None:
        click.echo(f"\r{done}/{total} documents ({100 * done // max(total, 1)}%)", err=True, nl=False)
    return show


def _print_clocks(case: Case, today: date) -> None:
    for clock in service.clocks(case, today):
        days = (clock.due - today).days
        when = f"in {days} days" if days >= 0 else f"OVERDUE by {-days} days"
        click.echo(f"  {clock.label}: due {clock.due} ({when}) — {clock.basis}")


def _case_json(case: Case, clocks: list[Any]) -> dict[str, Any]:
    return {
        "number": case.number, "requester": case.requester, "received": case.received.isoformat(),
        "jurisdiction": case.jurisdiction, "description": case.description, "status": case.status,
        "assigned": case.assigned, "expedited": case.expedited,
        "clocks": [{"label": c.label, "due": c.due.isoformat(), "basis": c.basis} for c in clocks],
        "scope": dict(sorted(case.scope.items())), "searches": case.searches,
        "redactions": [vars(r) for r in case.redactions.values()],
        "withheld": [vars(w) for w in case.withheld.values()], "tolls": case.tolls, "extension": case.extension,
        "notes": [{"at": at, "actor": actor, "text": text} for at, actor, text in case.notes],
        "productions": [vars(p) for p in case.productions],
        "final_action": case.final_action.isoformat() if case.final_action else None,
    }
