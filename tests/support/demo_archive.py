"""A real archive of the scripted Mastodon demo (two capture runs, an edit between them): file store,
SQLite, WARC files and signed envelopes, for the retention tests."""

from __future__ import annotations

from pathlib import Path

from archiver.accounts import add_account, new_account
from archiver.capture.service import run_capture
from archiver.clock import FixedClock
from archiver.collectors.mastodon import MastodonCollector
from archiver.collectors.mastodon_api import parse_account_url
from archiver.model import Platform
from archiver.simulator.mastodon import run_mastodon
from archiver.simulator.mastodon_demo import scripted_demo_instance
from archiver.wiring import Archive, init_archive
from tests.conftest import make_settings


def captured_demo(tmp_path: Path, clock: FixedClock, *, tags: tuple[str, ...] = (), **settings: object) -> Archive:
    """Capture the demo account (tagged ``tags``) twice, an hour apart; the caller closes the archive."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    archive = init_archive(make_settings(home, **settings), clock=clock)
    instance, script = scripted_demo_instance(clock)
    with run_mastodon(instance) as server:
        ref = parse_account_url(f"{server.base_url}/@cityhall")
        account = add_account(archive, new_account(Platform.MASTODON, handle=ref.handle, url=ref.url, clock=clock,
                                                   tags=tags), actor="test")
        run_capture(archive, account, MastodonCollector(archive.settings))
        clock.advance(3600)
        script.advance()
        run_capture(archive, account, MastodonCollector(archive.settings))
    return archive
