"""`arsip search` and `arsip index status|rebuild` (registered through the ``arsip.commands`` entry point)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

import click

from archiver.audit import audit
from archiver.cli.main import Context, emit_json, fail, pass_context, printable
from archiver.db.saved_rows import list_saved
from archiver.saved_searches import delete_search, save_search
from search.backends.base import Sort
from search.errors import QuerySyntaxError, SearchError
from search.hooks import indexer_for
from search.query.parser import parse_query
from search.saved import run_saved
from search.service import SearchRequest, SearchResults, run_search

F = TypeVar("F", bound=Callable[..., Any])
_SPACES = re.compile(r"\s+")  # line breaks in archived text would break the one-hit-per-block layout


def search_errors(command: F) -> F:
    """One line and exit code 2 for a bad query, 1 for other search problems; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except QuerySyntaxError as exc:
            fail(str(exc), 2)
        except SearchError as exc:
            fail(str(exc), 1)

    return wrapper  # type: ignore[return-value]


@click.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Search only the versions current at the end of this day (UTC).")
@click.option("--sort", type=click.Choice([s.value for s in Sort]), default=Sort.RELEVANCE.value, show_default=True)
@click.option("--cursor", help="Continue from the cursor printed under the previous page.")
@click.option("--facets", is_flag=True, help="Also count hits per platform, account, kind, state and year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
@search_errors
def search(ctx: Context, query: str, limit: int, as_of: Any, sort: str, cursor: str | None, facets: bool,
           as_json: bool) -> None:
    """Search every version of every record, e.g. `arsip search 'budget w/5 road date:2024'`.

    The query language is described in docs/search.md.
    """
    archive = ctx.archive()
    indexer = indexer_for(archive)
    try:
        behind = indexer.behind()
        request = SearchRequest(text=query, as_of=as_of.date() if as_of else None, sort=Sort(sort), limit=limit,
                                cursor=cursor, facets=facets)
        results = run_search(archive.catalog, indexer.backend, request)
    finally:
        indexer.backend.close()
    audit(archive, actor=ctx.actor, action="search", target=None,
          details={"query": query, "backend": results.backend, "as_of": str(results.as_of) if results.as_of else None,
                   "sort": sort, "total": results.total, "returned": len(results.hits)})
    if as_json:
        emit_json({**asdict(results), "index_behind": behind})
        return
    _print(results, behind)


def _print(results: SearchResults, behind: int) -> None:
    if behind:
        click.echo(f"note: the index is {behind:,} versions behind the archive; run `arsip index update`", err=True)
    as_of = f" as of {results.as_of}" if results.as_of else ""
    click.echo(f"{results.total:,} records{as_of} ({results.backend}, {results.took_ms:.0f} ms)")
    for hit in results.hits:
        posted = hit.posted_at.strftime("%Y-%m-%d") if hit.posted_at else "-"
        versions = ",".join(f"v{n}" for n in hit.matched_versions) or "-"
        click.echo(f"\n{hit.record_id}  {posted}  {hit.platform} {hit.kind} {hit.latest_state}  "
                   f"{printable(hit.author or '-')}  matched {versions}")
        click.echo("  " + "".join(f"[{printable(text)}]" if marked else printable(_SPACES.sub(" ", text))
                                  for text, marked in hit.snippet))
    if results.facets:
        for name, counts in results.facets.items():
            shown = ", ".join(f"{printable(value)} {count:,}" for value, count in counts.items())
            click.echo(f"\n{name}: {shown or '-'}")
    if results.next_cursor:
        click.echo(f"\nmore: --cursor {results.next_cursor}")


@click.group()
def index() -> None:
    """The search index (derived from the catalog; safe to rebuild at any time)."""


@index.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
@search_errors
def status(ctx: Context, as_json: bool) -> None:
    """How far the index has caught up with the archive's log."""
    indexer = indexer_for(ctx.archive())
    try:
        report = indexer.status()
    finally:
        indexer.backend.close()
    if as_json:
        emit_json({**asdict(report), "behind": report.behind})
        return
    click.echo(f"{report.backend} index: {report.indexed_upto:,} of {report.log_size:,} log entries indexed "
               f"({report.behind:,} behind), {report.records_indexed:,} records")


@index.command("update")
@pass_context
@search_errors
def update(ctx: Context) -> None:
    """Index what the archive gained since the last update (runs after every capture anyway)."""
    _run(ctx, rebuild=False)


@index.command("rebuild")
@pass_context
@search_errors
def rebuild(ctx: Context) -> None:
    """Rebuild the index from the catalog."""
    _run(ctx, rebuild=True)


def _run(ctx: Context, *, rebuild: bool) -> None:
    archive = ctx.archive()
    indexer = indexer_for(archive)
    try:
        report = indexer.rebuild() if rebuild else indexer.catch_up()
    finally:
        indexer.backend.close()
    audit(archive, actor=ctx.actor, action="index.rebuild" if rebuild else "index.update", target=None,
          details={"backend": report.backend, "indexed_upto": report.indexed_upto})
    click.echo(f"{report.backend} index: {report.indexed_upto:,} of {report.log_size:,} log entries indexed, "
               f"{report.records_indexed:,} records")


@click.group()
def searches() -> None:
    """Saved searches: name a query, re-run it, see what is new since the last run."""


@searches.command("save")
@click.argument("name")
@click.argument("query")
@click.option("--owner", help="Whose search this is (default: you).")
@pass_context
@search_errors
def save(ctx: Context, name: str, query: str, owner: str | None) -> None:
    """Save QUERY under NAME (saving an existing name changes its query)."""
    parse_query(query)  # refuse a query that would never run
    row = save_search(ctx.archive(), name=name, owner=owner or ctx.actor, query=query, actor=ctx.actor)
    click.echo(f"saved search {printable(row.name)!r} (revision {row.revision})")


@searches.command("list")
@click.option("--owner", help="Only this owner's searches.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_(ctx: Context, owner: str | None, as_json: bool) -> None:
    """List saved searches and when each last ran."""
    with ctx.archive().catalog.read() as conn:
        rows = list_saved(conn, owner)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    for row in rows:
        last = f"{row.last_run_at:%Y-%m-%d %H:%M}Z" if row.last_run_at else "never run"
        click.echo(f"{printable(row.owner)}  {printable(row.name)}  ({last})  {printable(row.query)}")


@searches.command("run")
@click.argument("name")
@click.option("--owner", help="Whose search (default: you).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
@search_errors
def run(ctx: Context, name: str, owner: str | None, as_json: bool) -> None:
    """Run a saved search: newest hits, and the records with new matching versions since the last run."""
    archive = ctx.archive()
    indexer = indexer_for(archive)
    try:
        outcome = run_saved(archive, indexer.backend, owner=owner or ctx.actor, name=name)
    finally:
        indexer.backend.close()
    audit(archive, actor=ctx.actor, action="saved_search.run", target=f"saved_search:{outcome.saved.id}",
          details={"query": outcome.saved.query, "total": outcome.results.total, "new": len(outcome.new_records)})
    if as_json:
        emit_json({**asdict(outcome)})
        return
    since = "ever (first run)" if outcome.first_run else "since the last run"
    click.echo(f"{len(outcome.new_records):,} records with new matching versions {since}")
    for record_id in outcome.new_records[:50]:
        click.echo(f"  new: {record_id}")
    _print(outcome.results, 0)


@searches.command("remove")
@click.argument("name")
@click.option("--owner", help="Whose search (default: you).")
@pass_context
def remove(ctx: Context, name: str, owner: str | None) -> None:
    """Remove a saved search (its earlier revisions stay in the object store)."""
    delete_search(ctx.archive(), name=name, owner=owner or ctx.actor, actor=ctx.actor)
    click.echo(f"removed saved search {printable(name)!r}")
