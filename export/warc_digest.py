"""Check a WARC digest field (``sha256:<hex>``, ``sha1:<BASE32>``, ...) against bytes as they stream past."""

from __future__ import annotations

import base64
import binascii
import hashlib

# hashlib names for the labels WARC writers use; readers should accept "sha-256" for "sha256".
ALGORITHMS = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "md5": "md5"}


class DigestCheck:
    """Hashes what is fed to it and says whether that matches the declared ``alg:value`` field.

    Only a declared digest that decodes (hex, base32 or base64, per the IIPC recommendation for
    readers) can be checked; ``checkable`` is False for an unknown algorithm or an undecodable value.
    """

    def __init__(self, declared: str) -> None:
        label, _, value = declared.strip().partition(":")
        name = ALGORITHMS.get(label.strip().lower().replace("-", ""))
        self._hash = hashlib.new(name) if name else None
        self.expected = _decode(value.strip(), self._hash.digest_size) if self._hash else None

    @property
    def checkable(self) -> bool:
        return self.expected is not None

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)

    def matches(self) -> bool:
        return self._hash is not None and self._hash.digest() == self.expected


def _decode(value: str, size: int) -> bytes | None:
    decoders = (
        lambda v: bytes.fromhex(v),
        lambda v: base64.b32decode(v + "=" * (-len(v) % 8), casefold=True),
        lambda v: base64.b64decode(v + "=" * (-len(v) % 4), altchars=b"-_" if "-" in v or "_" in v else None,
                                   validate=True),
    )
    for decode in decoders:
        try:
            raw = decode(value)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == size:
            return raw
    return None
