"""Behaviour specific to the memory and file stores: emulated locks, sidecars, crash recovery."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from archiver.clock import FixedClock
from archiver.errors import ObjectNotFound, StoreError
from archiver.store.base import (
    BadKey,
    BaseStore,
    InvalidLock,
    KeyConflict,
    LockDefaults,
    LockMode,
    LockOptions,
    ObjectExists,
    ObjectLocked,
    validate_key,
    validate_prefix,
    whole_second_ceiling,
)
from archiver.store.file import FileStore
from archiver.store.memory import MemoryStore

StoreMaker = Callable[..., BaseStore]


@pytest.fixture(params=["memory", "file"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> StoreMaker:
    def build(clock: FixedClock, lock_defaults: LockDefaults | None = None) -> BaseStore:
        if request.param == "memory":
            return MemoryStore("unit", clock=clock, lock_defaults=lock_defaults)
        return FileStore(tmp_path / "objects", clock=clock, lock_defaults=lock_defaults)

    return build


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "a/b/c.warc.gz", "runs/2025/03/x-y_z.json", ".hidden",
                                 "a/..b", "a/b..", "日本/記録", "a b/c"])
def test_ordinary_keys_are_valid(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(("key", "words"), [
    ("../x", "traversal"), ("/etc/passwd", "absolute"), ("a/../../b", "traversal"),
    ("a\\b", "'\\\\'"), ("a\x00b", "'\\x00'"), ("a//b", "empty segment"), ("", "empty"),
    ("a\u0085b", "'\\x85'"), (".arsip-meta/x", "reserved"), ("x" * 1025, "1025 bytes"),
    ("\udc80", "Unicode"),
])
def test_bad_keys_are_refused_with_a_message_naming_the_problem(key: str, words: str) -> None:
    with pytest.raises(BadKey) as caught:
        validate_key(key)
    assert words in str(caught.value)


def test_multibyte_keys_are_measured_in_utf8_bytes() -> None:
    validate_key("é" * 512)  # 1024 bytes
    with pytest.raises(BadKey):
        validate_key("é" * 512 + "a")


@pytest.mark.parametrize("prefix", ["", "a", "a/", "a/.", "a/..x", "runs/2025"])
def test_partial_listing_prefixes_are_valid(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["../", "/a", "a//", "a/../"])
def test_traversing_listing_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(BadKey):
        validate_prefix(prefix)


# --- lock values ---------------------------------------------------------------------------


def test_retain_until_is_rounded_up_to_a_whole_second(clock: FixedClock) -> None:
    base = clock.now().replace(microsecond=0)
    assert whole_second_ceiling(base + timedelta(microseconds=1)) == base + timedelta(seconds=1)
    assert whole_second_ceiling(base) == base
    assert LockOptions(LockMode.GOVERNANCE, base + timedelta(milliseconds=10)).retain_until == (
        base + timedelta(seconds=1))


def test_naive_retain_until_is_refused() -> None:
    with pytest.raises(ValueError):
        LockOptions(LockMode.GOVERNANCE, FixedClock().now().replace(tzinfo=None))


@pytest.mark.parametrize(("mode", "expected"), [
    ("none", None), (None, None), ("", None),
    ("GOVERNANCE", LockDefaults(LockMode.GOVERNANCE, 30)),
    ("compliance", LockDefaults(LockMode.COMPLIANCE, 30)),
])
def test_lock_defaults_come_from_the_settings_strings(mode: str | None,
                                                      expected: LockDefaults | None) -> None:
    assert LockDefaults.from_settings(mode, 30) == expected


# --- emulated object lock ------------------------------------------------------------------


def test_retention_expires_on_the_injected_clock(make: StoreMaker, clock: FixedClock) -> None:
    store = make(clock)
    store.put_bytes("k", b"x", lock=LockOptions(LockMode.COMPLIANCE, clock.now() + timedelta(days=30)))
    clock.advance(timedelta(days=29).total_seconds())
    with pytest.raises(ObjectLocked):
        store.delete("k")
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    store.delete("k")
    assert store.head("k") is None


def test_overwriting_a_locked_object_is_refused(make: StoreMaker, clock: FixedClock) -> None:
    # One version per key: replacing the bytes would destroy the protected ones (S3 would
    # keep them as an older version instead).
    store = make(clock)
    store.put_bytes("k", b"original", lock=LockOptions(LockMode.GOVERNANCE, None, legal_hold=True))
    with pytest.raises(ObjectLocked):
        store.put_bytes("k", b"replacement")
    assert store.get_bytes("k") == b"original"


def test_an_expired_retention_is_still_reported_but_no_longer_protects(make: StoreMaker,
                                                                      clock: FixedClock) -> None:
    store = make(clock)
    until = clock.now() + timedelta(hours=1)
    store.put_bytes("k", b"x", lock=LockOptions(LockMode.GOVERNANCE, until))
    clock.advance(7200)
    info = store.head("k")
    assert info is not None and info.retain_until == until and info.lock_mode is LockMode.GOVERNANCE
    store.put_bytes("k", b"y")
    store.set_retention("k", LockMode.COMPLIANCE, clock.now() + timedelta(hours=1))


def test_lock_defaults_raise_a_short_explicit_retention(make: StoreMaker, clock: FixedClock) -> None:
    store = make(clock, LockDefaults(LockMode.GOVERNANCE, 10))
    store.put_bytes("k", b"x", lock=LockOptions(LockMode.COMPLIANCE, clock.now() + timedelta(days=1),
                                               legal_hold=True))
    info = store.head("k")
    assert info is not None
    assert info.retain_until == clock.now() + timedelta(days=10)
    assert info.lock_mode is LockMode.COMPLIANCE and info.legal_hold


def test_legal_hold_only_lock_needs_no_retention_date(make: StoreMaker, clock: FixedClock) -> None:
    store = make(clock)
    store.put_bytes("k", b"x", lock=LockOptions(LockMode.GOVERNANCE, None, legal_hold=True))
    info = store.head("k")
    assert info is not None and info.legal_hold and info.retain_until is None and info.lock_mode is None


def test_retention_at_exactly_now_is_refused(make: StoreMaker, clock: FixedClock) -> None:
    store = make(clock)
    with pytest.raises(InvalidLock):
        store.put_bytes("k", b"x", lock=LockOptions(LockMode.GOVERNANCE, clock.now()))


# --- memory store --------------------------------------------------------------------------


def test_memory_store_holds_a_and_a_slash_b_side_by_side() -> None:
    store = MemoryStore("side-by-side")
    store.put_bytes("a", b"1")
    store.put_bytes("a/b", b"2")
    assert [i.key for i in store.list()] == ["a", "a/b"]


# --- file store ----------------------------------------------------------------------------


@pytest.fixture
def fstore(tmp_path: Path, clock: FixedClock) -> FileStore:
    return FileStore(tmp_path / "objects", clock=clock)


def test_file_store_keeps_objects_as_plain_files_under_the_root(fstore: FileStore) -> None:
    fstore.put_bytes("runs/1/a.warc.gz", b"warc bytes")
    assert (fstore.root / "runs" / "1" / "a.warc.gz").read_bytes() == b"warc bytes"
    assert fstore.url == fstore.root.as_uri()


def test_file_store_cannot_hold_a_key_and_a_key_below_it(fstore: FileStore) -> None:
    fstore.put_bytes("a", b"1")
    with pytest.raises(KeyConflict):
        fstore.put_bytes("a/b", b"2")
    fstore.put_bytes("c/d", b"3")
    with pytest.raises(KeyConflict):
        fstore.put_bytes("c", b"4")
    assert [i.key for i in fstore.list()] == ["a", "c/d"]


def test_file_store_lists_neither_bookkeeping_nor_foreign_files(fstore: FileStore) -> None:
    fstore.put_bytes("a/b", b"x", lock=LockOptions(LockMode.GOVERNANCE, None, legal_hold=True))
    (fstore.root / "a" / ".arsip-tmp-leftover").write_bytes(b"crash debris")
    (fstore.root / "bad\\name").write_bytes(b"not a valid key")
    (fstore.root / "link").symlink_to(fstore.root / "a" / "b")
    assert [i.key for i in fstore.list()] == ["a/b"]


def test_file_store_reads_no_further_than_the_root(fstore: FileStore, tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"outside")
    fstore.put_bytes("inside", b"x")
    for key in ("../secret", "a/../../secret", str(tmp_path / "secret")):
        with pytest.raises(BadKey):
            fstore.get_bytes(key)


def sidecar(store: FileStore, key: str) -> Path:
    return store.root / ".arsip-meta" / key


def test_file_store_records_digest_and_lock_in_a_sidecar(fstore: FileStore, clock: FixedClock) -> None:
    until = clock.now() + timedelta(days=1)
    fstore.put_bytes("k", b"data", content_type="application/warc",
                     lock=LockOptions(LockMode.COMPLIANCE, until))
    record = json.loads(sidecar(fstore, "k").read_text())
    assert record["state"] == "committed"
    assert record["sha256"] == sha(b"data")
    assert record["content_type"] == "application/warc"
    assert record["lock_mode"] == "COMPLIANCE"


def test_committed_digest_is_reported_even_if_the_file_was_altered(fstore: FileStore) -> None:
    # Recomputing here would hide tampering from `arsip verify`, which compares the two.
    fstore.put_bytes("k", b"original")
    (fstore.root / "k").write_bytes(b"tampered")
    info = fstore.head("k")
    assert info is not None and info.sha256 == sha(b"original")


def test_a_file_without_sidecar_gets_its_digest_computed(fstore: FileStore) -> None:
    fstore.put_bytes("seed", b"x")
    (fstore.root / "restored.bin").write_bytes(b"copied in by hand")
    info = fstore.head("restored.bin")
    assert info is not None and info.sha256 == sha(b"copied in by hand") and not info.legal_hold


def write_pending(store: FileStore, key: str, digest: str, previous: dict[str, object] | None) -> None:
    record = json.loads(sidecar(store, key).read_text())
    record.update(state="pending", sha256=digest, legal_hold=True, previous=previous)
    sidecar(store, key).write_text(json.dumps(record))


def test_pending_sidecar_matching_the_file_means_the_write_landed(fstore: FileStore) -> None:
    fstore.put_bytes("k", b"new bytes")
    write_pending(fstore, "k", sha(b"new bytes"), previous=None)  # crash before the commit
    info = fstore.head("k")
    assert info is not None and info.legal_hold and info.sha256 == sha(b"new bytes")
    with pytest.raises(ObjectLocked):
        fstore.delete("k")


def test_pending_sidecar_not_matching_the_file_falls_back_to_the_previous_state(
        fstore: FileStore) -> None:
    fstore.put_bytes("k", b"old bytes")
    previous = json.loads(sidecar(fstore, "k").read_text())
    write_pending(fstore, "k", sha(b"bytes that never landed"), previous=previous)
    info = fstore.head("k")
    assert info is not None and not info.legal_hold and info.sha256 == sha(b"old bytes")
    fstore.delete("k")


def test_a_pending_sidecar_without_a_file_is_no_object(fstore: FileStore) -> None:
    fstore.put_bytes("k", b"x")
    (fstore.root / "k").unlink()
    assert fstore.head("k") is None
    fstore.put_bytes("k", b"again", if_absent=True)
    assert fstore.get_bytes("k") == b"again"


def test_a_corrupt_sidecar_is_reported_with_what_to_do(fstore: FileStore) -> None:
    fstore.put_bytes("k", b"x")
    sidecar(fstore, "k").write_text("{not json")
    with pytest.raises(StoreError) as caught:
        fstore.head("k")
    assert "restore it from backup" in str(caught.value)


def test_a_failed_stream_leaves_no_object_and_no_temp_file(fstore: FileStore) -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            raise OSError("connection reset")

    fstore.put_bytes("dir/seed", b"x")
    with pytest.raises(StoreError):
        fstore.put_stream("dir/k", Broken())  # type: ignore[arg-type]
    assert fstore.head("dir/k") is None
    assert sorted(p.name for p in (fstore.root / "dir").iterdir()) == ["seed"]


def test_an_over_long_segment_is_a_bad_key_not_an_os_error(fstore: FileStore) -> None:
    with pytest.raises(BadKey):
        fstore.put_bytes("x" * 300, b"x")


def test_two_file_stores_on_one_root_see_each_others_objects(tmp_path: Path) -> None:
    first, second = FileStore(tmp_path / "o"), FileStore(tmp_path / "o")
    first.put_bytes("k", b"x", if_absent=True)
    assert second.get_bytes("k") == b"x"
    assert second.head("k") == first.head("k")


def test_deleting_from_a_store_that_was_never_written_creates_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "never-written")
    with pytest.raises(ObjectNotFound):
        store.delete("k")
    with pytest.raises(ObjectNotFound):
        store.set_legal_hold("k", True)
    assert list(store.list()) == []
    assert not (tmp_path / "never-written").exists()


def test_concurrent_if_absent_writers_have_exactly_one_winner(tmp_path: Path) -> None:
    # Separate store instances so only the cross-process flock (not the per-instance mutex)
    # keeps them apart.
    stores = [FileStore(tmp_path / "o") for _ in range(8)]
    barrier = threading.Barrier(len(stores))

    def write(index: int) -> bytes | None:
        barrier.wait()
        try:
            stores[index].put_bytes("contested", b"writer %d" % index, if_absent=True)
        except ObjectExists:
            return None
        return b"writer %d" % index

    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        winners = [w for w in pool.map(write, range(len(stores))) if w is not None]
    assert len(winners) == 1
    assert stores[0].get_bytes("contested") == winners[0]
    info = stores[0].head("contested")
    assert info is not None and info.sha256 == sha(winners[0])
