"""Which collector serves which platform, and how an account URL is understood for each."""

from __future__ import annotations

import os

from archiver.capture.service import Collector
from archiver.collectors.mastodon import MastodonCollector
from archiver.collectors.mastodon_api import parse_account_url
from archiver.errors import ConfigError, InputError
from archiver.model import AccountInfo, Platform
from archiver.settings import Settings

SUPPORTED = (Platform.MASTODON,)


def account_identity(platform: Platform, url: str) -> tuple[str, str]:
    """(handle, canonical URL) for an account URL; bad URLs get a one-line error saying the form."""
    if platform is Platform.MASTODON:
        ref = parse_account_url(url)
        return ref.handle, ref.url
    raise InputError(f"{platform} is not collected yet; supported: {', '.join(SUPPORTED)}",
                     code="platform_unsupported")


def collector_for(account: AccountInfo, settings: Settings) -> Collector:
    if account.platform is Platform.MASTODON:
        return MastodonCollector(settings, token=resolve_credentials(account.credentials_ref))
    raise InputError(f"{account.platform} is not collected yet", code="platform_unsupported")


def resolve_credentials(ref: str | None) -> str | None:
    """Credentials are stored by reference only (``env:VARIABLE``), never in the catalog or store."""
    if not ref:
        return None
    scheme, _, name = ref.partition(":")
    if scheme != "env" or not name:
        raise ConfigError(f"credentials reference {ref!r} is not of the form env:VARIABLE", code="bad_credentials")
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"credentials variable {name} is not set in the environment", code="credentials_missing")
    return value
