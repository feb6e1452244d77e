"""A production package is a record of its own: signed, logged, and kept under its own schedule.

Its evidence is the package's identity, not its bytes: the zip's SHA-256 and size, its bag-info,
its tag manifest (which hashes the payload manifests, which hash every file) and the archive's
signature over the SHA-512 manifest. That binds every byte of the package while keeping the WARC
record small; the zip itself is kept in the object store at ``package_key``. The record's kind is
``request_package``, which the shipped schedules file under GRS 4.2 item 020 (destroy 6 years after
final action) and their state and JRA equivalents.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

from archiver import __version__
from archiver.accounts import add_account, new_account
from archiver.capture.document import record_id_for
from archiver.capture.evidence import ExportEntry
from archiver.capture.service import run_capture
from archiver.capture.session import CaptureSession
from archiver.errors import ArchiverError
from archiver.model import AccountInfo, Observation, Platform, RecordKind, SourceKind, VersionState
from archiver.wiring import Archive
from export.errors import ExportError
from export.production.build import SIGNATURE_FILE, BuiltProduction
from export.requests.case import Case

ACCOUNT_HANDLE = "requests"
TAG_FILES = ("bag-info.txt", "tagmanifest-sha512.txt", SIGNATURE_FILE)


def archive_package(archive: Archive, case: Case, built: BuiltProduction, package_key: str, *, actor: str) -> str:
    """Archive the package as a ``request_package`` record; returns its record id."""
    account = _requests_account(archive, actor)
    recorder = _PackageRecorder(case, built, package_key, actor)
    summary = run_capture(archive, account, recorder, actor=actor,
                          origin={"kind": "production", "request": case.number, "production": built.id})
    if summary.problems:
        raise ExportError(f"the package was built but could not be archived: {summary.problems[0]}",
                          code="package_not_archived")
    return record_id_for(Platform.ARSIP, recorder.platform_id)


class _PackageRecorder:
    name = "arsip-production"
    version = __version__
    source = SourceKind.PRODUCED

    def __init__(self, case: Case, built: BuiltProduction, package_key: str, actor: str) -> None:
        self.case, self.built, self.package_key, self.actor = case, built, package_key, actor
        self.platform_id = f"{case.number}/{built.id}"

    def collect(self, session: CaptureSession, account: AccountInfo) -> AccountInfo:
        built = self.built
        with zipfile.ZipFile(built.path) as package:
            tags = {name: package.read(name).decode("utf-8") for name in TAG_FILES}
        manifest = {"format": "arsip.production-record/1", "request": self.case.number, "production": built.id,
                    "package_key": self.package_key, "package_sha256": built.sha256, "package_bytes": built.bytes,
                    "first_bates": built.first_bates, "last_bates": built.last_bates, "records": built.records,
                    "tag_files": tags}
        now = session.archive.clock.now()
        evidence = session.record(ExportEntry(
            uri=f"urn:arsip:production:{self.platform_id}", content_type="application/json", captured_at=now,
            body=json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode(),
            fields={"WARC-Arsip-Package-Sha256": built.sha256}))
        text = (f"Production {built.id} of records request {self.case.number}: {len(built.records)} documents, "
                f"Bates {built.first_bates} to {built.last_bates}")
        session.observe(Observation(
            platform=Platform.ARSIP, platform_id=self.platform_id, kind=RecordKind.REQUEST_PACKAGE,
            state=VersionState.PRESENT, url=None, author=self.actor, parent_platform_id=None, posted_at=now,
            revision_at=now, lang=None, text=text,
            content={"request": self.case.number, "production": built.id, "package_sha256": built.sha256,
                     "package_bytes": built.bytes, "package_key": self.package_key,
                     "first_bates": built.first_bates, "last_bates": built.last_bates,
                     "documents": len(built.records)},
            exchanges=(evidence,)))
        return account


def _requests_account(archive: Archive, actor: str) -> AccountInfo:
    """The archive's own account for request packages (paused: nothing to collect from it)."""
    with archive.catalog.read() as conn:
        try:
            return archive.catalog.find_account(conn, ACCOUNT_HANDLE)
        except ArchiverError:
            pass
    account = new_account(Platform.ARSIP, handle=ACCOUNT_HANDLE, url="urn:arsip:requests", clock=archive.clock)
    return add_account(archive, replace(account, active=False, display_name="Records request packages"), actor=actor)
