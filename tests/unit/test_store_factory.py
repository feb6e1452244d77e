"""open_store picks the backend from the URL and refuses URLs it cannot honour safely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archiver.errors import ConfigError
from archiver.store.base import LockMode
from archiver.store.factory import open_store
from archiver.store.file import FileStore
from archiver.store.memory import MemoryStore, forget_memory_store


def test_file_url_opens_a_file_store_at_that_path(tmp_path: Path) -> None:
    store = open_store((tmp_path / "objects").as_uri())
    assert isinstance(store, FileStore)
    assert store.root == tmp_path / "objects"


def test_percent_encoded_file_url_is_decoded(tmp_path: Path) -> None:
    store = open_store((tmp_path / "with space").as_uri())
    assert isinstance(store, FileStore) and store.root == tmp_path / "with space"


def test_plain_path_opens_a_file_store(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "objects"))
    assert isinstance(store, FileStore) and store.root == tmp_path / "objects"


@pytest.mark.parametrize("url", ["", "  ", "file://"])
def test_empty_store_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_remote_file_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="must be local"):
        open_store("file://fileserver/share/objects")


def test_memory_url_reopens_the_same_store_by_name() -> None:
    forget_memory_store("factory-test")
    first = open_store("memory://factory-test")
    first.put_bytes("k", b"x")
    second = open_store("memory://factory-test")
    assert isinstance(second, MemoryStore) and second is first
    assert second.get_bytes("k") == b"x"
    assert open_store("memory://other-name") is not first
    forget_memory_store("factory-test")
    assert open_store("memory://factory-test").head("k") is None


def test_s3_url_opens_an_s3_store_without_connecting() -> None:
    store = open_store("s3://records-bucket/arsip/prod/", s3_endpoint_url="http://127.0.0.1:9",
                       s3_region="us-east-1")
    assert type(store).__name__ == "S3Store"
    assert store.url == "s3://records-bucket/arsip/prod"
    assert open_store("s3://records-bucket").url == "s3://records-bucket"


def test_unknown_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        open_store("ftp://example.org/objects")
    message = str(caught.value)
    assert "'ftp'" in message
    for scheme in ("file://", "s3://", "memory://"):
        assert scheme in message


def test_credentials_in_an_s3_url_are_refused_and_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        open_store("s3://AKIAEXAMPLE:supersecret@records-bucket/prefix")
    assert "supersecret" not in str(caught.value)
    assert "AKIAEXAMPLE" not in str(caught.value)


@pytest.mark.parametrize("url", ["s3://Bad_Bucket/x", "s3://ab", "s3://records..bucket",
                                 "s3://records-bucket/../escape", "s3://records-bucket?region=x"])
def test_malformed_s3_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_lock_settings_become_store_defaults(tmp_path: Path) -> None:
    store = open_store(str(tmp_path), object_lock_mode="COMPLIANCE", object_lock_retain_days=7)
    store.put_bytes("k", b"x")
    info = store.head("k")
    assert info is not None and info.lock_mode is LockMode.COMPLIANCE


def test_importing_the_factory_does_not_import_boto3() -> None:
    code = ("import sys, archiver.store.factory, archiver.store.s3; "
            "sys.exit(1 if 'boto3' in sys.modules or 'botocore' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
