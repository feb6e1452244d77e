"""Ed25519 signing keys: encrypted storage, rotation, permission checks and public-key export."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from archiver.clock import FixedClock
from archiver.errors import SigningKeyError
from archiver.integrity import keys as keys_module
from archiver.integrity.keys import (
    InsecureKeyFileError,
    KeyLockedError,
    KeyMetadataError,
    KeyRing,
    KeyStateError,
    KeyStatus,
    PublicKeyInfo,
    Signer,
    key_id_for,
    public_keys_from_export,
    verify_signature,
)

PASSPHRASE = b"correct horse battery"

# RFC 8032 §7.1, TEST 1 (empty message).
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def ring(key_dir: Path, clock: FixedClock) -> KeyRing:
    return KeyRing(key_dir, PASSPHRASE, clock)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_id_is_sha256_prefix_of_raw_public_key() -> None:
    assert key_id_for(RFC8032_PUBLIC) == hashlib.sha256(RFC8032_PUBLIC).hexdigest()[:16]
    assert len(key_id_for(RFC8032_PUBLIC)) == 16


def test_signer_matches_rfc8032_test_vector() -> None:
    signer = Signer.from_seed(RFC8032_SECRET)
    assert signer.public_key_bytes == RFC8032_PUBLIC
    assert signer.sign(b"") == RFC8032_SIGNATURE
    assert signer.key_id == key_id_for(RFC8032_PUBLIC)
    assert verify_signature(RFC8032_PUBLIC, RFC8032_SIGNATURE, b"")


@pytest.mark.parametrize(("public", "signature", "data"), [
    (RFC8032_PUBLIC, RFC8032_SIGNATURE, b"x"),
    (RFC8032_PUBLIC, RFC8032_SIGNATURE[:-1] + b"\x00", b""),
    (RFC8032_PUBLIC[:31], RFC8032_SIGNATURE, b""),
    (RFC8032_PUBLIC, RFC8032_SIGNATURE[:63], b""),
    (b"\xff" * 32, RFC8032_SIGNATURE, b""),
    ("not bytes", RFC8032_SIGNATURE, b""),
    (RFC8032_PUBLIC, None, b""),
])
def test_verify_signature_is_false_on_bad_input_never_raises(public: object, signature: object,
                                                             data: bytes) -> None:
    assert verify_signature(public, signature, data) is False  # type: ignore[arg-type]


def test_generate_sign_verify(ring: KeyRing) -> None:
    info = ring.generate()
    signer = ring.active_signer()
    assert signer.key_id == info.key_id and info.status is KeyStatus.ACTIVE
    signature = signer.sign(b"envelope")
    assert verify_signature(info.public_key_bytes, signature, b"envelope")
    assert not verify_signature(info.public_key_bytes, signature, b"envelope!")
    assert ring.public_keys() == {info.key_id: info.public_key_bytes}


def test_generated_files_are_private_and_encrypted(ring: KeyRing, key_dir: Path, umask_022: None) -> None:
    info = ring.generate()
    key_file, meta_file = key_dir / f"{info.key_id}.key", key_dir / f"{info.key_id}.json"
    assert _mode(key_file) == 0o600
    assert _mode(key_dir) == 0o700
    sealed = key_file.read_bytes()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(sealed, None)  # encrypted: unreadable without the passphrase
    pbkdf2_oid = bytes.fromhex("06092a864886f70d01050c")  # 1.2.840.113549.1.5.12
    assert pbkdf2_oid in sealed and bytes.fromhex("02030927c0") in sealed  # PBKDF2 with 600,000 iterations
    assert ring.active_signer().public_key_bytes == info.public_key_bytes
    assert json.loads(meta_file.read_text())["status"] == "active"
    assert sorted(p.name for p in key_dir.iterdir()) == sorted([key_file.name, meta_file.name])


def test_private_key_is_never_world_readable_even_before_rename(ring: KeyRing,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    modes: dict[str, int] = {}
    real_replace = os.replace

    def recording_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        modes[Path(dst).suffix] = _mode(Path(src))
        real_replace(src, dst)

    previous = os.umask(0)  # even a careless umask must not widen the key file
    try:
        monkeypatch.setattr(keys_module.os, "replace", recording_replace)
        ring.generate()
    finally:
        os.umask(previous)
    assert modes[".key"] == 0o600


def test_generate_refuses_when_a_key_is_active(ring: KeyRing) -> None:
    info = ring.generate()
    with pytest.raises(KeyStateError, match=f"{info.key_id} is already active.*rotate"):
        ring.generate()


def test_rotate_keeps_old_signatures_verifiable(ring: KeyRing, clock: FixedClock) -> None:
    old = ring.generate()
    old_signature = ring.active_signer().sign(b"v1")
    clock.advance(3600)
    new = ring.rotate()
    signer = ring.active_signer()
    assert signer.key_id == new.key_id != old.key_id
    listed = ring.list()
    assert [k.key_id for k in listed] == [old.key_id, new.key_id]
    assert [k.status for k in listed] == [KeyStatus.RETIRED, KeyStatus.ACTIVE]
    assert listed[0].retired_at == clock.now() and listed[1].retired_at is None
    assert verify_signature(ring.public_keys()[old.key_id], old_signature, b"v1")
    assert not verify_signature(new.public_key_bytes, old_signature, b"v1")
    assert verify_signature(new.public_key_bytes, signer.sign(b"v2"), b"v2")


def test_exactly_one_key_is_active_after_many_rotations(ring: KeyRing, clock: FixedClock) -> None:
    ring.generate()
    for _ in range(3):
        clock.advance(60)
        ring.rotate()
    statuses = [k.status for k in ring.list()]
    assert statuses.count(KeyStatus.ACTIVE) == 1 and len(statuses) == 4
    assert statuses[-1] is KeyStatus.ACTIVE


def test_rotate_without_a_key_says_generate(ring: KeyRing) -> None:
    with pytest.raises(KeyStateError, match="arsip keys generate"):
        ring.rotate()


def test_wrong_passphrase_gives_clear_error(ring: KeyRing, key_dir: Path, clock: FixedClock) -> None:
    info = ring.generate()
    with pytest.raises(KeyLockedError, match=f"cannot decrypt signing key {info.key_id}: "
                                             "wrong ARSIP_KEY_PASSPHRASE") as caught:
        KeyRing(key_dir, b"not the passphrase", clock).active_signer()
    assert isinstance(caught.value, SigningKeyError)


def test_missing_passphrase_gives_clear_error(ring: KeyRing, key_dir: Path, clock: FixedClock) -> None:
    ring.generate()
    with pytest.raises(KeyLockedError, match="ARSIP_KEY_PASSPHRASE"):
        KeyRing(key_dir, None, clock).active_signer()


def test_rotate_with_wrong_passphrase_changes_nothing(ring: KeyRing, key_dir: Path,
                                                      clock: FixedClock) -> None:
    info = ring.generate()
    with pytest.raises(KeyLockedError):
        KeyRing(key_dir, b"typo typo typo typo", clock).rotate()
    assert [(k.key_id, k.status) for k in ring.list()] == [(info.key_id, KeyStatus.ACTIVE)]


@pytest.mark.parametrize("passphrase", [None, b"", b"elevenbytes"])
def test_short_passphrase_is_refused_at_generate(key_dir: Path, clock: FixedClock,
                                                 passphrase: bytes | None) -> None:
    with pytest.raises(SigningKeyError, match="at least 12 bytes") as caught:
        KeyRing(key_dir, passphrase, clock).generate()
    assert caught.value.code == "weak_passphrase"
    assert not key_dir.exists() or not any(key_dir.iterdir())


def test_group_readable_key_file_is_refused(ring: KeyRing, key_dir: Path) -> None:
    info = ring.generate()
    key_file = key_dir / f"{info.key_id}.key"
    key_file.chmod(0o644)
    with pytest.raises(InsecureKeyFileError, match=f"chmod 600 {key_file}") as caught:
        ring.active_signer()
    assert caught.value.code == "insecure_key_file"
    with pytest.raises(InsecureKeyFileError):
        ring.generate()


def test_world_writable_key_directory_is_refused(ring: KeyRing, key_dir: Path) -> None:
    ring.generate()
    key_dir.chmod(0o777)
    try:
        with pytest.raises(InsecureKeyFileError, match=f"chmod 700 {key_dir}"):
            ring.active_signer()
    finally:
        key_dir.chmod(0o700)


def test_symlinked_key_file_is_refused(ring: KeyRing, key_dir: Path, tmp_path: Path) -> None:
    info = ring.generate()
    key_file = key_dir / f"{info.key_id}.key"
    elsewhere = tmp_path / "elsewhere.key"
    key_file.rename(elsewhere)
    key_file.symlink_to(elsewhere)
    with pytest.raises(InsecureKeyFileError, match="symlink"):
        ring.active_signer()


def test_two_active_keys_are_an_error(ring: KeyRing, key_dir: Path, clock: FixedClock) -> None:
    old = ring.generate()
    clock.advance(60)
    ring.rotate()
    meta = key_dir / f"{old.key_id}.json"
    data = json.loads(meta.read_text())
    data.update(status="active", retired_at=None)
    meta.write_text(json.dumps(data))
    with pytest.raises(KeyStateError, match="2 signing keys are marked active"):
        ring.active_signer()


def test_interrupted_rotation_leaves_no_active_key_and_generate_recovers(
        ring: KeyRing, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    old = ring.generate()
    clock.advance(60)

    def crash(self: KeyRing) -> PublicKeyInfo:
        raise OSError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(KeyRing, "_create_active_key", crash)
        with pytest.raises(OSError):
            ring.rotate()
    with pytest.raises(KeyStateError, match="no active signing key"):
        ring.active_signer()
    new = ring.generate()
    assert [(k.key_id, k.status) for k in ring.list()] == [(old.key_id, KeyStatus.RETIRED),
                                                           (new.key_id, KeyStatus.ACTIVE)]


def test_replaced_private_key_is_detected(ring: KeyRing, key_dir: Path, clock: FixedClock) -> None:
    first = ring.generate()
    other = KeyRing(key_dir.parent / "other", PASSPHRASE, clock).generate()
    foreign = key_dir.parent / "other" / f"{other.key_id}.key"
    (key_dir / f"{first.key_id}.key").write_bytes(foreign.read_bytes())
    with pytest.raises(KeyMetadataError, match="does not match"):
        ring.active_signer()


def test_export_public_round_trips(ring: KeyRing, clock: FixedClock) -> None:
    ring.generate()
    clock.advance(60)
    ring.rotate()
    document = json.loads(json.dumps(ring.export_public()))
    assert public_keys_from_export(document) == ring.list()
    entry = document["keys"][0]
    assert entry["algorithm"] == "ed25519"
    assert base64.b64decode(entry["public_key"]) == ring.list()[0].public_key_bytes
    assert entry["created_at"] == "2025-03-01T12:00:00.000000Z"


def test_public_key_info_json_rejects_tampering(ring: KeyRing) -> None:
    data = ring.generate().to_json()
    assert PublicKeyInfo.from_json(data).to_json() == data
    for field, value in [("key_id", "0" * 16), ("public_key", base64.b64encode(b"\x01" * 32).decode()),
                         ("algorithm", "rsa"), ("status", "bogus"), ("created_at", "2025-03-01T12:00:00"),
                         ("retired_at", "2025-03-02T00:00:00Z"), ("public_key", "***")]:
        with pytest.raises(KeyMetadataError):
            PublicKeyInfo.from_json({**data, field: value})
    with pytest.raises(KeyMetadataError):
        public_keys_from_export({"keys": [data]})


def test_list_is_empty_without_a_directory(ring: KeyRing) -> None:
    assert ring.list() == [] and ring.export_public()["keys"] == []
    with pytest.raises(KeyStateError, match="arsip keys generate"):
        ring.active_signer()


def test_signer_repr_does_not_leak_key(ring: KeyRing) -> None:
    ring.generate()
    signer = ring.active_signer()
    assert repr(signer) == f"Signer(key_id={signer.key_id!r})"
