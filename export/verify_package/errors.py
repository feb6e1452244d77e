"""Why the offline verifier could not verify at all: input it cannot safely read (exit status 2)."""

from __future__ import annotations

from archiver.errors import InputError


class UnreadableInput(InputError):
    """The package, a key file or a roots file is missing, malformed or unsafe to read.

    Problems *inside* a readable package are findings, never exceptions; this is only for input that
    makes the whole verification meaningless (not a zip, a truncated zip, a zip bomb, path traversal).
    """

    code = "unreadable_input"
