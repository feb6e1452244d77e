"""Shared fixtures: a fixed clock, settings under a temporary ARSIP_HOME, an initialised archive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.clock import FixedClock
from archiver.settings import Settings, load_settings
from archiver.wiring import Archive, init_archive

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))


def make_settings(home: Path, **overrides: object) -> Settings:
    """Settings for a test archive; the real environment is ignored so a developer's ARSIP_* never leaks in."""
    environ = {"ARSIP_HOME": str(home), "ARSIP_KEY_PASSPHRASE": PASSPHRASE, "ARSIP_LOG_ORIGIN": "test.example/arsip"}
    return load_settings(environ, overrides=overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    return make_settings(home)


@pytest.fixture
def archive(settings: Settings, clock: FixedClock) -> Iterator[Archive]:
    opened = init_archive(settings, clock=clock)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    from tests.support.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalog database: SQLite, and the same tests again on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    from uuid import uuid4

    from tests.support.postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres_server_url"), f"t_{uuid4().hex[:12]}")


@pytest.fixture
def any_archive(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Archive]:
    """An initialised archive on each catalog database (file store)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    opened = init_archive(make_settings(home, database_url=database_url), clock=clock)
    yield opened
    opened.close()
