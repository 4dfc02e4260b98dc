"""RFC 6962 / RFC 9162 Merkle tree hashing: tree heads, inclusion and consistency proofs, and their verification.

The audit trail's records are the leaves of an append-only Merkle tree, so that a checkpoint (a signed tree head,
``clearance.audit.checkpoint``) commits to every record before it: changing, removing, inserting or reordering a
record changes the root, and a consistency proof shows that a later tree extends an earlier one unchanged.

Hashing is exactly RFC 6962 section 2.1 (SHA-256, ``0x00`` before a leaf, ``0x01`` before two child hashes, the
left subtree holding the largest power of two of leaves smaller than the tree), so any RFC 6962 tool can check our
roots and proofs. The verifiers follow RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step and need nothing but the
sizes, hashes and proof they are given: they run offline, from saved checkpoints.

``MerkleFrontier`` is the incremental form the gateway keeps: the roots of the perfect subtrees that make up the
tree so far (one per set bit of its size), enough to append a leaf and give the root in O(log n) without the leaves.
Proofs are generated from the stored leaf hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from clearance.exceptions import ProofFailed

HASH_SIZE = 32
"""Bytes in a SHA-256 hash: every leaf hash, node hash, root and proof element."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The Merkle Tree Hash of the empty tree: SHA-256 of nothing (RFC 6962 section 2.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The size of the left subtree of a tree of ``n`` >= 2 leaves: the largest power of two smaller than ``n``."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves has no split")
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of the given leaf hashes (not leaf data), by RFC 6962's recursive definition."""
    if not leaves:
        return EMPTY_ROOT
    return _subtree_hash(leaves, 0, len(leaves))


def _subtree_hash(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH of ``leaves[start:end]`` (non-empty), without copying the slice."""
    if end - start == 1:
        return leaves[start]
    middle = start + split_point(end - start)
    return node_hash(_subtree_hash(leaves, start, middle), _subtree_hash(leaves, middle, end))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path PATH(index, D[n]) of RFC 6962 section 2.1.1 for the tree of these leaf hashes."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    return _path(leaves, index, 0, len(leaves))


def _path(leaves: Sequence[bytes], index: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    middle = start + split_point(end - start)
    if index < middle:
        return [*_path(leaves, index, start, middle), _subtree_hash(leaves, middle, end)]
    return [*_path(leaves, index, middle, end), _subtree_hash(leaves, start, middle)]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The consistency proof PROOF(old_size, D[n]) of RFC 6962 section 2.1.2 from the first ``old_size`` leaves to
    all of them. Empty when ``old_size`` is 0 or the whole tree (nothing to prove)."""
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"old size {old_size} is outside 0..{len(leaves)}")
    if old_size in (0, len(leaves)):
        return []
    return _subproof(leaves, old_size, 0, len(leaves), complete=True)


