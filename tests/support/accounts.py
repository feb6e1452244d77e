"""The account most tests capture for: the simulated city hall on Mastodon."""

from __future__ import annotations

from archiver.accounts import add_account, new_account
from archiver.model import AccountInfo, Platform
from archiver.wiring import Archive


def add_cityhall(archive: Archive) -> AccountInfo:
    info = new_account(Platform.MASTODON, handle="cityhall@social.example.gov",
                       url="https://social.example.gov/@cityhall", clock=archive.clock)
    return add_account(archive, info, actor="test")
