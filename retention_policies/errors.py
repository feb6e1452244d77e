"""The root error of the retention core and its stable codes."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes a caller matches on instead of parsing the English message."""

    POLICY_ERROR = "policy_error"
    UNREADABLE_FILE = "unreadable_file"  # a schedule path is missing, unreadable or an empty directory
    BAD_TOML = "bad_toml"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_FIELD = "missing_field"
    BAD_TYPE = "bad_type"  # a field holds the wrong TOML type (a number where text belongs, ...)
    BAD_VALUE = "bad_value"  # an enum value, code, month or kind that is not allowed
    BAD_DURATION = "bad_duration"
    DUPLICATE_ID = "duplicate_id"
    AMBIGUOUS_SCHEDULE = "ambiguous_schedule"
    UNKNOWN_ITEM = "unknown_item"
    NO_SCHEDULE = "no_schedule"
    BAD_HOLD = "bad_hold"  # a hold whose scope covers nothing, so it would silently protect no record
    NAIVE_DATETIME = "naive_datetime"


class PolicyError(Exception):
    """A schedule, hold or record the retention core cannot work with; the message says what to do.

    ``code`` is stable across releases (one of :class:`ErrorCode`) so the shell, the web layer and
    tests can match on it without parsing English.
    """

    code: str = ErrorCode.POLICY_ERROR

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
