"""Ed25519 signing keys: an encrypted key directory with one active key, rotation, and public-key export.

Every record envelope and log checkpoint is signed with the active key. Retired keys stay listed so
old signatures keep verifying, and the public half of every key is exported as JSON for auditors who
verify offline. Private keys never touch disk unencrypted, and a key directory others can read or
write is refused, because a leaked or swapped key undermines every signature in the archive.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import pkcs12

from archiver.clock import Clock, isoformat_z, parse_timestamp, utc
from archiver.errors import SigningKeyError

ALGORITHM = "ed25519"
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
MIN_PASSPHRASE_BYTES = 12
EXPORT_FORMAT = "arsip-public-keys/1"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class InsecureKeyFileError(SigningKeyError):
    """A key file or the key directory can be read or changed by other users."""

    code = "insecure_key_file"


class KeyLockedError(SigningKeyError):
    """The private key could not be decrypted (no passphrase, or the wrong one)."""

    code = "key_locked"


class KeyStateError(SigningKeyError):
    """The key directory does not hold exactly the keys an operation needs (none or two active)."""

    code = "key_state"


class KeyMetadataError(SigningKeyError):
    """A public key document is malformed or does not match its key id."""

    code = "key_metadata"


def key_id_for(public_key_bytes: bytes) -> str:
    """First 16 lowercase hex characters of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(public_key_bytes).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKeyInfo:
    """The public, publishable half of a signing key and its lifetime."""

    key_id: str
    public_key_bytes: bytes
    created_at: datetime
    retired_at: datetime | None
    status: KeyStatus

    def __post_init__(self) -> None:
        if len(self.public_key_bytes) != PUBLIC_KEY_SIZE:
            raise KeyMetadataError(f"key {self.key_id}: an Ed25519 public key has {PUBLIC_KEY_SIZE} bytes, "
                                   f"not {len(self.public_key_bytes)}")
        if self.key_id != key_id_for(self.public_key_bytes):
            expected = key_id_for(self.public_key_bytes)
            raise KeyMetadataError(f"key id {self.key_id} does not match its public key "
                                   f"(expected {expected}); the key file was altered")
        if (self.status is KeyStatus.RETIRED) != (self.retired_at is not None):
            raise KeyMetadataError(f"key {self.key_id}: status {self.status} disagrees with retired_at")
        utc(self.created_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "algorithm": ALGORITHM,
            "public_key": base64.b64encode(self.public_key_bytes).decode("ascii"),
            "created_at": isoformat_z(self.created_at),
            "retired_at": isoformat_z(self.retired_at) if self.retired_at else None,
            "status": str(self.status),
        }

    @classmethod
    def from_json(cls, data: Any) -> PublicKeyInfo:
        """Parse a published key document, refusing anything that is not a well-formed Ed25519 key."""
        if not isinstance(data, dict) or data.get("algorithm") != ALGORITHM:
            raise KeyMetadataError(f"public key document must be an object with algorithm {ALGORITHM!r}")
        try:
            public = base64.b64decode(data["public_key"], validate=True)
            created = parse_timestamp(data["created_at"])
            retired = parse_timestamp(data["retired_at"]) if data.get("retired_at") else None
            return cls(str(data["key_id"]), public, created, retired, KeyStatus(data["status"]))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise KeyMetadataError(f"public key document {data.get('key_id')!r} is malformed: {exc}") from exc


