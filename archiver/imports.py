"""Import a platform's data export for the account it belongs to (creating that account if new)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from archiver.accounts import add_account, new_account
from archiver.capture.service import RunSummary, run_capture
from archiver.collectors.export_archive import ExportLimits, open_export
from archiver.collectors.mastodon_archive import MastodonArchiveImporter, read_actor
from archiver.errors import CatalogError, InputError
from archiver.model import AccountInfo, Platform
from archiver.wiring import Archive


def import_mastodon_archive(archive: Archive, path: Path, *, actor: str, account: AccountInfo | None = None,
                            include_private: bool = False, skip_unsafe: bool = False) -> RunSummary:
    """Import a Mastodon account archive into ``account`` (default: the account with the export's
    handle, created paused if new). An archive with unsafe entries is refused unless
    ``skip_unsafe``, in which case each skipped entry is recorded as a problem of the run."""
    settings = archive.settings
    limits = ExportLimits(max_member_bytes=settings.import_max_member_bytes,
                          max_total_bytes=settings.import_max_total_bytes)
    with open_export(path, limits=limits, spool_dir=settings.spool_dir, strict=not skip_unsafe) as export:
        owner = read_actor(export)
        if account is None:
            account = _account_for(archive, owner.handle, owner.host, owner.username, actor)
        elif account.handle.split("@")[0] != owner.username:
            raise InputError(f"{path.name} is the export of @{owner.handle}, not of account {account.handle}; "
                             "check the file or the --account given", code="export_owner_mismatch")
        importer = MastodonArchiveImporter(export, include_private=include_private,
                                           media_max_bytes=settings.media_max_bytes)
        return run_capture(archive, account, importer, actor=actor,
                           origin={"export_file": path.name, "export_sha256": export.sha256,
                                   "kind": "mastodon-archive"})


def _account_for(archive: Archive, handle: str, host: str, username: str, actor: str) -> AccountInfo:
    """The export's owner: the existing account with that handle, or a new one that is paused
    (imported, not collected live until a records officer says so)."""
    with archive.catalog.read() as conn:
        try:
            return archive.catalog.find_account(conn, handle)
        except CatalogError:
            pass
    account = new_account(Platform.MASTODON, handle=handle, url=f"https://{host}/@{username}", clock=archive.clock)
    return add_account(archive, replace(account, active=False), actor=actor)
