"""Extension points that let packages built on the core (search, export, web) join in.

The core may not import those packages (dependencies point one way), so they register through
entry points instead: ``arsip.commands`` adds `arsip` sub-commands, ``arsip.after_capture`` runs
after every capture or import run (search keeps its index current this way), ``arsip.record_queries``
answers "which records match this query" (hold scopes), ``arsip.forget_records`` takes destroyed
records out of derived stores (the index) before disposition commits, ``arsip.after_disposition``
renders what a disposition leaves behind (the certificate PDF), ``arsip.transfer_packages``
writes the package a transfer or accession sends to the receiving archive, and
``arsip.package_verifiers`` checks a production package offline (`arsip verify PACKAGE.zip`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError, ConfigError, InputError
from archiver.wiring import Archive

AfterCapture = Callable[[Archive], list[str]]  # returns warnings to show the operator
RecordQuery = Callable[[Archive, str], set[str]]  # query text -> ids of every record it matches
ForgetRecords = Callable[[Archive, Sequence[str]], None]
AfterDisposition = Callable[[Archive, Mapping[str, Any]], list[str]]  # signed certificate -> warnings


@dataclass(frozen=True)
class TransferRequest:
    """What a transfer packager is asked to write: a new ``directory`` holding ``records``."""

    identifier: str  # the package's name and External-Identifier (the disposition batch id)
    directory: Path  # must not exist yet
    rights: Mapping[str, str]  # record id -> its access restrictions (the schedule item's security class)
    description: str


@dataclass(frozen=True)
class TransferSummary:
    """A written package: its Payload-Oxum and the names of its top-level tag files (the manifests
    and bag-info), which the archive keeps as its own evidence of what it sent."""

    files: int
    payload_bytes: int
    payload_oxum: str
    tag_files: tuple[str, ...]


TransferPackager = Callable[[Archive, TransferRequest], TransferSummary]
# (package, trusted keys file, TSA roots file, JSON output) -> exit status, after printing its report
PackageVerifier = Callable[[Path, Path | None, Path | None, bool], int]


class PluginError(ArchiverError):
    """A plugin refused its task with a coded error (its message says what to do)."""

    code = "plugin_error"


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


def record_query(archive: Archive, query: str) -> set[str]:
    """Ids of every record matching a search query, from the installed search package."""
    resolve: RecordQuery = _provider("arsip.record_queries", ConfigError(
        "holds scoped by a search query need the search package; install arsip with its search backends, "
        "or scope the hold by account, records or dates", code="no_search"))
    with _coded_errors("hold query", InputError):
        return resolve(archive, query)


def forget_records(archive: Archive, record_ids: Sequence[str]) -> None:
    """Take destroyed records out of every derived store; a failure propagates so disposition rolls back."""
    for entry in sorted(entry_points(group="arsip.forget_records"), key=lambda e: e.name):
        hook: ForgetRecords = entry.load()
        hook(archive, record_ids)


def after_disposition(archive: Archive, certificate: Mapping[str, Any]) -> list[str]:
    """Run every after-disposition hook; failures are warnings (the signed JSON certificate is the proof)."""
    warnings: list[str] = []
    for entry in sorted(entry_points(group="arsip.after_disposition"), key=lambda e: e.name):
        hook: AfterDisposition = entry.load()
        warnings += hook(archive, certificate)
    return warnings


def transfer_package(archive: Archive, request: TransferRequest) -> TransferSummary:
    """Write a transfer package with the installed export package; its coded errors become one line."""
    packager: TransferPackager = _provider("arsip.transfer_packages", ConfigError(
        "transfers need the export package (transfer packages); install arsip with it, or cancel the batch "
        "with `arsip retention cancel`", code="no_exporter"))
    with _coded_errors("transfer package", PluginError):
        return packager(archive, request)


def verify_package(package: Path, *, keys: Path | None, tsa_roots: Path | None, as_json: bool) -> int:
    """Verify a production package with the installed export package; returns the exit status."""
    verifier: PackageVerifier = _provider("arsip.package_verifiers", ConfigError(
        "verifying production packages needs the export package; install arsip with it, or run "
        "`python -m export.verify_package`", code="no_exporter"))
    return verifier(package, keys, tsa_roots, as_json)


def _provider(group: str, missing: ConfigError) -> Any:
    """The first (by name) implementation registered for a group that needs exactly one provider."""
    found = sorted(entry_points(group=group), key=lambda e: e.name)
    if not found:
        raise missing
    return found[0].load()


@contextmanager
def _coded_errors(what: str, error: type[ArchiverError]) -> Iterator[None]:
    """A plugin's domain errors (a query syntax error, an unreadable record) carry a stable code:
    report them as ``error``, in one line; anything else is a bug and propagates as it is."""
    try:
        yield
    except ArchiverError:
        raise
    except Exception as exc:
        code = getattr(exc, "code", None)
        if isinstance(code, str):
            raise error(f"{what}: {str(exc).splitlines()[0]}", code=code) from None
        raise
