"""Every object store backend (memory, file, S3 over HTTP) honours the same BlobStore contract."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver.clock import FixedClock
from archiver.errors import ObjectNotFound, StoreError
from archiver.store.base import (
    BadKey,
    BaseStore,
    InvalidLock,
    LockDefaults,
    LockMode,
    LockOptions,
    ObjectExists,
    ObjectLocked,
)
from archiver.store.file import FileStore
from archiver.store.memory import MemoryStore
from archiver.store.s3 import MIN_PART_SIZE, S3Store
from tests.support.moto_s3 import create_bucket, moto_s3_server, moto_s3_server_process, seed_empty_objects, utc_now

BACKENDS = ["memory", "file", pytest.param("s3", marks=pytest.mark.s3)]
MIB = 1024 * 1024

StoreFactory = Callable[..., BaseStore]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Build a fresh, empty store of the parametrised kind; extra kwargs go to the constructor."""
    kind = request.param
    made: list[BaseStore] = []

    def build(s3_prefix: str = "archive", **kwargs: Any) -> BaseStore:
        store: BaseStore
        if kind == "memory":
            store = MemoryStore(f"conformance-{uuid.uuid4().hex}", **kwargs)
        elif kind == "file":
            store = FileStore(tmp_path / f"objects-{len(made)}", **kwargs)
        else:
            endpoint = request.getfixturevalue("s3_endpoint")
            # Small parts and pages so multipart upload and pagination run on small data.
            store = S3Store(create_bucket(endpoint), s3_prefix, endpoint_url=endpoint,
                            region="us-east-1", part_size=MIN_PART_SIZE,
                            multipart_threshold=MIN_PART_SIZE, page_size=7, **kwargs)
        made.append(store)
        return store

    yield build
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> BaseStore:
    return make_store()