class Signer:
    """A decrypted Ed25519 key held in memory; ``sign`` is a thin call so capture can sign quickly."""

    algorithm = ALGORITHM

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key_bytes: bytes = private_key.public_key().public_bytes_raw()
        self.key_id: str = key_id_for(self.public_key_bytes)

    @classmethod
    def from_seed(cls, seed: bytes) -> Signer:
        """A signer from 32 raw seed bytes (deterministic; for golden tests and imported keys)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"


@functools.lru_cache(maxsize=64)
def _public_key(public_key_bytes: bytes) -> Ed25519PublicKey:
    # Verifiers check millions of envelopes against a handful of keys; parse each key once.
    return Ed25519PublicKey.from_public_bytes(public_key_bytes)


def verify_signature(public_key_bytes: bytes, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data``; never raises on bad input."""
    if not (isinstance(public_key_bytes, bytes) and isinstance(signature, bytes) and isinstance(data, bytes)):
        return False
    if len(public_key_bytes) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        _public_key(public_key_bytes).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_keys_from_export(document: Any) -> list[PublicKeyInfo]:
    """Read the document :meth:`KeyRing.export_public` writes (what an offline verifier is handed)."""
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise KeyMetadataError(f"not an Arsip public key export (expected format {EXPORT_FORMAT!r})")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise KeyMetadataError("public key export has no 'keys' list")
    return [PublicKeyInfo.from_json(item) for item in keys]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write via a fresh temp file created with ``mode`` (O_EXCL), then rename over ``path``.

    Creating the temp file with its final mode means a private key is never briefly world-readable,
    and the rename means a crash leaves the old file or the new one, never half of either.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


KDF_ROUNDS = 600_000


def _encryption(passphrase: bytes) -> serialization.KeySerializationEncryption:
    """PKCS#12 with PBES2 (PBKDF2-HMAC-SHA256, 600,000 iterations) and AES-256-CBC.

    PKCS#8's "best available" encryption in cryptography uses only 2,048 PBKDF2 iterations and
    cannot be tuned; PKCS#12 can, at about 0.1 s per decryption, which happens once per process.
    """
    return (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
            .build(passphrase))


def _check_private_file(path: Path) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise InsecureKeyFileError(f"signing key file {path} is a symlink; replace it with the real file "
                                   "(a link lets whoever controls its target swap the key)")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureKeyFileError(f"signing key file {path} is accessible by group or others "
                                   f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}")


