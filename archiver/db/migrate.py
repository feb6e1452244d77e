"""Apply, roll back and check catalog migrations with Alembic, configured in code from Arsip's settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

import migrations
from archiver.errors import CatalogError


def _config(connection: object | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations package has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise CatalogError(f"cannot open the catalog {engine.url.render_as_string()}: {exc.orig}; check "
                           "ARSIP_DATABASE_URL, or run `arsip init` for a new archive",
                           code="catalog_unavailable") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)


def require_current(engine: Engine) -> None:
    """Refuse to work on a catalog whose schema is missing or behind this release."""
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        raise CatalogError("the catalog has not been created; run `arsip init`", code="catalog_missing")
    if current != head:
        raise CatalogError(f"the catalog schema is at {current} but this release needs {head}; "
                           "run `arsip init` to upgrade it", code="catalog_outdated")
