"""One place that wires settings into real adapters: store, catalog, keys, clock (the bootstrap)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field

from archiver.clock import Clock, SystemClock, isoformat_z
from archiver.db.catalog import Catalog
from archiver.db.engine import is_in_memory, make_engine, sqlite_file
from archiver.db.migrate import require_current, upgrade
from archiver.errors import CatalogError, ConfigError, SigningKeyError
from archiver.integrity.keys import KeyRing, Signer
from archiver.integrity.merkle import MerkleFrontier
from archiver.integrity.publish import publish_public_keys
from archiver.settings import Settings
from archiver.store.base import BlobStore
from archiver.store.factory import open_store

LOG_CONFIG_KEY = "log/config.json"


@dataclass
class Archive:
    """The adapters one Arsip process works with. Build with :func:`open_archive` or :func:`init_archive`."""

    settings: Settings
    clock: Clock
    store: BlobStore
    catalog: Catalog
    keyring: KeyRing
    origin: str
    reopenable: bool = False  # another process can open the same archive from ``settings``
    _signer: Signer | None = field(default=None, repr=False)

    def signer(self) -> Signer:
        """The active signing key, decrypted once per process."""
        if self._signer is None:
            self._signer = self.keyring.active_signer()
        return self._signer

    def close(self) -> None:
        self.catalog.engine.dispose()
        self.store.close()


def open_archive(settings: Settings, *, clock: Clock | None = None, store: BlobStore | None = None) -> Archive:
    """Open an initialised archive; refuse one that `arsip init` has not prepared."""
    clock = clock or SystemClock()
    reopenable = store is None and _shared_by_processes(settings)
    database_file = sqlite_file(settings.database_url)
    if database_file is not None and not database_file.exists():
        raise CatalogError(f"no archive at {settings.home} (no catalog {database_file}); run `arsip init`, "
                           "or set ARSIP_HOME to the archive's directory", code="not_initialised")
    store = store or open_settings_store(settings, clock)
    catalog = Catalog(make_engine(settings.database_url))
    require_current(catalog.engine)
    settings.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with catalog.begin() as conn:
        head = catalog.log_head(conn)
    if head is None:
        raise ConfigError("the archive is not initialised; run `arsip init`", code="not_initialised")
    keyring = KeyRing(settings.keys_dir, settings.passphrase(), clock)
    return Archive(settings=settings, clock=clock, store=store, catalog=catalog, keyring=keyring,
                   origin=head.origin, reopenable=reopenable)


def init_archive(settings: Settings, *, clock: Clock | None = None, store: BlobStore | None = None) -> Archive:
    """Prepare ARSIP_HOME, the catalog schema, the log and a first signing key. Safe to run again."""
    clock = clock or SystemClock()
    reopenable = store is None and _shared_by_processes(settings)
    _prepare_home(settings)
    store = store or open_settings_store(settings, clock)
    catalog = Catalog(make_engine(settings.database_url))
    upgrade(catalog.engine)
    origin = _log_origin(settings, store, clock)
    with catalog.begin() as conn:
        catalog.create_log_head(conn, origin, MerkleFrontier().to_json())
    passphrase = settings.passphrase() or _create_passphrase_file(settings)
    keyring = KeyRing(settings.keys_dir, passphrase, clock)
    archive = Archive(settings=settings, clock=clock, store=store, catalog=catalog, keyring=keyring, origin=origin,
                      reopenable=reopenable)
    if not keyring.list():
        keyring.generate()
    publish_public_keys(store, catalog, keyring)
    return archive


def open_settings_store(settings: Settings, clock: Clock) -> BlobStore:
    """The configured object store, with the configured Object Lock minimum for new objects."""
    mode = None if settings.object_lock_mode == "none" else settings.object_lock_mode
    return open_store(settings.store_url, s3_endpoint_url=settings.s3_endpoint_url, s3_region=settings.s3_region,
                      object_lock_mode=mode, object_lock_retain_days=settings.object_lock_retain_days, clock=clock)


def _shared_by_processes(settings: Settings) -> bool:
    """Whether the configured store and catalog outlive this process (not ``memory://`` or in-memory SQLite)."""
    return not settings.store_url.startswith("memory:") and not is_in_memory(settings.database_url)


def _prepare_home(settings: Settings) -> None:
    home = settings.home
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if home.stat().st_mode & 0o002:
        raise ConfigError(f"ARSIP_HOME {home} is writable by everyone; run: chmod o-w {home}",
                          code="insecure_home")
    settings.spool_dir.mkdir(exist_ok=True, mode=0o700)


def _log_origin(settings: Settings, store: BlobStore, clock: Clock) -> str:
    """The log's origin is fixed at the first init and kept in the store (checkpoints name it forever)."""
    info = store.head(LOG_CONFIG_KEY)
    if info is not None:
        origin = str(json.loads(store.get_bytes(LOG_CONFIG_KEY))["origin"])
        if settings.log_origin and settings.log_origin != origin:
            raise ConfigError(f"ARSIP_LOG_ORIGIN is {settings.log_origin!r} but this archive's log is "
                              f"{origin!r}; a log's origin cannot change", code="origin_mismatch")
        return origin
    origin = settings.log_origin or f"arsip/{os.uname().nodename}"
    config = {"origin": origin, "created_at": isoformat_z(clock.now()), "hash": "sha256",
              "leaf": "sha256 of the RFC 8785 bytes of a signed envelope (RFC 6962 leaf hashing)"}
    store.put_bytes(LOG_CONFIG_KEY, json.dumps(config, indent=2).encode(), content_type="application/json",
                    if_absent=True)
    return origin


def _create_passphrase_file(settings: Settings) -> bytes:
    """With no passphrase configured, create a random one readable only by this user.

    This keeps a fresh install signing safely out of the box; production deployments should supply
    ARSIP_KEY_PASSPHRASE_FILE from their secret store (docs/operations.md says how).
    """
    if settings.key_passphrase_file:
        raise SigningKeyError(f"ARSIP_KEY_PASSPHRASE_FILE {settings.key_passphrase_file} does not exist",
                              code="passphrase_missing")
    path = settings.default_passphrase_file
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase = secrets.token_urlsafe(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(passphrase + b"\n")
    return passphrase