def _subproof(leaves: Sequence[bytes], m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of RFC 6962 section 2.1.2; ``complete`` is the flag b."""
    n = end - start
    if m == n:
        return [] if complete else [_subtree_hash(leaves, start, end)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(leaves, m, start, start + k, complete=complete), _subtree_hash(leaves, start + k, end)]
    return [
        *_subproof(leaves, m - k, start + k, end, complete=False),
        _subtree_hash(leaves, start, start + k),
    ]


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofFailed(f"the {what} is {len(value)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")


def _check_proof(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        _check_hash(element, f"proof element {position}")


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift ``fn`` and ``sn`` together until ``fn``'s low bit is set or ``fn`` is 0."""
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from leaf hash ``leaf`` at ``index`` of a tree of ``size`` leaves
    (RFC 9162 section 2.1.3.2, steps 1 to 4). Raises ``ProofFailed`` where the proof cannot belong to that place."""
    if not 0 <= index < size:
        raise ProofFailed(f"leaf index {index} is outside a tree of {size} leaves")
    _check_hash(leaf, "leaf hash")
    _check_proof(proof)
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofFailed(f"the inclusion proof is longer than a tree of {size} leaves allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed(f"the inclusion proof is shorter than a tree of {size} leaves needs")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf hash ``leaf`` is leaf ``index`` of the tree of ``size`` leaves whose head is ``root``
    (RFC 9162 section 2.1.3.2). Returns nothing; raises ``ProofFailed`` saying why it does not hold."""
    _check_hash(root, "root hash")
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofFailed(f"leaf {index} of a tree of {size} leaves does not lead to the given root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``new_size`` leaves with head ``new_root`` extends, unchanged, the tree of
    ``old_size`` leaves with head ``old_root`` (RFC 9162 section 2.1.4.2). Raises ``ProofFailed`` saying why not.

    RFC 9162 gives the algorithm for 0 < old_size < new_size; the edge cases are those of RFC 6962 and the
    reference verifiers: the empty tree is a prefix of every tree (with an empty proof), and a tree is consistent
    with itself only when both heads are equal (with an empty proof).
    """
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    _check_proof(proof)
    if not 0 <= old_size <= new_size:
        raise ProofFailed(f"a tree of {new_size} leaves cannot extend one of {old_size}: the log shrank")
    if old_size == 0 or old_size == new_size:
        _verify_trivial_consistency(old_size, old_root, new_root, proof)
        return
    _verify_consistency_path(old_size, new_size, old_root, new_root, proof)


def _verify_trivial_consistency(old_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    if proof:
        raise ProofFailed(f"a consistency proof from size {old_size} must be empty; it has {len(proof)} hashes")
    if old_size and old_root != new_root:
        raise ProofFailed(f"two heads of the same tree size {old_size} differ: the log forked")


def _verify_consistency_path(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2 steps 1 to 7, for 0 < first < second."""
    if not proof:
        raise ProofFailed(f"the consistency proof from size {first} to {second} is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofFailed(f"the consistency proof from size {first} to {second} is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed(f"the consistency proof from size {first} to {second} is too short")
    if fr != first_hash:
        raise ProofFailed(f"the consistency proof does not lead to the head of size {first}")
    if sr != second_hash:
        raise ProofFailed(f"the consistency proof does not lead to the head of size {second}")


@dataclass(frozen=True, slots=True)
class MerkleFrontier:
    """An append-only Merkle tree held as its frontier: the roots of its perfect subtrees, largest (leftmost)
    first, one per set bit of ``size`` (a "compact range" from 0). Appending and reading the root take O(log n)
    and need no earlier leaf, so the gateway can keep the tree head current while the leaves live in the
    database. Frozen: ``append`` returns the next frontier, so a saved one never changes under its reader.
    """

    size: int = 0
    nodes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"a tree cannot have {self.size} leaves")
        if len(self.nodes) != self.size.bit_count():
            raise ValueError(f"a tree of {self.size} leaves has {self.size.bit_count()} frontier nodes")
        for node in self.nodes:
            if len(node) != HASH_SIZE:
                raise ValueError(f"a frontier node is {len(node)} bytes, not {HASH_SIZE}")

    @classmethod
    def of(cls, leaves: Sequence[bytes]) -> MerkleFrontier:
        """The frontier of a tree of these leaf hashes."""
        frontier = cls()
        for leaf in leaves:
            frontier = frontier.append(leaf)
        return frontier

    def append(self, leaf: bytes) -> MerkleFrontier:
        """The frontier after appending one leaf hash: merge it with each perfect subtree of equal size."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf)}")
        nodes = list(self.nodes)
        node = leaf
        carry = self.size
        while carry & 1:
            node = node_hash(nodes.pop(), node)
            carry >>= 1
        nodes.append(node)
        return MerkleFrontier(self.size + 1, tuple(nodes))

    def root(self) -> bytes:
        """The Merkle Tree Hash of the tree: the frontier folded from the right (smallest subtree first)."""
        if not self.nodes:
            return EMPTY_ROOT
        root = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            root = node_hash(node, root)
        return root
