"""Open an object store from its URL: ``file://`` (or a plain path), ``s3://`` or ``memory://``."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from archiver.clock import Clock
from archiver.errors import ConfigError
from archiver.store.base import BadKey, BlobStore, LockDefaults, validate_key

SUPPORTED = "file:///absolute/path (or a plain path), s3://bucket/optional/prefix, memory://name"
# S3 bucket naming rules (3-63 chars, lowercase letters, digits, dots and hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def open_store(url: str, *, s3_endpoint_url: str | None = None, s3_region: str | None = None,
               object_lock_mode: str | None = None, object_lock_retain_days: int = 0,
               clock: Clock | None = None) -> BlobStore:
    """Return the store ``url`` names; the lock settings give new objects a minimum retention.

    Nothing connects here: S3 is first contacted by the first operation.
    """
    defaults = LockDefaults.from_settings(object_lock_mode, object_lock_retain_days)
    if not url.strip():
        raise ConfigError(f"the store URL is empty; use one of: {SUPPORTED}")
    if "://" not in url:
        return _file_store(Path(url), url, clock, defaults)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise ConfigError(f"store URL {_redact(url)} has a query or fragment; Arsip reads neither. "
                          f"Use one of: {SUPPORTED}")
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"store URL {_redact(url)} names host {parts.netloc!r}; file URLs "
                              "must be local: file:///absolute/path")
        return _file_store(Path(unquote(parts.path)), url, clock, defaults)
    if scheme == "s3":
        return _s3_store(url, s3_endpoint_url, s3_region, clock, defaults)
    if scheme == "memory":
        from archiver.store.memory import named_memory_store

        name = (parts.netloc + parts.path).strip("/") or "default"
        return named_memory_store(name, clock=clock, lock_defaults=defaults)
    raise ConfigError(f"unsupported store URL scheme {scheme!r} in {_redact(url)}; "
                      f"use one of: {SUPPORTED}")


def _file_store(path: Path, url: str, clock: Clock | None,
                defaults: LockDefaults | None) -> BlobStore:
    from archiver.store.file import FileStore

    if not path.is_absolute() and "://" in url:
        raise ConfigError(f"store URL {url!r} needs an absolute path: file:///absolute/path")
    return FileStore(path.expanduser(), clock=clock, lock_defaults=defaults)


def _s3_store(url: str, endpoint_url: str | None, region: str | None, clock: Clock | None,
              defaults: LockDefaults | None) -> BlobStore:
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ConfigError(f"store URL {_redact(url)} carries credentials; remove them and use "
                          "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role")
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ConfigError(f"store URL {url} has an invalid bucket name {bucket!r}; S3 buckets are "
                          "3-63 lowercase letters, digits, dots or hyphens")
    prefix = unquote(parts.path).strip("/")
    if prefix:
        try:
            validate_key(prefix)
        except BadKey as err:
            raise ConfigError(f"store URL {url} has an invalid key prefix: {err}") from err
    from archiver.store.s3 import S3Store  # keeps boto3 out until needed

    return S3Store(bucket, prefix, endpoint_url=endpoint_url or None, region=region or None,
                   clock=clock, lock_defaults=defaults)


def _redact(url: str) -> str:
    """Show a URL in a message without any user:password it carries."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
