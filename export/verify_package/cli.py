"""``python -m export.verify_package PACKAGE.zip``: exit 0 when every check passes, 1 when one fails, 2 when
the input cannot be read (a one-line error on stderr)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from export.verify_package.errors import UnreadableInput
from export.verify_package.verify import verify_package

PROG = "python -m export.verify_package"
# Names, ids and paths in a package are hostile input: nothing in them may move the cursor, clear the
# screen or forge a line of the report. C0 and C1 controls are shown as escapes.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    return text.translate(_CONTROLS)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _ProgressLine:
    """``verifying  42%`` on stderr, rewritten in place when the percentage changes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // max(total, 1)
        if percent != self._shown:
            self._shown = percent
            self._stream.write(f"\rverifying {percent:3d}%")
            self._stream.flush()

    def end(self) -> None:
        if self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Verify an Arsip production package offline: the bag's checksums, "
                     "the package signature, every envelope signature and inclusion proof against the signed "
                     "checkpoint, its time-stamp, and every WARC record's digests.")
    parser.add_argument("package", type=Path, metavar="PACKAGE.zip")
    parser.add_argument("--keys", type=Path, metavar="FILE", help="the agency's public-key export, obtained "
                        "separately (without it the keys in the package are used, with a warning)")
    parser.add_argument("--tsa-roots", type=Path, metavar="FILE", help="PEM root certificate(s) of the time-stamp "
                        "authority (without it the package's own roots are used, with a warning)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--progress", action="store_true", help="show a percentage on stderr while verifying")
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    progress = _ProgressLine(err) if args.progress else None
    try:
        result = verify_package(args.package, keys_file=args.keys, tsa_roots=args.tsa_roots, progress=progress)
    except (UnreadableInput, OSError) as exc:
        if progress is not None:
            progress.end()
        err.write(f"{PROG}: error: {printable(' '.join(str(exc).split()))}\n")
        return 2
    if progress is not None:
        progress.end()
    if args.json:
        out.write(json.dumps(result.to_json(), indent=1) + "\n")
    else:
        out.write("".join(printable(line) + "\n" for line in result.text()))
    return 0 if result.ok else 1
