"""A throwaway PostgreSQL server for the test session, started from Debian's own binaries.

Set ARSIP_TEST_POSTGRES_URL to use an existing server instead. There is deliberately no silent
skip: the catalog must be proven on PostgreSQL, so a missing server is a loud failure that says
what to install (`.ci/install-system-deps`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user() -> list[str]:
    # initdb refuses to run as root; CI runs as root, so drop to the postgres system user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL of an empty database on a fresh server (unix socket only)."""
    if os.environ.get("ARSIP_TEST_POSTGRES_URL"):
        yield os.environ["ARSIP_TEST_POSTGRES_URL"]
        return
    bindir = _binaries()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found: run .ci/install-system-deps (installs Debian's "
                    "postgresql) or set ARSIP_TEST_POSTGRES_URL", pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="arsip-pg-"))
    data, sockets = base / "data", base / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    prefix = _as_postgres_user()
    port = _free_port()
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "arsip", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    options = f"-k {sockets} -p {port} -c listen_addresses='' -c fsync=off"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                    str(base / "server.log"), "start"], check=True, capture_output=True)
    try:
        subprocess.run([*prefix, str(bindir / "createdb"), "-h", str(sockets), "-p", str(port), "-U", "arsip",
                        "arsip_test"], check=True, capture_output=True)
        yield f"postgresql+psycopg://arsip@/arsip_test?host={sockets}&port={port}"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(server_url: str, name: str) -> str:
    """Create an empty database on the same server as ``server_url`` and return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
