"""RFC 6962 / RFC 9162 Merkle log math: hashing, the incremental frontier, proof generation and checks.

Pure functions over bytes (hashlib only, no I/O) so the capture pipeline, the archive verifier and the
offline verifier handed to auditors all run exactly the same code. The tree is the Certificate
Transparency one: a leaf is ``SHA-256(0x00 || data)``, a node ``SHA-256(0x01 || left || right)``, and
an odd subtree is never duplicated (the Bitcoin construction is forgeable, CVE-2012-2459).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from archiver.errors import InputError, IntegrityError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
# Leaf hashes are fetched from a LeafSource in chunks so a million-leaf proof needs neither a million
# round trips nor a million hashes in memory at once.
FETCH_CHUNK = 65_536


class MerkleStateError(IntegrityError):
    """Stored tree state or a leaf source is inconsistent (wrong hash length, wrong number of hashes)."""

    code = "merkle_state"


class ProofRangeError(InputError):
    """A proof was requested for an index or size the log does not have."""

    code = "proof_range"


def leaf_hash(data: bytes) -> bytes:
    """``MTH({d}) = SHA-256(0x00 || d)``; the prefix keeps a leaf from posing as an inner node."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``, the hash of an inner node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split_point(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleFrontier:
    """The append-only tree's state as its compact range: one perfect-subtree hash per set bit of size.

    That is all an appender needs to extend the log and compute the root in O(log n), so the catalog
    persists just this (``to_json``) instead of re-reading every leaf after a restart.
    """

    def __init__(self) -> None:
        self._size = 0
        # Hashes of the perfect subtrees, largest (leftmost) first.
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf_data: bytes) -> int:
        """Append one leaf's data (leaf-hashed here); returns its index."""
        return self.append_leaf_hash(leaf_hash(leaf_data))

    def append_leaf_hash(self, hashed: bytes) -> int:
        """Append an already leaf-hashed value; returns its index."""
        if len(hashed) != HASH_SIZE:
            raise MerkleStateError(f"a leaf hash must be {HASH_SIZE} bytes, got {len(hashed)}")
        index = self._size
        merged = hashed
        # Each trailing one-bit of the old size is a perfect subtree of the same height to merge with.
        carry = index
        while carry & 1:
            merged = node_hash(self._hashes.pop(), merged)
            carry >>= 1
        self._hashes.append(merged)
        self._size = index + 1
        return index

    def extend_leaf_hashes(self, hashes: Iterable[bytes]) -> None:
        for hashed in hashes:
            self.append_leaf_hash(hashed)

    def root(self) -> bytes:
        """The RFC 6962 root at the current size: fold the subtrees from the right."""
        if not self._hashes:
            return EMPTY_ROOT
        acc = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            acc = node_hash(left, acc)
        return acc

    def copy(self) -> MerkleFrontier:
        clone = MerkleFrontier()
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def to_json(self) -> dict[str, Any]:
        return {"size": self._size, "hashes": [h.hex() for h in self._hashes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MerkleFrontier:
        """Restore persisted state, refusing anything that cannot be a real frontier."""
        size = data.get("size") if isinstance(data, dict) else None
        hexes = data.get("hashes") if isinstance(data, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or not isinstance(hexes, list):
            raise MerkleStateError("stored Merkle frontier needs a non-negative 'size' and a 'hashes' list; "
                                   "rebuild it from the log with `arsip rebuild`")
        if len(hexes) != size.bit_count():
            raise MerkleStateError(f"stored Merkle frontier for size {size} must hold {size.bit_count()} "
                                   f"hashes, found {len(hexes)}; rebuild it with `arsip rebuild`")
        frontier = cls()
        frontier._size = size
        frontier._hashes = [_hash_from_hex(h) for h in hexes]
        return frontier

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MerkleFrontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"MerkleFrontier(size={self._size}, root={self.root().hex()})"


def _hash_from_hex(text: object) -> bytes:
    try:
        value = bytes.fromhex(text) if isinstance(text, str) else b""
    except ValueError:
        value = b""
    if len(value) != HASH_SIZE:
        raise MerkleStateError(f"stored Merkle frontier holds {text!r}, not a {HASH_SIZE}-byte hex hash; "
                               "rebuild it with `arsip rebuild`")
    return value


def roots_at_hashes(leaf_hashes: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """Roots at several prefix sizes in one streaming pass over leaf hashes, O(log n) memory.

    Sizes beyond the number of leaves the iterator yields are absent from the result: the caller
    (the archive verifier) reports those as missing leaves rather than stopping at the first one.
    """
    wanted = sorted(set(sizes))
    if wanted and wanted[0] < 0:
        raise ValueError(f"tree sizes cannot be negative: {wanted[0]}")
    roots: dict[int, bytes] = {}
    frontier = MerkleFrontier()
    pending = iter(wanted)
    target = next(pending, None)
    while target == 0:
        roots[0] = EMPTY_ROOT
        target = next(pending, None)
    if target is None:
        return roots
    for hashed in leaf_hashes:
        frontier.append_leaf_hash(hashed)
        while target is not None and frontier.size == target:
            roots[target] = frontier.root()
            target = next(pending, None)
        if target is None:
            break
    return roots


def roots_at(leaf_data: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """Like :func:`roots_at_hashes` but over leaf *data* (the 32-byte envelope hashes we log)."""
    return roots_at_hashes((leaf_hash(d) for d in leaf_data), sizes)


def root_of(leaf_data: Iterable[bytes]) -> bytes:
    """The root of a whole sequence of leaf data (``MTH(D[n])``)."""
    frontier = MerkleFrontier()
    for data in leaf_data:
        frontier.append(data)
    return frontier.root()


class LeafSource(Protocol):
    """Where proof generation reads leaf hashes from: the catalog, an exported file, or a list."""

    def size(self) -> int: ...

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]: ...


class ListLeafSource:
    """An in-memory leaf source for tests, small logs and exported proof bundles."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._hashes: list[bytes] = list(leaf_hashes)

    @classmethod
    def from_data(cls, leaf_data: Iterable[bytes]) -> ListLeafSource:
        return cls(leaf_hash(d) for d in leaf_data)

    def append(self, leaf_data: bytes) -> int:
        self._hashes.append(leaf_hash(leaf_data))
        return len(self._hashes) - 1

    def size(self) -> int:
        return len(self._hashes)

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        return self._hashes[start:end]


def _iter_leaf_hashes(source: LeafSource, start: int, end: int) -> Iterator[bytes]:
    """Stream ``[start, end)`` from the source in chunks, checking it returns what was asked."""
    for chunk_start in range(start, end, FETCH_CHUNK):
        chunk_end = min(end, chunk_start + FETCH_CHUNK)
        chunk = source.leaf_hashes(chunk_start, chunk_end)
        if len(chunk) != chunk_end - chunk_start:
            raise MerkleStateError(f"leaf source returned {len(chunk)} hashes for leaves "
                                   f"[{chunk_start}, {chunk_end}); the log index is incomplete")
        yield from chunk


def subtree_hash(source: LeafSource, start: int, end: int) -> bytes:
    """``MTH(D[start:end])`` streamed from the source; O(end - start) time, O(log n) memory."""
    if not 0 <= start <= end <= source.size():
        raise ProofRangeError(f"leaf range [{start}, {end}) is outside a log of {source.size()} leaves")
    frontier = MerkleFrontier()
    frontier.extend_leaf_hashes(_iter_leaf_hashes(source, start, end))
    return frontier.root()


def _check_size(source: LeafSource, tree_size: int) -> None:
    available = source.size()
    if tree_size > available:
        raise ProofRangeError(f"tree size {tree_size} is larger than the log ({available} leaves); "
                              "ask for a proof against a checkpoint the log has reached")


class CachedSubtrees:
    """``MTH(D[start:end])`` for many proofs against one tree, each large subtree hashed only once.

    Proofs for thousands of leaves (a production package) share their upper siblings; computing a
    subtree as the node hash of its two halves, remembering those of at least ``min_cached``
    leaves, makes all of them together cost about one pass over the log instead of one per proof.
    """

    def __init__(self, source: LeafSource, *, min_cached: int = 1024) -> None:
        self.source = source
        self.min_cached = min_cached
        self._cache: dict[tuple[int, int], bytes] = {}

    def __call__(self, start: int, end: int) -> bytes:
        if end - start < self.min_cached:
            return subtree_hash(self.source, start, end)
        found = self._cache.get((start, end))
        if found is None:
            k = _split_point(end - start)
            found = self._cache[(start, end)] = node_hash(self(start, start + k), self(start + k, end))
        return found


def inclusion_proof(source: LeafSource, index: int, tree_size: int, *,
                    subtree: Callable[[int, int], bytes] | None = None) -> list[bytes]:
    """RFC 6962 ``PATH(index, D[tree_size])``: sibling subtree hashes from the leaf up to the root.

    ``subtree`` computes ``MTH(D[start:end])`` (default: streamed from ``source``; pass a
    :class:`CachedSubtrees` when making many proofs against the same tree)."""
    hashed = subtree or (lambda start, end: subtree_hash(source, start, end))
    if not 0 <= index < tree_size:
        raise ProofRangeError(f"leaf index {index} is not inside a tree of size {tree_size}")
    _check_size(source, tree_size)
    # Walk from the root down, collecting the sibling of the branch that holds the leaf; the list is
    # built root-first and reversed at the end.
    path: list[bytes] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = _split_point(hi - lo)
        if index < lo + k:
            path.append(hashed(lo + k, hi))
            hi = lo + k
        else:
            path.append(hashed(lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_proof(source: LeafSource, old_size: int, new_size: int) -> list[bytes]:
    """RFC 6962 ``PROOF(old_size, D[new_size])`` (via SUBPROOF); empty when old_size is 0 or equal."""
    if not 0 <= old_size <= new_size:
        raise ProofRangeError(f"cannot prove size {old_size} consistent with smaller size {new_size}")
    _check_size(source, new_size)
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    lo, hi, m = 0, new_size, old_size
    complete = True  # SUBPROOF's b: is the old tree's subtree here the whole of the old tree?
    while m != hi - lo:
        k = _split_point(hi - lo)
        if m <= k:
            proof.append(subtree_hash(source, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(source, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        proof.append(subtree_hash(source, lo, hi))
    proof.reverse()
    return proof


def _valid_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _valid_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _valid_path(proof: object) -> bool:
    return isinstance(proof, (list, tuple)) and all(_valid_hash(p) for p in proof)


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` place the (already leaf-hashed) entry at ``index`` under ``root``?

    Returns False, never raises, on any malformed input, so an auditor's tool can report the result.
    """
    if not (_valid_hash(leaf_hash) and _valid_hash(root) and _valid_path(proof)
            and _valid_size(index) and _valid_size(tree_size) and index < tree_size):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``old_root`` at ``old_size`` a prefix of ``new_root``?

    Size 0 is consistent with anything but only with the empty root; equal sizes need an empty proof
    and equal roots. Returns False, never raises, on malformed input.
    """
    if not (_valid_size(old_size) and _valid_size(new_size) and _valid_hash(old_root)
            and _valid_hash(new_root) and _valid_path(proof)) or old_size > new_size:
        return False
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if old_size == 0:
        return len(proof) == 0 and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    return _fold_consistency(old_size - 1, new_size - 1, path, old_root, new_root)


def _fold_consistency(fn: int, sn: int, path: list[bytes], old_root: bytes, new_root: bytes) -> bool:
    """Steps 4-7 of RFC 9162 §2.1.4.2: rebuild both roots from one path."""
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
