"""Adding and changing archived accounts: catalog row, an account object in the store, an audit entry."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace

from archiver.audit import audit
from archiver.clock import Clock
from archiver.model import AccountInfo, Platform
from archiver.wiring import Archive

ACCOUNTS_PREFIX = "accounts/"


def account_object_key(account: AccountInfo) -> str:
    return f"{ACCOUNTS_PREFIX}{account.id}/{account.revision:06d}.json"


def new_account(platform: Platform, *, handle: str, url: str, clock: Clock, tags: tuple[str, ...] = (),
                interval_seconds: int = 900, owner_agency: str | None = None,
                credentials_ref: str | None = None) -> AccountInfo:
    now = clock.now()
    return AccountInfo(id=secrets.token_hex(6), platform=platform, handle=handle, url=url,
                       platform_account_id=None, display_name=None, owner_agency=owner_agency,
                       tags=tuple(sorted(set(tags))), interval_seconds=interval_seconds,
                       credentials_ref=credentials_ref, active=True, revision=1, created_at=now, updated_at=now)


def add_account(archive: Archive, account: AccountInfo, *, actor: str) -> AccountInfo:
    """Register a new account; refuses a second account with the same platform and handle."""
    with archive.catalog.begin() as conn:
        archive.catalog.save_account(conn, account)
        _publish(archive, account)
    audit(archive, actor=actor, action="account.add", target=f"account:{account.id}",
          details={"platform": str(account.platform), "handle": account.handle, "url": account.url})
    return account


def save_account(archive: Archive, account: AccountInfo, *, actor: str) -> AccountInfo:
    """Store a changed account as a new revision (the store keeps every revision)."""
    with archive.catalog.begin() as conn:
        current = archive.catalog.find_account(conn, account.id)
        updated = replace(account, revision=current.revision + 1, updated_at=archive.clock.now())
        archive.catalog.save_account(conn, updated)
        _publish(archive, updated)
    changed = {k: v for k, v in updated.to_json().items() if current.to_json().get(k) != v
               and k not in ("revision", "updated_at")}
    audit(archive, actor=actor, action="account.update", target=f"account:{account.id}", details=changed)
    return updated


def _publish(archive: Archive, account: AccountInfo) -> None:
    archive.store.put_bytes(account_object_key(account), json.dumps(account.to_json(), indent=1).encode(),
                            content_type="application/json")
