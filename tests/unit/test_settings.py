"""Settings: one table, TOML then environment, unknown names refused, secrets protected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archiver.errors import ConfigError
from archiver.settings import SETTINGS, load_settings


def test_defaults_live_under_arsip_home(tmp_path: Path) -> None:
    settings = load_settings({"ARSIP_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    assert settings.store_url == (tmp_path / "objects").as_uri()
    assert settings.warc_version == "1.1"


def test_environment_overrides_toml_file(tmp_path: Path) -> None:
    (tmp_path / "arsip.toml").write_text('warc_version = "1.0"\nrecheck_days = 7\n')
    settings = load_settings({"ARSIP_HOME": str(tmp_path), "ARSIP_RECHECK_DAYS": "3"})
    assert settings.warc_version == "1.0"
    assert settings.recheck_days == 3


@pytest.mark.parametrize("environ, message", [
    ({"ARSIP_WARC_VERSION": "2.0"}, "bad value for warc_version"),
    ({"ARSIP_RECHECK_DAY": "3"}, "names no setting"),
    ({"ARSIP_BATCH_MAX_VERSIONS": "0"}, "positive integer"),
    ({"ARSIP_TSA_URL": "http://tsa.example"}, "ARSIP_TSA_ROOTS is not"),
])
def test_bad_settings_are_one_line_errors(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"ARSIP_HOME": str(tmp_path), **environ})


def test_unknown_key_in_toml_is_refused_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / "arsip.toml").write_text("warc_versoin = '1.0'\n")
    with pytest.raises(ConfigError, match=r"arsip.toml: unknown setting 'warc_versoin'"):
        load_settings({"ARSIP_HOME": str(tmp_path)})


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "arsip.toml").write_text("warc_version = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"ARSIP_HOME": str(tmp_path)})


def test_passphrase_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("a long enough passphrase\n")
    os.chmod(secret, 0o644)
    settings = load_settings({"ARSIP_HOME": str(tmp_path), "ARSIP_KEY_PASSPHRASE_FILE": str(secret)})
    with pytest.raises(ConfigError, match="chmod 600"):
        settings.passphrase()
    os.chmod(secret, 0o600)
    assert settings.passphrase() == b"a long enough passphrase"


def test_secrets_are_masked_in_the_public_view(tmp_path: Path) -> None:
    settings = load_settings({"ARSIP_HOME": str(tmp_path), "ARSIP_KEY_PASSPHRASE": "hunter2hunter2"})
    assert settings.public_view()["key_passphrase"] == "********"


def test_capture_hash_changes_only_with_capture_settings(tmp_path: Path) -> None:
    def hashed(**env: str) -> str:
        return load_settings({"ARSIP_HOME": str(tmp_path), **env}).capture_hash()

    assert hashed() == hashed(ARSIP_HTTP_TIMEOUT="5")
    assert hashed() != hashed(ARSIP_WARC_VERSION="1.0")


def test_every_setting_is_documented() -> None:
    """datasette-style: a setting missing from docs/settings.md fails the build."""
    docs = (Path(__file__).parents[2] / "docs" / "settings.md").read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in docs]
    assert missing == []
