"""`arsip verify`, `arsip rebuild` and `arsip log`: the auditor's commands."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from archiver.audit import audit
from archiver.cli.main import Context, emit_json, pass_context, printable
from archiver.db.catalog import Catalog, latest_checkpoint
from archiver.db.engine import make_engine, sqlite_file
from archiver.db.leaves import CatalogLeafSource
from archiver.db.queries import find_record_id, record_detail
from archiver.integrity.merkle import MerkleFrontier, consistency_proof, inclusion_proof
from archiver.plugins import verify_package
from archiver.rebuild import rebuild_catalog
from archiver.verify.archive import verify_archive
from archiver.verify.findings import Report
from archiver.verify.record import verify_record
from archiver.wiring import open_settings_store


@click.command()
@click.argument("record", required=False)
@click.option("--archive", "whole", is_flag=True, help="Verify the whole archive from the object store.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--keys", type=click.Path(path_type=Path, dir_okay=False),
              help="PACKAGE.zip only: the public keys to trust (an `arsip keys export-public` file).")
@click.option("--tsa-roots", type=click.Path(path_type=Path, dir_okay=False),
              help="PACKAGE.zip only: PEM roots the package's time-stamp must chain to.")
@pass_context
def verify(ctx: Context, record: str | None, whole: bool, as_json: bool, keys: Path | None,
           tsa_roots: Path | None) -> None:
    """Recompute digests, signatures and Merkle proofs; exit 1 if anything fails.

    `arsip verify --archive` checks every object in the store (the catalog is only cross-checked);
    `arsip verify RECORD` checks every version of one record, including its inclusion proof;
    `arsip verify PACKAGE.zip` checks a production package offline, without the archive.
    """
    if whole == bool(record):
        raise click.UsageError("give either --archive, a RECORD id or a PACKAGE.zip")
    if record and record.endswith(".zip"):
        sys.exit(verify_package(Path(record), keys=keys, tsa_roots=tsa_roots, as_json=as_json))
    if keys or tsa_roots:
        raise click.UsageError("--keys and --tsa-roots apply to a PACKAGE.zip only")
    archive = ctx.archive()
    if whole:
        tsa_roots = Path(archive.settings.tsa_roots) if archive.settings.tsa_roots else None
        report = verify_archive(archive.store, origin=archive.origin, catalog=archive.catalog,
                                tsa_roots=tsa_roots)
        target = "archive"
    else:
        report = verify_record(archive, record or "")
        target = f"record:{record}"
    audit(archive, actor=ctx.actor, action="verify", target=target, outcome="ok" if report.ok else "failed",
          details={"checked": dict(report.checked), "findings": len(report.findings)})
    _print_report(report, as_json)
    if not report.ok:
        sys.exit(1)


def _print_report(report: Report, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_json())
        return
    for finding in report.findings:
        click.echo(printable(finding.line()), err=True)
    checked = ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in sorted(report.checked.items()))
    click.echo(f"{'OK' if report.ok else 'FAILED'}: checked {checked}")


@click.command()
@click.option("--replace", is_flag=True, help="Move an existing SQLite catalog aside first.")
@pass_context
def rebuild(ctx: Context, replace: bool) -> None:
    """Recreate the catalog from the object store alone (it re-verifies every batch on the way)."""
    settings = ctx.settings
    if replace:
        current = sqlite_file(settings.database_url)
        if current is None:
            raise click.UsageError("--replace only moves SQLite files; give rebuild an empty PostgreSQL database")
        if current.exists():
            backup = current.with_name(f"{current.name}.before-rebuild-{ctx.clock.now():%Y%m%dT%H%M%SZ}")
            shutil.move(current, backup)
            for suffix in ("-wal", "-shm"):
                Path(f"{current}{suffix}").unlink(missing_ok=True)
            click.echo(f"moved the old catalog to {backup}")
    store = open_settings_store(settings, ctx.clock)
    catalog = Catalog(make_engine(settings.database_url))
    try:
        result = rebuild_catalog(store, catalog)
    finally:
        catalog.engine.dispose()
    archive = ctx.archive()
    audit(archive, actor=ctx.actor, action="catalog.rebuild", target=settings.database_url.split("@")[-1],
          details=result.counts)
    click.echo("rebuilt: " + ", ".join(f"{v} {k}" for k, v in result.counts.items()))


@click.group()
def log() -> None:
    """The Merkle log: its state and proofs for auditors."""


@log.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def log_status(ctx: Context, as_json: bool) -> None:
    """Log size, root and the latest signed checkpoint."""
    archive = ctx.archive()
    with archive.catalog.begin() as conn:
        head = archive.catalog.log_head(conn)
        checkpoint = latest_checkpoint(conn)
    assert head is not None
    data = {"origin": head.origin, "size": head.size, "root": MerkleFrontier.from_json(head.frontier).root().hex(),
            "checkpoint": checkpoint.key if checkpoint else None,
            "checkpoint_size": checkpoint.size if checkpoint else None}
    if as_json:
        emit_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:16} {value}")


@log.command("prove")
@click.argument("record")
@click.option("--version", "number", type=int, help="Version number (default: every version).")
@pass_context
def log_prove(ctx: Context, record: str, number: int | None) -> None:
    """Print inclusion proofs (JSON) of a record's versions against the latest checkpoint."""
    archive = ctx.archive()
    with archive.catalog.begin() as conn:
        checkpoint = latest_checkpoint(conn)
        if checkpoint is None:
            raise click.ClickException("no checkpoint yet: run a capture first")
        detail = record_detail(conn, find_record_id(conn, record))
        source = CatalogLeafSource(conn)
        proofs = [{"version": v.number, "log_index": v.log_index, "leaf": v.envelope_sha256,
                   "tree_size": checkpoint.size, "checkpoint": checkpoint.key,
                   "inclusion_proof": [h.hex() for h in inclusion_proof(source, v.log_index, checkpoint.size)]}
                  for v in detail.versions if (number is None or v.number == number) and v.log_index < checkpoint.size]
    emit_json(proofs)


@log.command("consistency")
@click.argument("old_size", type=click.IntRange(1))
@click.argument("new_size", type=click.IntRange(1))
@pass_context
def log_consistency(ctx: Context, old_size: int, new_size: int) -> None:
    """Print a consistency proof between two log sizes (JSON)."""
    archive = ctx.archive()
    with archive.catalog.begin() as conn:
        proof = consistency_proof(CatalogLeafSource(conn), old_size, new_size)
    emit_json({"old_size": old_size, "new_size": new_size, "proof": [h.hex() for h in proof]})


COMMANDS = [verify, rebuild, log]
