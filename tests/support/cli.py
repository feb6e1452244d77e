"""Running `arsip` in tests against a fresh ARSIP_HOME, untouched by the developer's own ARSIP_* settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE


def isolate_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [k for k in os.environ if k.startswith("ARSIP_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("ARSIP_HOME", str(home))
    monkeypatch.setenv("ARSIP_KEY_PASSPHRASE", PASSPHRASE)
    return home
