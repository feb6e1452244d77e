"""Engine construction for the catalog: SQLite tuned for one writer and many readers, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE_OPTION = "arsip_write"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; nothing connects until first use.

    SQLite gets WAL (readers never block the writer), foreign keys on, and a busy timeout so a
    second process waits for the single writer instead of failing at once.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate) instead of pysqlite's lazy one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # The default 2 MB page cache makes inserts into a million-row catalog's indexes (keyed by
    # random-looking record ids) read from disk; 64 MB keeps the hot index pages in memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # pysqlite's implicit transactions start late and break SAVEPOINTs; begin explicitly instead.
    # A write transaction takes the write lock up front (IMMEDIATE): in WAL mode a transaction that
    # reads and then writes after another writer committed fails at once with SQLITE_BUSY_SNAPSHOT,
    # which no busy timeout can help, whereas waiting for the lock at BEGIN does.
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def is_in_memory(url: str) -> bool:
    """Whether the database lives only in this process (in-memory SQLite)."""
    return make_url(url).get_backend_name() == "sqlite" and sqlite_file(url) is None
