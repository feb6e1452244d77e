"""One settings table: every setting with its type, default and help, read from a TOML file and ARSIP_* env."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from archiver.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One row of the settings table; ``capture`` marks settings that shape what a capture writes
    (they go into each capture run's settings hash, so provenance shows what produced a version)."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    secret: bool = False
    capture: bool = False

    @property
    def env(self) -> str:
        return "ARSIP_" + self.name.upper()


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    return parse


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected zero or a positive integer, got {text!r}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _in_range(text: str, low: int, high: int) -> int:
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"expected an integer from {low} to {high}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(f"expected a positive number, got {text!r}")
    return value


def _optional_str(text: str) -> str | None:
    return text or None


SETTINGS: tuple[Setting, ...] = (
    Setting("home", Path, Path("var"),
            "Directory holding the embedded catalog, objects, index, keys and spool files."),
    Setting("database_url", _optional_str, None,
            "SQLAlchemy URL of the catalog. Default: SQLite at $ARSIP_HOME/catalog.sqlite. "
            "PostgreSQL: postgresql+psycopg://user:pass@host/db."),
    Setting("store_url", _optional_str, None,
            "Object store URL: file:///path, s3://bucket/prefix or memory://name. "
            "Default: file://$ARSIP_HOME/objects."),
    Setting("s3_endpoint_url", _optional_str, None,
            "Custom S3 endpoint (MinIO, Ceph RGW, a local test server). Empty means AWS."),
    Setting("s3_region", _optional_str, None, "S3 region name."),
    Setting("object_lock_mode", _choice("none", "GOVERNANCE", "COMPLIANCE"), "none",
            "Object Lock mode for new objects when the bucket supports it."),
    Setting("object_lock_retain_days", _non_negative_int, 0,
            "Minimum retain-until, in days from writing, for new objects under Object Lock "
            "(retention schedules extend it per object)."),
    Setting("key_passphrase", _optional_str, None,
            "Passphrase that decrypts the signing keys. Prefer key_passphrase_file.", secret=True),
    Setting("key_passphrase_file", _optional_str, None,
            "File holding the signing-key passphrase (must not be readable by group or others). "
            "Default: $ARSIP_HOME/secrets/key-passphrase when it exists."),
    Setting("log_origin", _optional_str, None,
            "Identity of this archive's Merkle log in checkpoints (e.g. records.example.gov/arsip). "
            "Used once, by `arsip init`; afterwards it is read from the object store."),
    Setting("tsa_url", _optional_str, None,
            "RFC 3161 time-stamp authority URL; when set every checkpoint gets a time-stamp token."),
    Setting("tsa_roots", _optional_str, None,
            "PEM file with the root certificate(s) the time-stamp authority must chain to."),
    Setting("warc_version", _choice("1.1", "1.0"), "1.1",
            "WARC version to write: 1.1, or 1.0 for NARA transfers.", capture=True),
    Setting("warc_rollover_bytes", _positive_int, 1_000_000_000,
            "Start a new WARC file once the current one passes this size.", capture=True),
    Setting("warc_gzip_level", lambda text: _in_range(text, 1, 9), 1,
            "gzip level of WARC records (1-9). 1 is fastest; 6 makes API JSON about 8% smaller for about a "
            "fifth more capture CPU.", capture=True),
    Setting("batch_max_versions", _positive_int, 2_000,
            "Versions per committed batch; a crash loses at most one uncommitted batch.", capture=True),
    Setting("batch_max_bytes", _positive_int, 256 * 1024 * 1024,
            "WARC bytes per committed batch (media can make batches large before the version cap).",
            capture=True),
    Setting("commit_process_threshold", _non_negative_int, 1_000,
            "Batches of at least this many versions are committed in a worker process, so a large capture "
            "or import uses two CPU cores; smaller ones in a thread (starting the worker takes about a "
            "second). 0: always a thread. Needs a file or S3 store and a file or server catalog."),
    Setting("search_backend", _choice("tantivy", "whoosh"), "tantivy",
            "Search engine: tantivy (fast, the default) or whoosh (pure Python, for small archives). "
            "Its index lives under $ARSIP_HOME/index/<backend>; `arsip index rebuild` fills a new one."),
    Setting("operator", str, "",
            "The agency operating this archive, written into every WARC's warcinfo record.", capture=True),
    Setting("http_timeout", _positive_float, 30.0, "Seconds before a platform request times out."),
    Setting("http_retries", _non_negative_int, 4,
            "Retries for a failed platform request (5xx, connection errors) before giving up.", capture=True),
    Setting("rate_limit_max_wait", _non_negative_int, 900,
            "Longest wait, in seconds, for a platform rate limit to reset before the run stops and "
            "resumes next time."),
    Setting("recheck_days", _non_negative_int, 30,
            "Known items posted within this many days are re-checked every run for edits and deletions.",
            capture=True),
    Setting("media_max_bytes", _positive_int, 512 * 1024 * 1024,
            "Largest media file a collector downloads; larger ones are recorded as a problem.",
            capture=True),
    Setting("import_max_member_bytes", _positive_int, 4 * 1024**3,
            "Largest single file accepted inside a data-export archive (uncompressed)."),
    Setting("import_max_total_bytes", _positive_int, 64 * 1024**3,
            "Largest total uncompressed size accepted for a data-export archive."),
    Setting("retention_schedules", _names, ("nara-grs",),
            "Retention schedules in force, comma-separated: names of shipped sets (nara-grs, "
            "state-sample, jra-example) or paths of TOML schedule files or directories. Every record "
            "must resolve to exactly one item (docs/retention-schedules.md)."),
    Setting("records_officers", _names, (),
            "Actors allowed to approve and execute dispositions and to release holds, comma-separated "
            "(CLI actors are cli:<login name>). Empty: nobody can, so disposition stays off until set."),
    Setting("disposition_approvers", lambda text: _in_range(text, 1, 2), 1,
            "Approvals a disposition batch needs before it can run: 1, or 2 for a second approver "
            "(two different records officers)."),
    Setting("agency", str, "",
            "The agency named on certificates of destruction and transfer packages."),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}
# Variables in these namespaces are not settings: platform credentials referenced by accounts
# (credentials_ref "env:ARSIP_SECRET_…") and test-suite switches.
UNCHECKED_PREFIXES = ("ARSIP_SECRET_", "ARSIP_TEST_")


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :func:`load_settings`; defaults that depend on ``home`` are filled."""

    home: Path
    database_url: str
    store_url: str
    s3_endpoint_url: str | None
    s3_region: str | None
    object_lock_mode: str
    object_lock_retain_days: int
    key_passphrase: str | None
    key_passphrase_file: str | None
    log_origin: str | None
    tsa_url: str | None
    tsa_roots: str | None
    warc_version: str
    warc_rollover_bytes: int
    warc_gzip_level: int
    batch_max_versions: int
    batch_max_bytes: int
    commit_process_threshold: int
    search_backend: str
    operator: str
    http_timeout: float
    http_retries: int
    rate_limit_max_wait: int
    recheck_days: int
    media_max_bytes: int
    import_max_member_bytes: int
    import_max_total_bytes: int
    retention_schedules: tuple[str, ...]
    records_officers: tuple[str, ...]
    disposition_approvers: int
    agency: str

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def index_dir(self) -> Path:
        return self.home / "index" / self.search_backend

    @property
    def spool_dir(self) -> Path:
        return self.home / "spool"

    def capture_hash(self) -> str:
        """SHA-256 over the settings that shape captured bytes, recorded with every capture run."""
        shaping = {s.name: str(getattr(self, s.name)) for s in SETTINGS if s.capture}
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()

    def passphrase(self) -> bytes | None:
        """The signing-key passphrase, refusing a passphrase file others can read."""
        if self.key_passphrase:
            return self.key_passphrase.encode()
        path = Path(self.key_passphrase_file) if self.key_passphrase_file else self.default_passphrase_file
        if not path.exists():
            return None
        require_private_file(path, "the signing-key passphrase file")
        return path.read_bytes().strip()

    @property
    def default_passphrase_file(self) -> Path:
        return self.home / "secrets" / "key-passphrase"

    def public_view(self) -> dict[str, Any]:
        """Settings as shown to operators: secrets masked, paths as strings."""
        view: dict[str, Any] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if setting.secret and value:
                value = "********"
            view[setting.name] = str(value) if isinstance(value, Path) else value
        return view


