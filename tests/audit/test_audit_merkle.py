"""RFC 6962 / RFC 9162 Merkle hashing and proofs (docs/design/audit-log.md): the certificate-transparency test
vectors, and a naive recursive reference written straight from RFC 6962 section 2.1 on random trees."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
# Roots of the first 1..8 leaves (certificate-transparency merkle_tree_test.cc, RFC 6962 test data).
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, path) from the same test data.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def ref_mth(data: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 2.1."""
    n = len(data)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + data[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + ref_mth(data[:k]) + ref_mth(data[k:]))


def ref_path(m: int, data: list[bytes]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, data[:k]), ref_mth(data[k:])]
    return [*ref_path(m - k, data[k:]), ref_mth(data[:k])]


def ref_subproof(m: int, data: list[bytes], b: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if b else [ref_mth(data)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, data[:k], b), ref_mth(data[k:])]
    return [*ref_subproof(m - k, data[k:], False), ref_mth(data[:k])]


def test_reference_matches_ct_roots() -> None:
    for size, want in enumerate(ROOTS, start=1):
        assert ref_mth(LEAVES[:size]).hex() == want


def test_roots_of_every_prefix_match_vectors() -> None:
    tree = MemoryTree(leaf_hash(d) for d in LEAVES)
    assert tree.root(0) == EMPTY_ROOT
    for size, want in enumerate(ROOTS, start=1):
        assert tree.root(size).hex() == want
        cr = CompactRange()
        for d in LEAVES[:size]:
            cr.append(leaf_hash(d))
        assert cr.root().hex() == want


def test_inclusion_vectors() -> None:
    tree = MemoryTree(leaf_hash(d) for d in LEAVES)
    for index, size, path in INCLUSION:
        proof = inclusion_proof(tree, index, size)
        assert [p.hex() for p in proof] == path
        assert verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, bytes.fromhex(ROOTS[size - 1]))
        assert not verify_inclusion(leaf_hash(b"x"), index, size, proof, bytes.fromhex(ROOTS[size - 1]))


def test_consistency_vectors() -> None:
    tree = MemoryTree(leaf_hash(d) for d in LEAVES)
    for old, new, path in CONSISTENCY:
        proof = consistency_proof(tree, old, new)
        assert [p.hex() for p in proof] == path
        r1, r2 = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
        assert verify_consistency(old, new, r1, r2, proof)
        if old != new:
            assert not verify_consistency(old, new, r2, r1, proof)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=6), min_size=1, max_size=70), st.data())
def test_random_trees_against_reference(data: list[bytes], pick: st.DataObject) -> None:
    tree = MemoryTree(leaf_hash(d) for d in data)
    n = len(data)
    size = pick.draw(st.integers(1, n))
    assert tree.root(size) == ref_mth(data[:size])
    index = pick.draw(st.integers(0, size - 1))
    proof = inclusion_proof(tree, index, size)
    assert proof == ref_path(index, data[:size])
    root = ref_mth(data[:size])
    assert verify_inclusion(leaf_hash(data[index]), index, size, proof, root)
    if proof:
        bad = list(proof)
        bad[pick.draw(st.integers(0, len(bad) - 1))] = b"\x00" * 32
        assert not verify_inclusion(leaf_hash(data[index]), index, size, bad, root)
    assert not verify_inclusion(leaf_hash(data[index]), size, size, proof, root)  # index past the end
    old = pick.draw(st.integers(1, size))
    cproof = consistency_proof(tree, old, size)
    assert cproof == (ref_subproof(old, data[:size], True) if old < size else [])
    assert verify_consistency(old, size, ref_mth(data[:old]), root, cproof)
    if old < size:
        assert not verify_consistency(old, size, ref_mth([*data[: old - 1], b"?"]), root, cproof)
        assert not verify_consistency(old, size, ref_mth(data[:old]), ref_mth(data[: size - 1]), cproof)