class KeyRing:
    """The signing keys in one directory (``$ARSIP_HOME/keys``): ``<id>.key`` and ``<id>.json`` each.

    The ``status`` field of the ``.json`` files is the single record of which key is active; exactly
    one may be. Rotation retires the old key before the new one becomes active, so a crash in between
    leaves no active key (``generate`` then finishes the job) rather than two.
    """

    def __init__(self, directory: Path, passphrase: bytes | None, clock: Clock) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._clock = clock

    def check_permissions(self) -> None:
        """Refuse a key directory others can write or a private key file others can touch."""
        if not self.directory.exists():
            return
        directory, mode = self.directory, self.directory.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise InsecureKeyFileError(f"signing key directory {directory} is writable by group or others "
                                       f"(mode {stat.S_IMODE(mode):o}); run: chmod 700 {directory}")
        for path in sorted(self.directory.glob("*.key")):
            _check_private_file(path)

    def list(self) -> list[PublicKeyInfo]:
        """All keys, active and retired, oldest first."""
        if not self.directory.exists():
            return []
        infos = [self._read_info(path) for path in self.directory.glob("*.json")]
        return sorted(infos, key=lambda info: (info.created_at, info.key_id))

    def public_keys(self) -> dict[str, bytes]:
        return {info.key_id: info.public_key_bytes for info in self.list()}

    def export_public(self) -> dict[str, Any]:
        """Every public key as one JSON document, for auditors and offline verifiers."""
        return {"format": EXPORT_FORMAT, "keys": [info.to_json() for info in self.list()]}

    def active(self) -> PublicKeyInfo | None:
        actives = [info for info in self.list() if info.status is KeyStatus.ACTIVE]
        if len(actives) > 1:
            ids = ", ".join(info.key_id for info in actives)
            raise KeyStateError(f"{len(actives)} signing keys are marked active in {self.directory} ({ids}); "
                                "set \"status\": \"retired\" and a retired_at in all but the newest .json")
        return actives[0] if actives else None

    def generate(self) -> PublicKeyInfo:
        """Create the first (or, after an interrupted rotation, the next) active key."""
        self.check_permissions()
        current = self.active()
        if current is not None:
            raise KeyStateError(f"signing key {current.key_id} is already active; "
                                "use `arsip keys rotate` to replace it")
        return self._create_active_key()

    def rotate(self) -> PublicKeyInfo:
        """Retire the active key (it stays listed and verifiable) and make a new one active."""
        current = self.active()
        if current is None:
            raise KeyStateError(f"no active signing key in {self.directory}; run `arsip keys generate` first")
        self._require_new_passphrase()
        # Decrypting the old key first proves the passphrase is the operator's real one, so a typo
        # cannot become the passphrase of the new key.
        self.active_signer()
        retired = replace(current, status=KeyStatus.RETIRED, retired_at=utc(self._clock.now()))
        self._write_info(retired)
        return self._create_active_key()

    def active_signer(self) -> Signer:
        """Decrypt the active key once; keep the returned Signer for the whole capture run."""
        self.check_permissions()
        info = self.active()
        if info is None:
            raise KeyStateError(f"no active signing key in {self.directory}; run `arsip keys generate`")
        path = self._key_path(info.key_id)
        if not path.exists():
            raise KeyStateError(f"private key file {path} for active key {info.key_id} is missing; "
                                "restore it from backup or run `arsip keys rotate` with a new key")
        signer = Signer(self._decrypt(info.key_id, path.read_bytes()))
        if signer.public_key_bytes != info.public_key_bytes:
            raise KeyMetadataError(f"private key {path} does not match the public key in "
                                   f"{self._info_path(info.key_id)}; one of the files was replaced")
        return signer

    def _decrypt(self, key_id: str, sealed: bytes) -> Ed25519PrivateKey:
        if not self._passphrase:
            raise KeyLockedError(f"signing key {key_id} is encrypted and no passphrase is set; "
                                 "set ARSIP_KEY_PASSPHRASE or key_passphrase_file")
        try:
            key, _certificate, _chain = pkcs12.load_key_and_certificates(sealed, self._passphrase)
        except (ValueError, TypeError) as exc:
            raise KeyLockedError(f"cannot decrypt signing key {key_id}: wrong ARSIP_KEY_PASSPHRASE? "
                                 f"({exc})") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyMetadataError(f"signing key {key_id} is not an Ed25519 key")
        return key

    def _create_active_key(self) -> PublicKeyInfo:
        passphrase = self._require_new_passphrase()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.check_permissions()
        private = Ed25519PrivateKey.generate()
        signer = Signer(private)
        sealed = pkcs12.serialize_key_and_certificates(b"arsip signing key", private, None, None,
                                                       _encryption(passphrase))
        info = PublicKeyInfo(signer.key_id, signer.public_key_bytes, utc(self._clock.now()), None,
                             KeyStatus.ACTIVE)
        # The private key lands first: a .json without its .key would be an active key nobody can use.
        _write_atomic(self._key_path(info.key_id), sealed, 0o600)
        self._write_info(info)
        return info

    def _require_new_passphrase(self) -> bytes:
        if self._passphrase is None or len(self._passphrase) < MIN_PASSPHRASE_BYTES:
            raise SigningKeyError(
                f"a signing key passphrase of at least {MIN_PASSPHRASE_BYTES} bytes is required to create "
                "a key; set ARSIP_KEY_PASSPHRASE or key_passphrase_file", code="weak_passphrase")
        return self._passphrase

    def _write_info(self, info: PublicKeyInfo) -> None:
        data = json.dumps(info.to_json(), indent=2, sort_keys=True).encode("utf-8") + b"\n"
        _write_atomic(self._info_path(info.key_id), data, 0o644)

    def _read_info(self, path: Path) -> PublicKeyInfo:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyMetadataError(f"cannot read key metadata {path}: {exc}") from exc
        info = PublicKeyInfo.from_json(data)
        if path.stem != info.key_id:
            raise KeyMetadataError(f"key metadata {path} describes key {info.key_id}; "
                                   f"rename it to {info.key_id}.json or restore the original")
        return info

    def _key_path(self, key_id: str) -> Path:
        return self.directory / f"{key_id}.key"

    def _info_path(self, key_id: str) -> Path:
        return self.directory / f"{key_id}.json"
