"""Merkle tree hashing and proofs as RFC 9162 (and RFC 6962 before it) define them.

The leaf hash is SHA-256(0x00 || entry); an interior node is SHA-256(0x01 || left ||
right); a tree of n > 1 leaves splits at k, the largest power of two smaller than n.
These functions work on lists of leaf hashes; where the log keeps its hashes is the
caller's business. Nothing here knows Django.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32


class ProofError(Exception):
    """A proof is malformed or does not lead to the expected root."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_hashes(joined: bytes) -> list[bytes]:
    """Hashes stored or served one after another (a tile's body) as a list."""
    return [joined[i : i + HASH_SIZE] for i in range(0, len(joined), HASH_SIZE)]


def empty_root() -> bytes:
    return hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    if not leaves:
        return empty_root()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


Subtree = Callable[[int, int], bytes]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]): the audit path for leaf ``index`` (0-based) in the tree of ``leaves``."""
    return inclusion_proof_from(_list_subtree(leaves), len(leaves), index)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]): that the tree of the first ``old_size`` leaves is a prefix."""
    return consistency_proof_from(_list_subtree(leaves), len(leaves), old_size)


def _list_subtree(leaves: Sequence[bytes]) -> Subtree:
    return lambda start, end: root(leaves[start:end])


def inclusion_proof_from(subtree: Subtree, size: int, index: int) -> list[bytes]:
    """PATH(index, D[size]) where ``subtree(start, end)`` gives MTH(D[start:end]): only
    the hashes on the path are asked for, so a log can answer from its tiles."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    return path[::-1]


def consistency_proof_from(subtree: Subtree, size: int, old_size: int) -> list[bytes]:
    """PROOF(old_size, D[size]), asking ``subtree`` for the hashes it needs."""
    if not 0 < old_size <= size:
        raise ValueError(f"no consistency proof from {old_size} to {size}")
    path: list[bytes] = []
    start, end, m, complete = 0, size, old_size, True
    # SUBPROOF(m, D[start:end], complete), unrolled: RFC 9162 section 2.1.4.1.
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        path.append(subtree(start, end))
    return path[::-1]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2. Raises ProofError unless the proof leads to the root."""
    if not 0 <= index < size:
        raise ProofError("index out of range")
    fn, sn, computed = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            computed = node_hash(computed, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0 or computed != expected_root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2. Raises ProofError unless both roots follow."""
    if not 0 < old_size <= new_size:
        raise ProofError("sizes out of order")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError("equal sizes need equal roots and an empty proof")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        raise ProofError("empty proof")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(node, fr)
            sr = node_hash(node, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, node)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("consistency proof does not lead to both roots")
