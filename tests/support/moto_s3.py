"""An S3 endpoint on loopback for tests: moto's server mode over real HTTP, dummy credentials."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "arsip-test-key",
    "AWS_SECRET_ACCESS_KEY": "arsip-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never let boto3 read the developer's real config or ask an instance-metadata service.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3")


@contextmanager
def dummy_aws_credentials() -> Iterator[None]:
    """Set fake AWS credentials in the environment for the duration only, then restore it."""
    saved = {name: os.environ.get(name) for name in (*DUMMY_CREDENTIALS, *_CLEARED)}
    os.environ.update(DUMMY_CREDENTIALS)
    for name in _CLEARED:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """Run moto's S3 in a thread on 127.0.0.1 and a free port; yield its endpoint URL.

    moto keeps its state per process, so two servers in one test run share buckets: use
    :func:`unique_bucket_name`.
    """
    from moto.server import ThreadedMotoServer

    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # one access-log line per request drowns test output
    with dummy_aws_credentials():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()
            werkzeug_log.setLevel(level)


@contextmanager
def moto_s3_server_process() -> Iterator[str]:
    """Run moto's S3 in a child process; yield its endpoint URL.

    For measurements that must not count the server's own memory (tracemalloc sees only this
    process). Slower to start than :func:`moto_s3_server`.
    """
    port = _free_port()
    with dummy_aws_credentials():
        child = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_port(port, child)
            yield f"http://127.0.0.1:{port}"
        finally:
            child.terminate()
            child.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, child: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"moto server exited with {child.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not listen on port {port} within {timeout}s")


def unique_bucket_name(stem: str = "arsip") -> str:
    """A bucket name no other test in this process uses."""
    return f"{stem}-{uuid.uuid4().hex[:12]}"


def s3_client(endpoint_url: str) -> Any:
    """A plain boto3 client for arranging and inspecting state behind the store's back."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1")


def create_bucket(endpoint_url: str, name: str | None = None, *, object_lock: bool = True,
                  default_retention: tuple[str, int] | None = None) -> str:
    """Create a bucket (versioned with Object Lock by default) and return its name.

    ``default_retention`` is (mode, days), e.g. ("GOVERNANCE", 1). It is set while the bucket is
    still empty because moto refuses it on a non-empty bucket.
    """
    name = name or unique_bucket_name()
    client = s3_client(endpoint_url)
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
    if object_lock:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if default_retention is not None:
        mode, days = default_retention
        client.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}}})
    return name


def seed_empty_objects(bucket: str, keys: Iterable[str]) -> None:
    """Create empty objects directly in moto's in-process state, skipping HTTP.

    Only for servers from :func:`moto_s3_server` (same process); thousands of HTTP PUTs would
    make pagination tests slow, and what they test is the listing, not the writing.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for key in keys:
        backend.put_object(bucket, key, b"")


def utc_now() -> datetime:
    """The wall clock in UTC; moto judges retention against it, so tests use it too."""
    return datetime.now(UTC)
