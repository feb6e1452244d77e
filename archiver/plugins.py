"""Extension points that let packages built on the core (search, export, web) join in.

The core may not import those packages (dependencies point one way), so they register through
entry points instead: ``arsip.commands`` adds `arsip` sub-commands, ``arsip.after_capture`` runs
after every capture or import run (search keeps its index current this way).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from archiver.wiring import Archive

AfterCapture = Callable[[Archive], list[str]]  # returns warnings to show the operator


def plugin_commands() -> list[Any]:
    """Click commands contributed by installed packages, in name order."""
    return [entry.load() for entry in sorted(entry_points(group="arsip.commands"), key=lambda e: e.name)]


def after_capture(archive: Archive) -> list[str]:
    """Run every after-capture hook; a failing hook is a warning, never a failed capture (what it
    maintains is derived from the archive and can be rebuilt)."""
    warnings: list[str] = []
    for entry in sorted(entry_points(group="arsip.after_capture"), key=lambda e: e.name):
        hook: AfterCapture = entry.load()
        warnings += hook(archive)
    return warnings
