"""C2SP checkpoints in the signed-note format: the signed tree heads auditors check offline.

A checkpoint is the text ``origin\\nsize\\nbase64(root)\\n[extension lines]`` followed by a blank line
and ``— <name> <base64(key hint || signature)>`` lines (U+2014 EM DASH). We follow the C2SP
``tlog-checkpoint`` and ``signed-note`` specs and Go's ``golang.org/x/mod/sumdb/note`` so our
checkpoints can be checked with the transparency-dev tools as well as our own verifier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from archiver.errors import IntegrityError
from archiver.integrity.keys import PUBLIC_KEY_SIZE, verify_signature

MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100  # as in Go's note.Open: parsing a note must stay cheap
ED25519_NOTE_ALG = 0x01
SIGNATURE_PREFIX = "\u2014 "
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,19})")
_MAX_SIZE = (1 << 64) - 1
_HINT_SIZE = 4


class CheckpointFormatError(IntegrityError):
    """A checkpoint or note is not in the signed-note format."""

    code = "checkpoint_format"


class CheckpointSignatureError(IntegrityError):
    """A checkpoint carries no valid signature from a trusted key, or a trusted key's signature is bad."""

    code = "checkpoint_signature"


class CheckpointOriginError(IntegrityError):
    """A checkpoint names a different log than the verifier expected."""

    code = "checkpoint_origin"


