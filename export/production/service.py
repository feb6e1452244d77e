"""Produce a request: build the package, keep a copy in the object store, record it on the request."""

from __future__ import annotations

from archiver.audit import audit
from archiver.wiring import Archive
from export.errors import ExportError
from export.production.build import BuiltProduction, ProductionOptions, build_production
from export.production.package_record import archive_package
from export.requests import journal
from export.requests.case import Case

PRODUCTIONS_PREFIX = "productions/"


def produce(archive: Archive, number: str, options: ProductionOptions, *, actor: str) -> tuple[Case, BuiltProduction]:
    """Build the next production of request ``number`` and record it (package kept in the store,
    archived as a signed record of its own, noted in the request's journal, audited)."""
    case = journal.load(archive, number)
    if case.status == "closed":
        raise ExportError(f"request {number} is closed; nothing more can be produced", code="request_closed")
    built = build_production(archive, case, options, actor=actor)
    key = f"{PRODUCTIONS_PREFIX}{number}/{built.path.name}"
    archive.store.put_file(key, built.path, content_type="application/zip")
    package_record = archive_package(archive, case, built, key, actor=actor)

    def unchanged(current: Case | None) -> None:
        if current is None or len(current.productions) != built.sequence - 1:
            raise ExportError(f"another production of request {number} was recorded while this one was built; "
                              f"build again (the package at {built.path} is not recorded)", code="request_contention")

    case = journal.append(archive, number, "produced", {
        "id": built.id, "sequence": built.sequence, "records": built.records, "first_bates": built.first_bates,
        "last_bates": built.last_bates, "last_number": built.last_number, "package_key": key,
        "package_sha256": built.sha256, "package_bytes": built.bytes, "record_id": package_record},
        actor=actor, check=unchanged)
    audit(archive, actor=actor, action="request.produce", target=f"request:{number}",
          details={"production": built.id, "documents": len(built.records), "sha256": built.sha256,
                   "first_bates": built.first_bates, "last_bates": built.last_bates})
    return case, built
