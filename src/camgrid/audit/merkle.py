"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Pure functions over a :class:`NodeSource` (anything that can give the hash of an aligned perfect subtree), so the
same proof code runs against the database-backed log and against an in-memory list in the offline verifier.
Design note: docs/design/audit-log.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof was asked for sizes or indexes that do not exist."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the domain prefix keeps leaves and nodes apart (second-preimage resistance)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class NodeSource(Protocol):
    def perfect(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree over leaves [index * 2**level, (index + 1) * 2**level)."""
        ...


def mth(src: NodeSource, lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) as RFC 6962 2.1 defines it; O(log n) perfect-subtree look-ups."""
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and lo % n == 0:
        level = n.bit_length() - 1
        return src.perfect(level, lo >> level)
    k = _split(n)
    return node_hash(mth(src, lo, lo + k), mth(src, lo + k, hi))


def inclusion_proof(src: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 2.1.1, leaf to root order."""
    if not 0 <= index < size:
        raise ProofError(f"no leaf {index} in a tree of size {size}")
    out: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            out.append(mth(src, lo + k, hi))
            hi = lo + k
        else:
            out.append(mth(src, lo, lo + k))
            lo, m = lo + k, m - k
    out.reverse()
    return out


def consistency_proof(src: NodeSource, old: int, new: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 2.1.2 (empty when m == n or m == 0)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    out: list[bytes] = []
    lo, hi, m, whole = 0, new, old, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append(mth(src, lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append(mth(src, lo + k, hi))
            hi = lo + k
        else:
            out.append(mth(src, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    out.reverse()
    return out


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2, step by step."""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2, step by step (plus the trivial cases old == new and old == 0)."""
    if old < 0 or old > new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
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
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class CompactRange:
    """The right frontier: roots of the perfect subtrees of the set bits of ``size``, biggest first.

    Appending a leaf is amortised O(1) hashing and the root is O(log n), without reading old leaves.
    """

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.nodes = list(nodes)
        if len(self.nodes) != bin(size).count("1"):
            raise ValueError("a compact range needs one node per set bit of its size")

    def copy(self) -> CompactRange:
        return CompactRange(self.size, self.nodes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the perfect subtrees it completed as (level, index, hash), level >= 1."""
        done: list[tuple[int, int, bytes]] = []
        node, s, level = leaf, self.size, 0
        while s & 1:
            node = node_hash(self.nodes.pop(), node)
            s >>= 1
            level += 1
            done.append((level, ((self.size + 1) >> level) - 1, node))
        self.nodes.append(node)
        self.size += 1
        return done

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        r = self.nodes[-1]
        for n in reversed(self.nodes[:-1]):
            r = node_hash(n, r)
        return r


class MemoryTree:
    """Every perfect subtree hash of a list of leaf hashes, one flat bytearray per level (2n x 32 bytes).

    What the offline verifier and tests use; the database-backed log keeps only the upper levels in memory.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[bytearray] = [bytearray()]
        self.frontier = CompactRange()
        for h in leaves:
            self.append(h)

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, leaf: bytes) -> None:
        self.levels[0] += leaf
        for level, _index, node in self.frontier.append(leaf):
            if level == len(self.levels):
                self.levels.append(bytearray())
            self.levels[level] += node

    def perfect(self, level: int, index: int) -> bytes:
        return bytes(self.levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def leaf(self, index: int) -> bytes:
        return self.perfect(0, index)

    def root(self, size: int | None = None) -> bytes:
        if size is None or size == self.size:
            return self.frontier.root()
        if not 0 <= size <= self.size:
            raise ProofError(f"no tree of size {size} (have {self.size})")
        return mth(self, 0, size)
