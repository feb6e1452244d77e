"""Load schedule TOML files into one validated, unambiguous, fingerprinted ScheduleSet (the core's only I/O)."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retention_policies.errors import ErrorCode, PolicyError
from retention_policies.model import ScheduleItem, ScheduleSet
from retention_policies.overlap import overlapping_pairs
from retention_policies.schedule_file import ScheduleHeader, parse_header, parse_items

# Bumped only if the canonical form below changes, so old and new fingerprints never collide.
FINGERPRINT_FORMAT = "arsip-retention-schedules/1"


def builtin_schedule_dir() -> Path:
    """Where the shipped schedule files live (package data)."""
    return Path(__file__).resolve().parent / "schedules"


def builtin_schedules(names: Sequence[str]) -> ScheduleSet:
    """Load shipped sets by name, e.g. ``builtin_schedules(["nara-grs"])``."""
    directory = builtin_schedule_dir()
    known = sorted(path.stem for path in directory.glob("*.toml"))
    for name in names:
        if name not in known:
            raise PolicyError(f"no shipped schedule named {name!r}; use one of {', '.join(known)} or load your own "
                              "file with load_schedules", code=ErrorCode.UNREADABLE_FILE)
    return load_schedules([directory / f"{name}.toml" for name in names])


def load_schedules(paths: Sequence[Path]) -> ScheduleSet:
    """Load every schedule file (a ``.toml`` path, or a directory whose ``*.toml`` files are read in
    name order) into one set. Fails on the first problem, naming file, item and field."""
    headers: list[ScheduleHeader] = []
    items: list[ScheduleItem] = []
    origin: dict[str, str] = {}  # item id -> file, for messages naming both sides of a clash
    for file in _schedule_files(paths):
        document = _read(file)
        header = parse_header(document, str(file))
        headers.append(header)
        for item in parse_items(document, header, str(file)):
            if item.id in origin:
                raise PolicyError(f"{file}: item {item.code}: field code: {item.id} is already defined in "
                                  f"{origin[item.id]}; give each item a unique code and each file a unique "
                                  "schedule id", code=ErrorCode.DUPLICATE_ID)
            origin[item.id] = str(file)
            items.append(item)
    _refuse_overlaps(items, origin)
    return ScheduleSet(tuple(items), fingerprint(headers, items))


def _schedule_files(paths: Sequence[Path]) -> list[Path]:
    if not paths:
        raise PolicyError("no schedule files given; pass at least one .toml file or directory",
                          code=ErrorCode.UNREADABLE_FILE)
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise PolicyError(f"{path}: directory holds no .toml schedule files; add one or pass the file "
                                  "itself", code=ErrorCode.UNREADABLE_FILE)
            files.extend(found)
        else:
            files.append(path)
    return files


def _read(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{file}: cannot be read ({exc.__class__.__name__}: {exc}); check the path and that "
                          "it is a UTF-8 text file", code=ErrorCode.UNREADABLE_FILE) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{file}: not valid TOML ({exc}); fix the syntax at that place",
                          code=ErrorCode.BAD_TOML) from exc


def _refuse_overlaps(items: Sequence[ScheduleItem], origin: dict[str, str]) -> None:
    pairs = list(overlapping_pairs(items))
    if not pairs:
        return
    first, second = pairs[0]
    more = f" (and {len(pairs) - 1} more overlapping pairs)" if len(pairs) > 1 else ""
    raise PolicyError(
        f"{origin[first.id]}: item {first.code}: items {first.id} and {second.id} (in {origin[second.id]}) can both "
        f"match the same record{more}; narrow their platforms, kinds, comments, account_tags or record_ids so every "
        "record matches exactly one item, or load only one of the schedules", code=ErrorCode.AMBIGUOUS_SCHEDULE)


def fingerprint(headers: Sequence[ScheduleHeader], items: Sequence[ScheduleItem]) -> str:
    """sha256 over the canonical meaning of the schedules: independent of file names, file order, key
    order, comments and whitespace, but changed by any edit to a field that affects a record."""
    canonical = {
        "format": FINGERPRINT_FORMAT,
        "schedules": sorted((_header_json(header) for header in headers), key=lambda h: h["id"]),
        "items": sorted((_item_json(item) for item in items), key=lambda i: i["id"]),
    }
    data = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _header_json(header: ScheduleHeader) -> dict[str, str]:
    return {"id": header.id, "title": header.title, "framework": str(header.framework), "version": header.version,
            "source": header.source, "description": header.description}


def _item_json(item: ScheduleItem) -> dict[str, Any]:
    scope = item.applies_to
    return {
        "id": item.id, "schedule_id": item.schedule_id, "title": item.title, "authority": item.authority,
        "platforms": sorted(scope.platforms), "account_tags": sorted(scope.account_tags),
        "excluded_account_tags": sorted(scope.excluded_account_tags), "kinds": sorted(scope.kinds),
        "comments": str(scope.comments), "record_ids": sorted(scope.record_ids),
        "cutoff": str(item.cutoff.kind), "fiscal_year_start_month": item.cutoff.fiscal_year_start_month,
        "cutoff_event": item.cutoff.event, "retention": item.retention.iso(),
        "inactive": None if item.inactive is None else item.inactive.iso(), "action": str(item.action),
        "security_class": item.security_class, "vital": item.vital, "age_from": str(item.age_from),
        "framework": str(item.framework),
    }
