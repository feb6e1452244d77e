"""Object key rules: what a safe, portable object name looks like (also the path-traversal guard)."""

from __future__ import annotations

from archiver.errors import StoreError

MAX_KEY_BYTES = 1024
# Names starting with this belong to the stores' own bookkeeping (file store sidecars, temp files).
RESERVED_PREFIX = ".arsip-"


class BadKey(StoreError):
    """A key is not a safe relative object name (traversal, control characters, too long)."""

    code = "bad_key"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object name, else raise :class:`BadKey`.

    Keys are relative, ``/``-separated, at most 1024 UTF-8 bytes, without empty, ``.`` or ``..``
    segments, backslashes, control characters or segments starting with ``.arsip-`` (reserved
    for store bookkeeping). This is the file store's path-traversal guard, so it is strict.
    """
    if not isinstance(key, str) or not key:
        raise BadKey(f"object key {key!r} is empty or not a string; keys are non-empty text")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError as err:
        raise BadKey(f"object key {key!r} is not valid Unicode text ({err.reason})") from err
    if len(encoded) > MAX_KEY_BYTES:
        raise BadKey(f"object key {key[:60]!r}... is {len(encoded)} bytes; the limit is {MAX_KEY_BYTES}")
    bad_char = next((ch for ch in key if _is_control(ch) or ch == "\\"), None)
    if bad_char is not None:
        raise BadKey(f"object key {key!r} contains {bad_char!r}; use printable characters and '/'")
    if key.startswith("/"):
        raise BadKey(f"object key {key!r} is absolute; keys are relative to the store root")
    for segment in key.split("/"):
        _check_segment(key, segment)
    return key


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F


def _check_segment(key: str, segment: str) -> None:
    if segment == "":
        raise BadKey(f"object key {key!r} has an empty segment (leading, trailing or double '/')")
    if segment in (".", ".."):
        raise BadKey(f"object key {key!r} contains a '{segment}' segment; path traversal is refused")
    if segment.lower().startswith(RESERVED_PREFIX):
        raise BadKey(f"object key {key!r} uses the reserved segment prefix {RESERVED_PREFIX!r}")


def validate_prefix(prefix: str) -> str:
    """Check a listing prefix: a key prefix that may end inside a segment or with ``/``."""
    if prefix:
        try:
            validate_key(prefix + "x")
        except BadKey as err:
            raise BadKey(f"listing prefix {prefix!r} is not a valid key prefix: {err}") from err
    return prefix


def is_valid_key(key: str) -> bool:
    """True if :func:`validate_key` accepts ``key``; for skipping foreign names in listings."""
    try:
        validate_key(key)
    except BadKey:
        return False
    return True