class NoteSigner(Protocol):
    """What signing a note needs; :class:`archiver.integrity.keys.Signer` fits."""

    @property
    def public_key_bytes(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


def _check_text_line(value: str, what: str) -> None:
    if not value:
        raise CheckpointFormatError(f"checkpoint {what} is empty")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise CheckpointFormatError(f"checkpoint {what} {value[:80]!r} contains a control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointFormatError(f"checkpoint {what} {value[:80]!r} is not valid Unicode text") from None


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement: at ``size`` leaves, ``origin``'s tree has root ``root_hash``."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_text_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointFormatError(f"checkpoint size {self.size!r} is not an unsigned 64-bit integer")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise CheckpointFormatError("checkpoint root hash must be 32 bytes (SHA-256)")
        for line in self.extensions:
            _check_text_line(line, "extension line")

    def body(self) -> bytes:
        """The signed bytes: every line, including the last, ends in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")


def note_key_hint(name: str, public_key_bytes: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || "\\n" || 0x01 || key): tells a verifier which key signed."""
    material = name.encode("utf-8") + b"\n" + bytes([ED25519_NOTE_ALG]) + public_key_bytes
    return hashlib.sha256(material).digest()[:_HINT_SIZE]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise CheckpointFormatError(f"signature name {name[:80]!r} must be non-empty, "
                                    "without spaces and without '+'")


def _strict_b64(text: str, what: str) -> bytes:
    """Standard padded base64, with nothing that would decode to the same bytes a second way."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise CheckpointFormatError(f"{what} is not valid base64: {text[:80]!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointFormatError(f"{what} is not canonical padded base64: {text[:80]!r}")
    return raw


@dataclass(frozen=True)
class NoteVerifierKey:
    """A trusted (name, Ed25519 public key) pair; ``to_vkey`` gives Go's verifier-key string."""

    name: str
    public_key_bytes: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key_bytes) != PUBLIC_KEY_SIZE:
            raise CheckpointFormatError(f"verifier key {self.name} must hold a {PUBLIC_KEY_SIZE}-byte "
                                        "Ed25519 public key")

    @property
    def key_hint(self) -> bytes:
        return note_key_hint(self.name, self.public_key_bytes)

    def to_vkey(self) -> str:
        encoded = base64.b64encode(bytes([ED25519_NOTE_ALG]) + self.public_key_bytes).decode("ascii")
        return f"{self.name}+{self.key_hint.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifierKey:
        """Parse ``<name>+<8 hex hint>+<base64(0x01 || key)>``, checking the hint matches."""
        parts = vkey.strip().split("+")
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise CheckpointFormatError(f"verifier key {vkey[:80]!r} is not <name>+<8 hex>+<base64 key>")
        material = _strict_b64(parts[2], f"verifier key {parts[0]!r}")
        if len(material) != 1 + PUBLIC_KEY_SIZE or material[0] != ED25519_NOTE_ALG:
            raise CheckpointFormatError(f"verifier key {parts[0]!r} is not an Ed25519 note key")
        key = cls(parts[0], material[1:])
        if key.key_hint.hex() != parts[1]:
            raise CheckpointFormatError(f"verifier key {parts[0]!r}: key hint {parts[1]} does not match the "
                                        f"key (expected {key.key_hint.hex()}); the key string was altered")
        return key

    def verify(self, body: bytes, signature: bytes) -> bool:
        return verify_signature(self.public_key_bytes, signature, body)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note, as parsed (not yet verified)."""

    name: str
    key_hint: bytes
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_hint + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def _signature_for(body: bytes, name: str, signer: NoteSigner) -> NoteSignature:
    _check_name(name)
    hint = note_key_hint(name, signer.public_key_bytes)
    return NoteSignature(name, hint, signer.sign(body))


def sign_note(text: str, name: str, signer: NoteSigner) -> str:
    """Any note text (ending in a newline) plus a blank line and one signature line by ``name``."""
    _check_note_text(text)
    if "\n\n" in text or text == "\n":
        raise CheckpointFormatError("note text must not contain blank lines; they end the text")
    return text + "\n" + _signature_for(text.encode("utf-8"), name, signer).line()


def sign_checkpoint(checkpoint: Checkpoint, name: str, signer: NoteSigner) -> str:
    """The checkpoint as a signed note with one signature line by ``name``."""
    return sign_note(checkpoint.body().decode("utf-8"), name, signer)


def add_signature(note_text: str, name: str, signer: NoteSigner) -> str:
    """Co-sign: append a signature line to an existing note; signing twice with one key is a no-op."""
    checkpoint, signatures = parse_note(note_text)
    new = _signature_for(checkpoint.body(), name, signer)
    for existing in signatures:
        if (existing.name, existing.key_hint) == (new.name, new.key_hint):
            if existing == new:
                return note_text
            raise CheckpointSignatureError(f"checkpoint {checkpoint.origin} size {checkpoint.size} already "
                                           f"carries a different signature by {name}; it does not verify")
    return note_text + new.line()


def _check_note_text(text: str) -> None:
    if len(text) > MAX_NOTE_BYTES:
        raise CheckpointFormatError(f"note is larger than {MAX_NOTE_BYTES} bytes; refusing to parse it")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise CheckpointFormatError("note is not valid UTF-8 text") from exc
    if size > MAX_NOTE_BYTES:
        raise CheckpointFormatError(f"note is larger than {MAX_NOTE_BYTES} bytes; refusing to parse it")
    if any((ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F for ch in text):
        raise CheckpointFormatError("note contains a control character other than newline (CR, tab, NUL?)")
    if not text.endswith("\n"):
        raise CheckpointFormatError("note does not end with a newline; it was truncated")


def _parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointFormatError("checkpoint body needs origin, size and root hash lines")
    if "" in lines:
        raise CheckpointFormatError("checkpoint body contains an empty line")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > _MAX_SIZE:
        raise CheckpointFormatError(f"checkpoint size {size_text[:80]!r} is not a decimal tree size")
    root = _strict_b64(root_text, "checkpoint root hash")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise CheckpointFormatError(f"signature line {line[:80]!r} does not start with an em dash (U+2014) "
                                    "and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
    _check_name(name)
    if not encoded:
        raise CheckpointFormatError(f"signature line for {name} has no base64 signature after the name")
    raw = _strict_b64(encoded, f"signature by {name}")
    if len(raw) <= _HINT_SIZE:
        raise CheckpointFormatError(f"signature by {name} is too short to hold a key hint and a signature")
    return NoteSignature(name, raw[:_HINT_SIZE], raw[_HINT_SIZE:])


def split_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Any signed note's text (with its final newline) and its parsed, not yet verified, signatures."""
    _check_note_text(text)
    split = text.rfind("\n\n")
    if split < 0:
        raise CheckpointFormatError("note has no blank line between its text and its signatures")
    body, signature_block = text[: split + 1], text[split + 2:]
    if not signature_block:
        raise CheckpointFormatError("note has no signature lines after the blank line")
    lines = signature_block.split("\n")[:-1]
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointFormatError(f"note has more than {MAX_SIGNATURES} signatures; refusing to parse it")
    return body, [_parse_signature_line(line) for line in lines]


def parse_note(text: str) -> tuple[Checkpoint, list[NoteSignature]]:
    """Parse a signed checkpoint strictly, without checking signatures (see :func:`verify_checkpoint`)."""
    body, signatures = split_note(text)
    return _parse_body(body), signatures


def _verify_signatures(body: bytes, signatures: list[NoteSignature], keys: Iterable[NoteVerifierKey],
                       where: str) -> None:
    trusted = {(key.name, key.key_hint): key for key in keys}
    verified = 0
    for sig in signatures:
        key = trusted.get((sig.name, sig.key_hint))
        if key is None:
            continue
        if not key.verify(body, sig.signature):
            raise CheckpointSignatureError(f"{where}: signature by {sig.name} (key {sig.key_hint.hex()}) "
                                           "does not verify; the text or its signature was altered")
        verified += 1
    if not verified:
        names = ", ".join(sorted({sig.name for sig in signatures}))
        raise CheckpointSignatureError(f"{where} has no signature from a trusted key (signed by: {names}); "
                                       "check you were given the log's public key")


def verify_note(text: str, keys: Iterable[NoteVerifierKey]) -> str:
    """The text of any signed note, once a trusted key's signature over it verifies."""
    body, signatures = split_note(text)
    _verify_signatures(body.encode("utf-8"), signatures, keys, f"note {body[:60].splitlines()[0]!r}")
    return body


def verify_checkpoint(text: str, keys: Iterable[NoteVerifierKey], *, origin: str | None = None) -> Checkpoint:
    """The checkpoint, once at least one signature by a trusted key verifies.

    Signatures by unknown keys are ignored (witnesses may co-sign with keys we do not hold), but a
    signature that claims a trusted key and does not verify is an error: it means tampering.
    """
    body, signatures = split_note(text)
    checkpoint = _parse_body(body)
    where = f"checkpoint {checkpoint.origin} at size {checkpoint.size}"
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointOriginError(f"{where} belongs to another log; expected origin {origin}")
    # The signed bytes are the text as received, not a re-rendering of the parsed checkpoint.
    _verify_signatures(body.encode("utf-8"), signatures, keys, where)
    return checkpoint
