"""A local Mastodon instance that speaks the real wire format, for the demo and for collector tests.

Usage::

    instance = MastodonInstance(clock=clock)
    city = instance.add_account("cityhall", "City of Example")
    instance.post(city, "<p>Main St closed until 6pm.</p>")
    with run_mastodon(instance) as server:
        httpx.get(f"{server.base_url}/api/v1/accounts/{city}/statuses")

The pieces live in ``mastodon_state`` (scriptable state), ``mastodon_wire`` (entity JSON),
``mastodon_api`` (endpoints and paging), ``mastodon_http`` (socket server, rate limits, tokens,
faults) and ``mastodon_export`` (the account archive); this module is the one to import.
"""

from __future__ import annotations

from archiver.simulator.mastodon_api import ANONYMOUS_CONTEXT_CAPS, MAX_LIMIT, NOT_FOUND_MESSAGE
from archiver.simulator.mastodon_demo import DemoChanges, DemoScript, scripted_demo_instance
from archiver.simulator.mastodon_export import write_account_archive
from archiver.simulator.mastodon_http import (
    INVALID_TOKEN_MESSAGE,
    REQUIRES_AUTH_MESSAGE,
    TOO_MANY_MESSAGE,
    Fault,
    FaultPlan,
    LoggedRequest,
    MastodonServer,
    RateLimiter,
    run_mastodon,
)
from archiver.simulator.mastodon_state import (
    MastodonInstance,
    Media,
    MediaSpec,
    SimulatorError,
    Status,
    UnknownRecord,
)

__all__ = [
    "ANONYMOUS_CONTEXT_CAPS",
    "INVALID_TOKEN_MESSAGE",
    "MAX_LIMIT",
    "NOT_FOUND_MESSAGE",
    "REQUIRES_AUTH_MESSAGE",
    "TOO_MANY_MESSAGE",
    "DemoChanges",
    "DemoScript",
    "Fault",
    "FaultPlan",
    "LoggedRequest",
    "MastodonInstance",
    "MastodonServer",
    "Media",
    "MediaSpec",
    "RateLimiter",
    "SimulatorError",
    "Status",
    "UnknownRecord",
    "run_mastodon",
    "scripted_demo_instance",
    "write_account_archive",
]