class PatternStream(io.RawIOBase):
    """A non-seekable stream of ``size`` deterministic bytes that hashes what it hands out."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.remaining = size
        self.digest = hashlib.sha256()
        self._block = bytes(range(256)) * 4096

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.remaining, len(self._block))
        buffer[:count] = self._block[:count]
        self.digest.update(self._block[:count])
        self.remaining -= count
        return count


def future(seconds: float = 86400) -> Any:
    return utc_now() + timedelta(seconds=seconds)


# --- writing and reading -------------------------------------------------------------------


def test_put_bytes_returns_the_sha256_hashlib_computes(store: BaseStore) -> None:
    data = b"an official post, captured"
    result = store.put_bytes("runs/1/a.warc.gz", data)
    assert result.key == "runs/1/a.warc.gz"
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_head_reports_size_sha256_and_modification_time(store: BaseStore) -> None:
    before = utc_now() - timedelta(seconds=2)
    store.put_bytes("a/b", b"12345")
    info = store.head("a/b")
    assert info is not None
    assert (info.key, info.size, info.sha256) == ("a/b", 5, hashlib.sha256(b"12345").hexdigest())
    assert info.last_modified is not None and info.last_modified >= before.replace(microsecond=0)
    assert info.last_modified.utcoffset() == timedelta(0)
    assert (info.lock_mode, info.retain_until, info.legal_hold) == (None, None, False)


def test_head_of_a_missing_key_is_none(store: BaseStore) -> None:
    assert store.head("nothing/here") is None


def test_non_seekable_stream_round_trips_through_multipart_sizes(store: BaseStore) -> None:
    stream = PatternStream(11 * MIB + 3)  # > 2 parts of 5 MiB on S3
    result = store.put_stream("big/object.bin", stream)  # type: ignore[arg-type]
    assert result.sha256 == stream.digest.hexdigest()
    assert result.size == 11 * MIB + 3
    info = store.head("big/object.bin")
    assert info is not None and info.sha256 == stream.digest.hexdigest()
    with store.open("big/object.bin") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == stream.digest.hexdigest()


def test_seekable_stream_is_stored_from_its_current_position(store: BaseStore) -> None:
    stream = io.BytesIO(b"HEADERpayload")
    stream.seek(6)
    result = store.put_stream("k", stream)
    assert store.get_bytes("k") == b"payload"
    assert result.sha256 == hashlib.sha256(b"payload").hexdigest()


def test_put_file_stores_the_file_contents(store: BaseStore, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(b"file contents" * 1000)
    result = store.put_file("files/upload.bin", source)
    assert store.get_bytes("files/upload.bin") == source.read_bytes()
    assert result.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()


def test_empty_object_round_trips(store: BaseStore) -> None:
    result = store.put_bytes("empty", b"")
    assert result.sha256 == hashlib.sha256(b"").hexdigest()
    assert store.get_bytes("empty") == b""
    assert store.get_range("empty", 0, 10) == b""
    info = store.head("empty")
    assert info is not None and info.size == 0


def test_open_streams_in_pieces(store: BaseStore) -> None:
    data = bytes(range(256)) * 100
    store.put_bytes("stream", data)
    with store.open("stream") as handle:
        pieces = [handle.read(1000) for _ in range(26)]
    assert b"".join(pieces) == data


def test_overwrite_without_if_absent_replaces_the_content(store: BaseStore) -> None:
    store.put_bytes("k", b"first")
    store.put_bytes("k", b"second")
    assert store.get_bytes("k") == b"second"
    info = store.head("k")
    assert info is not None and info.sha256 == hashlib.sha256(b"second").hexdigest()


def test_if_absent_writes_a_new_key(store: BaseStore) -> None:
    store.put_bytes("new", b"x", if_absent=True)
    assert store.get_bytes("new") == b"x"


def test_if_absent_refuses_an_existing_key_and_keeps_the_original(store: BaseStore) -> None:
    store.put_bytes("once", b"original")
    with pytest.raises(ObjectExists) as caught:
        store.put_bytes("once", b"intruder", if_absent=True)
    assert caught.value.code == "object_exists"
    assert store.get_bytes("once") == b"original"


@pytest.mark.parametrize("missing", ["open", "get_bytes", "get_range", "delete"])
def test_reading_or_deleting_a_missing_key_raises_object_not_found(store: BaseStore,
                                                                    missing: str) -> None:
    calls = {"open": lambda: store.open("gone"), "get_bytes": lambda: store.get_bytes("gone"),
             "get_range": lambda: store.get_range("gone", 0, 10),
             "delete": lambda: store.delete("gone")}
    with pytest.raises(ObjectNotFound):
        calls[missing]()


# --- ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "length", "expected"), [
    (0, 4, b"0123"), (4, 3, b"456"), (8, 100, b"89"), (9, 1, b"9"), (10, 5, b""), (50, 5, b""),
    (3, 0, b""),
])
def test_get_range_returns_that_slice_clipped_at_the_end(store: BaseStore, offset: int,
                                                         length: int, expected: bytes) -> None:
    store.put_bytes("digits", b"0123456789")
    assert store.get_range("digits", offset, length) == expected


def test_get_range_refuses_negative_offsets(store: BaseStore) -> None:
    store.put_bytes("digits", b"0123456789")
    with pytest.raises(StoreError):
        store.get_range("digits", -1, 3)


# --- listing -------------------------------------------------------------------------------

# Chosen so that walking directories naively ('a' before 'a-c') would break plain key order.
LIST_KEYS = ["a-c", "a/b", "a/b0", "a.b", "a0", "ab", "b/c/d", "b/c/e", "b/cd", "z", "é/x"]


def test_list_yields_every_key_in_sorted_order(store: BaseStore) -> None:
    for key in reversed(LIST_KEYS):
        store.put_bytes(key, key.encode())
    listed = list(store.list())
    assert [info.key for info in listed] == sorted(LIST_KEYS)
    assert [info.size for info in listed] == [len(k.encode()) for k in sorted(LIST_KEYS)]


@pytest.mark.parametrize("prefix", ["a", "a/", "a/b", "b/c", "b/c/", "é", "q", ""])
def test_list_filters_by_plain_string_prefix(store: BaseStore, prefix: str) -> None:
    for key in LIST_KEYS:
        store.put_bytes(key, b"x")
    assert [i.key for i in store.list(prefix)] == sorted(k for k in LIST_KEYS if k.startswith(prefix))


def test_list_carries_only_listing_fields(store: BaseStore) -> None:
    store.put_bytes("held", b"x", lock=LockOptions(LockMode.GOVERNANCE, None, legal_hold=True))
    (info,) = list(store.list())
    assert (info.sha256, info.legal_hold, info.lock_mode, info.retain_until) == (None, False, None, None)
    assert info.last_modified is not None


def test_list_pages_through_more_keys_than_one_page(store: BaseStore) -> None:
    keys = [f"page/{n:03d}" for n in range(40)]
    for key in keys:
        store.put_bytes(key, b"x")
    assert [i.key for i in store.list("page/")] == keys


@pytest.mark.s3
def test_s3_list_pages_past_1000_keys_with_the_default_page_size(s3_endpoint: str) -> None:
    bucket = create_bucket(s3_endpoint, object_lock=False)
    keys = [f"k/{n:05d}" for n in range(2345)]
    seed_empty_objects(bucket, reversed(keys))
    with S3Store(bucket, endpoint_url=s3_endpoint, region="us-east-1") as store:
        assert [info.key for info in store.list("k/")] == keys


def test_list_rejects_a_traversing_prefix(store: BaseStore) -> None:
    with pytest.raises(BadKey):
        list(store.list("../"))


# --- keys ----------------------------------------------------------------------------------

BAD_KEYS = ["../x", "/etc/passwd", "a/../../b", "a\\b", "a\x00b", "", "a//b", "a/", "./a", "a/.",
            "tab\there", "del\x7f", ".arsip-meta/x", "x/.ARSIP-tmp-1", "a" * 1025]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_by_every_method(store: BaseStore, key: str, tmp_path: Path) -> None:
    attempts: list[Callable[[], object]] = [
        lambda: store.put_bytes(key, b"x"), lambda: store.head(key), lambda: store.open(key),
        lambda: store.get_range(key, 0, 1), lambda: store.delete(key),
        lambda: store.set_legal_hold(key, True),
        lambda: store.set_retention(key, LockMode.GOVERNANCE, future()),
    ]
    for attempt in attempts:
        with pytest.raises(BadKey) as caught:
            attempt()
        assert caught.value.code == "bad_key"
    assert list(store.list()) == []
    written = [p for p in tmp_path.rglob("*") if p.is_file() and ".arsip-lock" not in p.name]
    assert written == []


def test_a_key_of_exactly_1024_bytes_is_accepted(make_store: StoreFactory) -> None:
    store = make_store(s3_prefix="")  # on S3 the limit counts the store's prefix too
    key = "/".join(["s" * 200] * 5) + "/" + "t" * 19  # segments fit a file system's NAME_MAX
    assert len(key.encode()) == 1024
    store.put_bytes(key, b"x")
    assert store.get_bytes(key) == b"x"
    with pytest.raises(BadKey):
        store.put_bytes(key + "u", b"x")


# --- object lock ---------------------------------------------------------------------------


def test_lock_options_on_put_are_reported_by_head(store: BaseStore) -> None:
    until = future()
    store.put_bytes("locked", b"x", lock=LockOptions(LockMode.COMPLIANCE, until, legal_hold=True))
    info = store.head("locked")
    assert info is not None
    assert info.lock_mode is LockMode.COMPLIANCE
    assert info.legal_hold is True
    # Stores keep whole seconds and round up so retention is never shorter than asked.
    assert info.retain_until is not None
    assert until <= info.retain_until < until + timedelta(seconds=1)
    store.set_legal_hold("locked", False)


@pytest.mark.parametrize("mode", list(LockMode))
def test_delete_is_refused_while_retention_lies_ahead(store: BaseStore, mode: LockMode) -> None:
    store.put_bytes("kept", b"x", lock=LockOptions(mode, future()))
    with pytest.raises(ObjectLocked) as caught:
        store.delete("kept")
    assert caught.value.code == "object_locked"
    assert store.get_bytes("kept") == b"x"


def test_delete_is_refused_under_legal_hold_and_allowed_once_released(store: BaseStore) -> None:
    store.put_bytes("held", b"x")
    store.set_legal_hold("held", True)
    info = store.head("held")
    assert info is not None and info.legal_hold
    with pytest.raises(ObjectLocked):
        store.delete("held")
    store.set_legal_hold("held", False)
    store.delete("held")
    assert store.head("held") is None


def test_delete_is_allowed_once_retention_has_passed(make_store: StoreFactory) -> None:
    clock = FixedClock(utc_now())
    store = make_store(clock=clock)
    store.put_bytes("short", b"x", lock=LockOptions(LockMode.GOVERNANCE, clock.now() + timedelta(seconds=1)))
    with pytest.raises(ObjectLocked):
        store.delete("short")
    info = store.head("short")
    assert info is not None and info.retain_until is not None
    wait = (info.retain_until - clock.now()).total_seconds() + 0.5
    clock.advance(wait)
    if isinstance(store, S3Store):
        time.sleep(wait)  # the S3 server judges retention by its own clock
    store.delete("short")
    assert store.head("short") is None


def test_set_retention_may_extend_but_never_shorten_or_switch(store: BaseStore) -> None:
    first, later = future(3600), future(7200)
    store.put_bytes("r", b"x", lock=LockOptions(LockMode.COMPLIANCE, first))
    store.set_retention("r", LockMode.COMPLIANCE, later)
    info = store.head("r")
    assert info is not None and info.retain_until is not None and info.retain_until >= later
    with pytest.raises(ObjectLocked):
        store.set_retention("r", LockMode.COMPLIANCE, first)
    with pytest.raises(ObjectLocked):
        store.set_retention("r", LockMode.GOVERNANCE, future(9000))
    info = store.head("r")
    assert info is not None and info.lock_mode is LockMode.COMPLIANCE


def test_set_retention_adds_retention_to_an_unlocked_object(store: BaseStore) -> None:
    store.put_bytes("plain", b"x")
    store.set_retention("plain", LockMode.GOVERNANCE, future())
    with pytest.raises(ObjectLocked):
        store.delete("plain")


def test_retain_until_in_the_past_is_refused(store: BaseStore) -> None:
    with pytest.raises(InvalidLock):
        store.put_bytes("p", b"x", lock=LockOptions(LockMode.GOVERNANCE, future(-60)))
    assert store.head("p") is None
    store.put_bytes("p", b"x")
    with pytest.raises(InvalidLock):
        store.set_retention("p", LockMode.GOVERNANCE, future(-60))


@pytest.mark.parametrize("change", ["legal_hold", "retention"])
def test_lock_changes_on_a_missing_key_raise_object_not_found(store: BaseStore, change: str) -> None:
    with pytest.raises(ObjectNotFound):
        if change == "legal_hold":
            store.set_legal_hold("absent", True)
        else:
            store.set_retention("absent", LockMode.GOVERNANCE, future())


def test_lock_defaults_give_unlocked_writes_a_minimum_retention(make_store: StoreFactory) -> None:
    store = make_store(lock_defaults=LockDefaults(LockMode.GOVERNANCE, 2))
    assert store.supports_object_lock
    store.put_bytes("default", b"x")
    explicit = future(60)
    store.put_bytes("explicit", b"x", lock=LockOptions(LockMode.COMPLIANCE, explicit))
    for key, mode in (("default", LockMode.GOVERNANCE), ("explicit", LockMode.COMPLIANCE)):
        info = store.head(key)
        assert info is not None and info.lock_mode is mode and info.retain_until is not None
        assert info.retain_until >= utc_now() + timedelta(days=2) - timedelta(minutes=1)


def test_url_names_the_store_without_credentials(store: BaseStore) -> None:
    assert store.url.split("://")[0] in ("memory", "file", "s3")
    assert "secret" not in store.url and "@" not in store.url
    assert store.url in repr(store)


# --- bounded memory ------------------------------------------------------------------------

STREAM_SIZE = 50 * 1000 * 1000


@pytest.fixture(scope="module")
def s3_process_endpoint() -> Iterator[str]:
    # tracemalloc only sees this process, so the server must run in another one.
    with moto_s3_server_process() as endpoint:
        yield endpoint


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["file", pytest.param("s3", marks=pytest.mark.s3)])
def test_streaming_a_50_mb_object_keeps_python_memory_bounded(kind: str, tmp_path: Path,
                                                              request: pytest.FixtureRequest) -> None:
    store: BaseStore
    if kind == "file":
        store = FileStore(tmp_path / "objects")
    else:
        endpoint = request.getfixturevalue("s3_process_endpoint")
        store = S3Store(create_bucket(endpoint), endpoint_url=endpoint, region="us-east-1")
        assert store.supports_object_lock  # connect before measuring
    stream = PatternStream(STREAM_SIZE)
    tracemalloc.start()
    try:
        result = store.put_stream("big.warc.gz", stream)  # type: ignore[arg-type]
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        check = hashlib.sha256()
        with store.open("big.warc.gz") as handle:
            while chunk := handle.read(MIB):
                check.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        store.close()
    assert result.sha256 == stream.digest.hexdigest() == check.hexdigest()
    assert write_peak < STREAM_SIZE / 5, f"write peaked at {write_peak} bytes"
    assert read_peak < STREAM_SIZE / 5, f"read peaked at {read_peak} bytes"
