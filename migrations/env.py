"""Alembic environment: the URL and connection come from Arsip (archiver.db.migrate), never a config file."""

from __future__ import annotations

from typing import Any

from alembic import context

from archiver.db.schema import Base, UTCDateTime

config = context.config


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import model code (models change, migrations must not), so render our
    # UTC wrapper type as the plain column type it stores.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `arsip init` / archiver.db.migrate, which pass a connection")
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
