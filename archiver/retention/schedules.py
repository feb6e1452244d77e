"""The schedules in force: loaded from the settings, versioned in the object store, changes audited.

Eligibility dates are never stored; they are computed from the schedules in force every time, so a
schedule change recomputes them all. What is kept is each version of the schedule files
(``retention/schedules/<fingerprint>.json``) and an audit entry when the fingerprint changes, so an
auditor can see which rules applied on any date.
"""

from __future__ import annotations

import json
from pathlib import Path

from archiver.audit import audit
from archiver.clock import isoformat_z
from archiver.errors import ConfigError
from archiver.wiring import Archive
from retention_policies.loader import builtin_schedule_dir, load_schedules
from retention_policies.model import ScheduleSet

SCHEDULES_PREFIX = "retention/schedules/"
CURRENT_KEY = "retention/schedules/current.json"


def schedule_paths(names: tuple[str, ...]) -> list[Path]:
    """Shipped set names (``nara-grs``) or paths of TOML files or directories."""
    paths = []
    for name in names:
        shipped = builtin_schedule_dir() / f"{name}.toml"
        path = shipped if shipped.exists() else Path(name)
        if not path.exists():
            raise ConfigError(f"retention schedule {name!r} is neither a shipped set nor an existing path; "
                              "fix ARSIP_RETENTION_SCHEDULES", code="schedule_missing")
        paths.append(path)
    return paths


def schedules_in_force(archive: Archive, *, actor: str) -> ScheduleSet:
    """Load the configured schedules; record a new version (and audit it) when they changed."""
    paths = schedule_paths(archive.settings.retention_schedules)
    schedules = load_schedules(paths)
    key = f"{SCHEDULES_PREFIX}{schedules.fingerprint}.json"
    if archive.store.head(key) is None:
        files = {str(p): p.read_text(encoding="utf-8") for path in paths for p in _files(path)}
        snapshot = {"fingerprint": schedules.fingerprint, "recorded_at": isoformat_z(archive.clock.now()),
                    "items": [item.id for item in schedules.items], "files": files}
        archive.store.put_bytes(key, json.dumps(snapshot, indent=1, ensure_ascii=False).encode(),
                                content_type="application/json", if_absent=True)
        previous = _current(archive)
        archive.store.put_bytes(CURRENT_KEY, json.dumps({"fingerprint": schedules.fingerprint}).encode(),
                                content_type="application/json")
        audit(archive, actor=actor, action="retention.schedules_changed", target=f"schedules:{schedules.fingerprint}",
              details={"previous": previous, "items": len(schedules.items),
                       "sources": list(archive.settings.retention_schedules)})
    return schedules


def _current(archive: Archive) -> str | None:
    if archive.store.head(CURRENT_KEY) is None:
        return None
    return str(json.loads(archive.store.get_bytes(CURRENT_KEY))["fingerprint"])


def _files(path: Path) -> list[Path]:
    return sorted(path.glob("*.toml")) if path.is_dir() else [path]
