"""The root of every error the export package raises, each with a stable code."""

from __future__ import annotations


class ExportError(Exception):
    """An export, rendering or package could not be produced; the message says what to do.

    ``code`` is stable across releases so scripts, the web layer and tests can match on it
    without parsing English.
    """

    code: str = "export_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