def require_private_file(path: Path, what: str) -> None:
    """Refuse a secret file that group or others can read or write (an insecure default that matters)."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{what} {path} is accessible by group or others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}",
            code="insecure_file",
        )


def load_settings(environ: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None,
                  ) -> Settings:
    """Resolve settings: defaults, then the TOML file, then ARSIP_* environment, then ``overrides``.

    The TOML file is ``$ARSIP_CONFIG`` or ``$ARSIP_HOME/arsip.toml`` when present. Unknown keys in
    the file or ``ARSIP_*`` variables that name no setting are errors, because a mistyped setting
    silently ignored is how archives end up configured differently from what the operator believes.
    """
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    home = Path(env.get("ARSIP_HOME", str(raw["home"])))
    config_path = Path(env["ARSIP_CONFIG"]) if env.get("ARSIP_CONFIG") else home / "arsip.toml"
    if env.get("ARSIP_CONFIG") or config_path.exists():
        raw.update(_read_toml(config_path))
    raw.update(_read_env(env))
    raw.update(overrides or {})
    home = Path(raw["home"]).absolute()
    raw["home"] = home
    raw["database_url"] = raw["database_url"] or f"sqlite:///{home / 'catalog.sqlite'}"
    raw["store_url"] = raw["store_url"] or (home / "objects").as_uri()
    if raw["tsa_url"] and not raw["tsa_roots"]:
        raise ConfigError("ARSIP_TSA_URL is set but ARSIP_TSA_ROOTS is not: give the PEM file of the "
                          "root certificate(s) the time-stamp authority chains to", code="config_invalid")
    return Settings(**{f.name: raw[f.name] for f in fields(Settings)})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} (ARSIP_CONFIG) does not exist; fix the path or unset it",
                          code="config_missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", code="config_invalid") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        setting = _BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"config file {path}: unknown setting {key!r}; see docs/settings.md",
                              code="config_unknown")
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        values[key] = _parse(setting, text, source=f"config file {path}")
    return values


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, text in env.items():
        if not key.startswith("ARSIP_") or key == "ARSIP_CONFIG" or key.startswith(UNCHECKED_PREFIXES):
            continue
        setting = _BY_NAME.get(key[len("ARSIP_"):].lower())
        if setting is None:
            raise ConfigError(f"environment variable {key} names no setting; see docs/settings.md",
                              code="config_unknown")
        values[setting.name] = _parse(setting, text, source=f"environment variable {key}")
    return values


def _parse(setting: Setting, text: str, *, source: str) -> Any:
    try:
        return setting.parse(text)
    except ValueError as exc:
        raise ConfigError(f"{source}: bad value for {setting.name}: {exc}", code="config_invalid") from None
