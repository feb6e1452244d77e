"""`arsip keys generate|list|rotate|export-public`."""

from __future__ import annotations

import click

from archiver.audit import audit
from archiver.cli.main import Context, emit_json, pass_context
from archiver.integrity.publish import publish_public_keys


@click.group()
def keys() -> None:
    """Signing keys (Ed25519; private keys encrypted with the passphrase)."""


@keys.command()
@pass_context
def generate(ctx: Context) -> None:
    """Create the first signing key (`arsip init` does this; use rotate afterwards)."""
    archive = ctx.archive()
    info = archive.keyring.generate()
    publish_public_keys(archive.store, archive.catalog, archive.keyring)
    audit(archive, actor=ctx.actor, action="key.generate", target=f"key:{info.key_id}")
    click.echo(f"generated signing key {info.key_id}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def list_keys(ctx: Context, as_json: bool) -> None:
    """List signing keys, active and retired."""
    infos = ctx.archive().keyring.list()
    if as_json:
        emit_json([i.to_json() for i in infos])
        return
    for info in infos:
        retired = f" retired {info.retired_at:%Y-%m-%d}" if info.retired_at else ""
        click.echo(f"{info.key_id}  {info.status:8} created {info.created_at:%Y-%m-%d}{retired}")


@keys.command()
@pass_context
def rotate(ctx: Context) -> None:
    """Make a new active key; old keys stay published so old signatures keep verifying."""
    archive = ctx.archive()
    old = archive.keyring.active()
    info = archive.keyring.rotate()
    publish_public_keys(archive.store, archive.catalog, archive.keyring)
    audit(archive, actor=ctx.actor, action="key.rotate", target=f"key:{info.key_id}",
          details={"retired": old.key_id if old else None})
    click.echo(f"rotated: new active key {info.key_id}" + (f", {old.key_id} retired" if old else ""))


@keys.command("export-public")
@pass_context
def export_public(ctx: Context) -> None:
    """Print every public key as JSON (give this to auditors)."""
    emit_json(ctx.archive().keyring.export_public())


COMMANDS = [keys]
