"""RFC 6962 Merkle log: the Certificate Transparency vectors, proofs against a naive reference, tampering."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.errors import InputError, IntegrityError
from archiver.integrity import merkle
from archiver.integrity.merkle import (
    EMPTY_ROOT,
    CachedSubtrees,
    ListLeafSource,
    MerkleFrontier,
    MerkleStateError,
    ProofRangeError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    roots_at,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

# RFC 6962 / CT reference suite, as given in standards.md §1.5.
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = {n: bytes.fromhex(h) for n, h in {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}.items()}


def _hexes(text: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in text.split()]


CT_PATH_0_8 = _hexes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 "
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")
CT_PATH_5_8 = _hexes("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b "
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 "
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")
CT_PROOF_6_8 = _hexes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a "
                      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 "
                      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")
CT_PROOF_2_5 = _hexes("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
                      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")


# A deliberately naive transcription of RFC 6962 §2.1, independent of the code under test.
def _ref_mth(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + _ref_mth(hashes[:k]) + _ref_mth(hashes[k:])).digest()


def _ref_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    if m < k:
        return _ref_path(m, hashes[:k]) + [_ref_mth(hashes[k:])]
    return _ref_path(m - k, hashes[k:]) + [_ref_mth(hashes[:k])]


def _ref_subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [_ref_mth(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return _ref_subproof(m, hashes[:k], complete) + [_ref_mth(hashes[k:])]
    return _ref_subproof(m - k, hashes[k:], False) + [_ref_mth(hashes[:k])]


def _leaves(count: int, salt: bytes = b"") -> list[bytes]:
    # 32-byte leaf data, like the envelope hashes the archive logs.
    return [hashlib.sha256(salt + i.to_bytes(8, "big")).digest() for i in range(count)]


def _flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.fixture
def ct_source() -> ListLeafSource:
    return ListLeafSource.from_data(CT_LEAVES)


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MerkleFrontier().root() == EMPTY_ROOT


@pytest.mark.parametrize("n", range(1, 9))
def test_frontier_reproduces_ct_roots(n: int) -> None:
    frontier = MerkleFrontier()
    for data in CT_LEAVES[:n]:
        frontier.append(data)
    assert frontier.root() == CT_ROOTS[n]
    assert root_of(CT_LEAVES[:n]) == CT_ROOTS[n]


def test_roots_at_reproduces_every_ct_root_in_one_pass() -> None:
    assert roots_at(iter(CT_LEAVES), range(1, 9)) == CT_ROOTS


def test_subtree_hash_over_source_reproduces_ct_roots(ct_source: ListLeafSource) -> None:
    for n, root in CT_ROOTS.items():
        assert subtree_hash(ct_source, 0, n) == root


@pytest.mark.parametrize(("index", "expected", "leaf"), [(0, CT_PATH_0_8, 0), (5, CT_PATH_5_8, 5)])
def test_inclusion_proof_reproduces_ct_path(ct_source: ListLeafSource, index: int, expected: list[bytes],
                                            leaf: int) -> None:
    proof = inclusion_proof(ct_source, index, 8)
    assert proof == expected
    assert verify_inclusion(leaf_hash(CT_LEAVES[leaf]), index, 8, proof, CT_ROOTS[8])


@pytest.mark.parametrize(("old", "new", "expected"), [(6, 8, CT_PROOF_6_8), (2, 5, CT_PROOF_2_5), (1, 1, [])])
def test_consistency_proof_reproduces_ct_proof(ct_source: ListLeafSource, old: int, new: int,
                                               expected: list[bytes]) -> None:
    proof = consistency_proof(ct_source, old, new)
    assert proof == expected
    assert verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)


def test_ct_path_fails_for_the_wrong_leaf() -> None:
    assert not verify_inclusion(leaf_hash(CT_LEAVES[1]), 0, 8, CT_PATH_0_8, CT_ROOTS[8])


def test_proof_for_a_smaller_tree_does_not_verify_under_a_larger_claimed_size(
        ct_source: ListLeafSource) -> None:
    proof = inclusion_proof(ct_source, 0, 4)
    assert verify_inclusion(leaf_hash(CT_LEAVES[0]), 0, 4, proof, CT_ROOTS[4])
    assert not verify_inclusion(leaf_hash(CT_LEAVES[0]), 0, 8, proof, CT_ROOTS[4])
    consistency = consistency_proof(ct_source, 2, 4)
    assert verify_consistency(2, 4, CT_ROOTS[2], CT_ROOTS[4], consistency)
    assert not verify_consistency(2, 8, CT_ROOTS[2], CT_ROOTS[4], consistency)


def test_frontier_matches_reference_root_for_every_size_up_to_300() -> None:
    data = _leaves(300)
    hashes = [leaf_hash(d) for d in data]
    frontier = MerkleFrontier()
    for size, item in enumerate(data, start=1):
        frontier.append(item)
        assert frontier.root() == _ref_mth(hashes[:size]), size


def test_frontier_is_not_bitcoin_style_odd_duplication() -> None:
    a, b, c = (leaf_hash(x) for x in (b"a", b"b", b"c"))
    bitcoin = merkle.node_hash(merkle.node_hash(a, b), merkle.node_hash(c, c))
    assert root_of([b"a", b"b", b"c"]) == merkle.node_hash(merkle.node_hash(a, b), c) != bitcoin


def test_frontier_json_round_trip_continues_the_same_log() -> None:
    frontier = MerkleFrontier()
    for item in _leaves(11):
        frontier.append(item)
    restored = MerkleFrontier.from_json(frontier.to_json())
    assert restored == frontier and restored.size == 11
    restored.append(b"next")
    frontier.append(b"next")
    assert restored.root() == frontier.root()


@pytest.mark.parametrize("state", [
    {"size": 3, "hashes": ["00" * 32]},                      # size 3 needs two subtree hashes
    {"size": 1, "hashes": ["zz" * 32]},
    {"size": 1, "hashes": ["00" * 31]},
    {"size": -1, "hashes": []},
    {"size": True, "hashes": ["00" * 32]},
    {"hashes": []},
])
def test_frontier_from_json_rejects_impossible_state(state: dict[str, object]) -> None:
    with pytest.raises(MerkleStateError) as info:
        MerkleFrontier.from_json(state)
    assert info.value.code == "merkle_state" and isinstance(info.value, IntegrityError)


def test_frontier_copy_is_independent() -> None:
    frontier = MerkleFrontier()
    frontier.append(b"x")
    clone = frontier.copy()
    clone.append(b"y")
    assert frontier.size == 1 and clone.size == 2


def test_append_returns_consecutive_indexes_and_rejects_short_hashes() -> None:
    frontier = MerkleFrontier()
    assert [frontier.append(d) for d in _leaves(4)] == [0, 1, 2, 3]
    with pytest.raises(MerkleStateError):
        frontier.append_leaf_hash(b"\x00" * 31)


def test_roots_at_leaves_out_sizes_past_the_end_and_gives_empty_root_for_zero() -> None:
    data = _leaves(10)
    roots = roots_at(data, [0, 4, 10, 11])
    assert roots == {0: EMPTY_ROOT, 4: root_of(data[:4]), 10: root_of(data)}


def test_proofs_stream_leaves_in_bounded_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list[tuple[int, int]] = []

    class CountingSource(ListLeafSource):
        def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
            requests.append((start, end))
            return super().leaf_hashes(start, end)

    monkeypatch.setattr(merkle, "FETCH_CHUNK", 7)
    data = _leaves(100)
    source = CountingSource.from_data(data)
    hashes = [leaf_hash(d) for d in data]
    assert inclusion_proof(source, 42, 100) == _ref_path(42, hashes)
    assert consistency_proof(source, 37, 100) == _ref_subproof(37, hashes, True)
    assert requests and all(end - start <= 7 for start, end in requests)


def test_short_leaf_source_is_an_integrity_error() -> None:
    class ShortSource(ListLeafSource):
        def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
            return super().leaf_hashes(start, end)[:-1]

    with pytest.raises(MerkleStateError, match="incomplete"):
        inclusion_proof(ShortSource.from_data(_leaves(8)), 0, 8)


@pytest.mark.parametrize(("index", "size"), [(8, 8), (-1, 8), (0, 0), (0, 9)])
def test_inclusion_proof_outside_the_log_is_refused(ct_source: ListLeafSource, index: int, size: int) -> None:
    with pytest.raises(ProofRangeError) as info:
        inclusion_proof(ct_source, index, size)
    assert isinstance(info.value, InputError) and info.value.code == "proof_range"


@pytest.mark.parametrize(("old", "new"), [(5, 4), (-1, 4), (2, 9)])
def test_consistency_proof_outside_the_log_is_refused(ct_source: ListLeafSource, old: int, new: int) -> None:
    with pytest.raises(ProofRangeError):
        consistency_proof(ct_source, old, new)


def test_consistency_from_empty_tree_needs_empty_root(ct_source: ListLeafSource) -> None:
    assert consistency_proof(ct_source, 0, 8) == []
    assert verify_consistency(0, 8, EMPTY_ROOT, CT_ROOTS[8], [])
    assert not verify_consistency(0, 8, CT_ROOTS[1], CT_ROOTS[8], [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, CT_ROOTS[8], [CT_ROOTS[1]])


@pytest.mark.parametrize("args", [
    (leaf_hash(CT_LEAVES[0]), 0, 8, CT_PATH_0_8[:-1], CT_ROOTS[8]),          # path too short
    (leaf_hash(CT_LEAVES[0]), 0, 8, [*CT_PATH_0_8, CT_ROOTS[1]], CT_ROOTS[8]),  # path too long
    (leaf_hash(CT_LEAVES[0]), 8, 8, CT_PATH_0_8, CT_ROOTS[8]),                 # index == size
    (leaf_hash(CT_LEAVES[0]), -1, 8, CT_PATH_0_8, CT_ROOTS[8]),
    (leaf_hash(CT_LEAVES[0]), 0, 0, [], EMPTY_ROOT),
    (leaf_hash(CT_LEAVES[0]), True, 8, CT_PATH_0_8, CT_ROOTS[8]),
    (leaf_hash(CT_LEAVES[0])[:31], 0, 8, CT_PATH_0_8, CT_ROOTS[8]),
    (leaf_hash(CT_LEAVES[0]), 0, 8, [p[:31] for p in CT_PATH_0_8], CT_ROOTS[8]),
    (leaf_hash(CT_LEAVES[0]), 0, 8, "not a list", CT_ROOTS[8]),
    (leaf_hash(CT_LEAVES[0]), 0, 8, CT_PATH_0_8, None),
    (None, 0, 8, CT_PATH_0_8, CT_ROOTS[8]),
])
def test_malformed_inclusion_input_is_false_not_an_exception(args: tuple[object, ...]) -> None:
    assert verify_inclusion(*args) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("args", [
    (6, 8, CT_ROOTS[6], CT_ROOTS[8], CT_PROOF_6_8[:-1]),
    (6, 8, CT_ROOTS[6], CT_ROOTS[8], [*CT_PROOF_6_8, CT_ROOTS[1]]),
    (6, 8, CT_ROOTS[6], CT_ROOTS[8], []),
    (8, 6, CT_ROOTS[8], CT_ROOTS[6], CT_PROOF_6_8),
    (6, 8, CT_ROOTS[8], CT_ROOTS[6], CT_PROOF_6_8),                    # roots swapped
    (1, 1, CT_ROOTS[1], CT_ROOTS[2], []),
    (1, 1, CT_ROOTS[1], CT_ROOTS[1], [CT_ROOTS[1]]),
    (-6, 8, CT_ROOTS[6], CT_ROOTS[8], CT_PROOF_6_8),
    (6, 8, CT_ROOTS[6][:31], CT_ROOTS[8], CT_PROOF_6_8),
    (6, 8, CT_ROOTS[6], CT_ROOTS[8], [b"short", *CT_PROOF_6_8[1:]]),
    (6, 8, CT_ROOTS[6], CT_ROOTS[8], None),
    (6, 8.0, CT_ROOTS[6], CT_ROOTS[8], CT_PROOF_6_8),
])
def test_malformed_consistency_input_is_false_not_an_exception(args: tuple[object, ...]) -> None:
    assert verify_consistency(*args) is False  # type: ignore[arg-type]


@st.composite
def _log_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=1, max_value=200))
    return _leaves(size, salt=draw(st.binary(max_size=4))), draw(st.integers(0, size - 1))


@settings(max_examples=150, deadline=None)
@given(_log_and_index(), st.integers(min_value=0))
def test_inclusion_proofs_verify_and_any_flipped_bit_fails(case: tuple[list[bytes], int], bit: int) -> None:
    data, index = case
    size = len(data)
    hashes = [leaf_hash(d) for d in data]
    source = ListLeafSource(hashes)
    proof = inclusion_proof(source, index, size)
    root = _ref_mth(hashes)
    assert proof == _ref_path(index, hashes)
    assert verify_inclusion(hashes[index], index, size, proof, root)
    assert not verify_inclusion(_flip(hashes[index], bit), index, size, proof, root)
    assert not verify_inclusion(hashes[index], index, size, proof, _flip(root, bit))
    assert not verify_inclusion(leaf_hash(_flip(data[index], bit)), index, size, proof, root)
    if proof:
        which = bit % len(proof)
        tampered = [*proof[:which], _flip(proof[which], bit // len(proof)), *proof[which + 1:]]
        assert not verify_inclusion(hashes[index], index, size, tampered, root)


@st.composite
def _log_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=1, max_value=200))
    return _leaves(size, salt=draw(st.binary(max_size=4))), draw(st.integers(1, size))


@settings(max_examples=150, deadline=None)
@given(_log_and_sizes(), st.integers(min_value=0))
def test_consistency_proofs_verify_and_any_flipped_bit_fails(case: tuple[list[bytes], int], bit: int) -> None:
    data, old = case
    new = len(data)
    hashes = [leaf_hash(d) for d in data]
    proof = consistency_proof(ListLeafSource(hashes), old, new)
    old_root, new_root = _ref_mth(hashes[:old]), _ref_mth(hashes)
    assert proof == (_ref_subproof(old, hashes, True) if old < new else [])
    assert verify_consistency(old, new, old_root, new_root, proof)
    assert not verify_consistency(old, new, _flip(old_root, bit), new_root, proof)
    assert not verify_consistency(old, new, old_root, _flip(new_root, bit), proof)
    if proof:
        which = bit % len(proof)
        tampered = [*proof[:which], _flip(proof[which], bit // len(proof)), *proof[which + 1:]]
        assert not verify_consistency(old, new, old_root, new_root, tampered)


@settings(max_examples=100, deadline=None)
@given(_log_and_sizes(), st.integers(min_value=0), st.binary(min_size=1, max_size=8))
def test_log_that_rewrote_an_old_leaf_is_not_consistent(case: tuple[list[bytes], int], pick: int,
                                                        junk: bytes) -> None:
    data, old = case
    new = len(data)
    rewritten = list(data)
    changed = pick % old
    rewritten[changed] = data[changed] + junk
    honest_old_root = root_of(data[:old])
    forged = ListLeafSource.from_data(rewritten)
    proof = consistency_proof(forged, old, new)
    assert not verify_consistency(old, new, honest_old_root, root_of(rewritten), proof)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.lists(st.integers(0, 200), max_size=6))
def test_roots_at_matches_reference_for_any_prefix_sizes(count: int, sizes: list[int]) -> None:
    data = _leaves(count)
    hashes = [leaf_hash(d) for d in data]
    expected = {s: _ref_mth(hashes[:s]) for s in sizes if s <= count}
    assert roots_at(data, sizes) == expected


def test_cached_subtrees_give_the_same_proofs_as_streaming() -> None:
    source = ListLeafSource.from_data(i.to_bytes(4, "big") for i in range(3000))
    cached = CachedSubtrees(source, min_cached=4)
    root = subtree_hash(source, 0, 2999)
    for index in (0, 1, 1023, 1024, 2047, 2998):
        proof = inclusion_proof(source, index, 2999, subtree=cached)
        assert proof == inclusion_proof(source, index, 2999)
        assert verify_inclusion(leaf_hash(index.to_bytes(4, "big")), index, 2999, proof, root)
