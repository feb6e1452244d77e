"""The root of every error the evidence core raises, each with a stable code."""

from __future__ import annotations


class ArchiverError(Exception):
    """A problem the operator can act on; the message says what to do.

    ``code`` is stable across releases so scripts, the web layer and tests can match on it
    without parsing English.
    """

    code: str = "archiver_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(ArchiverError):
    """Settings are missing, malformed or unsafe."""

    code = "config_error"


class StoreError(ArchiverError):
    """The object store refused or failed an operation."""

    code = "store_error"


class ObjectNotFound(StoreError):
    """A key that should exist in the object store does not."""

    code = "object_not_found"


class IntegrityError(ArchiverError):
    """A digest, signature or proof does not verify."""

    code = "integrity_error"


class SigningKeyError(ArchiverError):
    """Signing keys are missing, locked or unsafe."""

    code = "key_error"


class InputError(ArchiverError):
    """Input from a platform, an export or the user is malformed or hostile."""

    code = "input_error"


class CollectorError(ArchiverError):
    """A platform could not be collected from (unreachable, refused, rate-limited past the budget)."""

    code = "collector_error"


class CatalogError(ArchiverError):
    """The catalog database is missing, out of date or inconsistent."""

    code = "catalog_error"
