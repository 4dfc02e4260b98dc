"""RFC 6962 Merkle hashing and RFC 9162 proof verification, against the reference vectors of the Certificate
Transparency test suites (transparency-dev/merkle ``proof/verify_test.go``) and by properties over many sizes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.audit.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_hash,
    split_point,
    verify_consistency,
    verify_inclusion,
)
from clearance.exceptions import ProofFailed

LEAF_DATA = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
LEAVES = [leaf_hash(d) for d in LEAF_DATA]

ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (0-based leaf index, tree size, audit path): the reference file lists 1-based leaves {1, 8}, {6, 8}, {3, 3}, {2, 5}.
INCLUSION_VECTORS = [
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

CONSISTENCY_VECTORS = [
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
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

OTHER_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hashes(hex_list: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hex_list]


def numbered_leaves(n: int) -> list[bytes]:
    """Leaf hashes of ``n`` distinct, fixed records."""
    return [leaf_hash(i.to_bytes(4, "big") + b"record") for i in range(n)]


def flipped(value: bytes, bit: int) -> bytes:
    """``value`` with one bit flipped (``bit`` counts from the first byte's low bit)."""
    data = bytearray(value)
    data[bit // 8 % len(data)] ^= 1 << (bit % 8)
    return bytes(data)


def test_when_the_tree_is_empty_then_its_hash_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert root_hash([]) == EMPTY_ROOT
    assert MerkleFrontier().root() == EMPTY_ROOT


def test_when_hashing_then_leaves_and_nodes_carry_their_domain_prefix() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"l" * 32, b"r" * 32) == hashlib.sha256(b"\x01" + b"l" * 32 + b"r" * 32).digest()


@pytest.mark.parametrize(("n", "k"), [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1025, 1024)])
def test_when_splitting_a_tree_then_the_left_side_is_the_largest_power_of_two_below_its_size(n: int, k: int) -> None:
    assert split_point(n) == k


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_when_hashing_the_reference_leaves_then_each_size_has_the_reference_root(size: int) -> None:
    assert root_hash(LEAVES[:size]).hex() == ROOTS[size]
    assert MerkleFrontier.of(LEAVES[:size]).root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_VECTORS)
def test_when_proving_a_reference_inclusion_then_the_path_is_the_reference_one_and_verifies(
    index: int, size: int, path: list[str]
) -> None:
    proof = inclusion_proof(LEAVES[:size], index)
    assert proof == hashes(path)
    verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_VECTORS)
def test_when_proving_a_reference_consistency_then_the_proof_is_the_reference_one_and_verifies(
    old: int, new: int, path: list[str]
) -> None:
    proof = consistency_proof(LEAVES[:new], old)
    assert proof == hashes(path)
    verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_VECTORS)
def test_when_a_reference_inclusion_is_corrupted_then_it_fails(index: int, size: int, path: list[str]) -> None:
    root, leaf, proof = bytes.fromhex(ROOTS[size]), LEAVES[index], hashes(path)
    corruptions = [
        (index + 1, size, leaf, proof, root),
        (index ^ 2, size, leaf, proof, root),
        (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root),
        (index, size, leaf_hash(b"WrongLeaf"), proof, root),
        (index, size, leaf, proof, EMPTY_ROOT),
        (index, size, leaf, proof, OTHER_HASH),
        (index, size, leaf, [*proof, root], root),
        (index, size, leaf, [root, *proof], root),
        (index, size, leaf, proof[:-1], root),
        (index, size, leaf, [proof[0], OTHER_HASH, *proof[1:]], root),
    ]
    if index > 0:
        corruptions.append((index - 1, size, leaf, proof, root))
    for i, s, lf, p, r in corruptions:
        with pytest.raises(ProofFailed):
            verify_inclusion(i, s, lf, p, r)


@pytest.mark.parametrize(("old", "new", "path"), [v for v in CONSISTENCY_VECTORS if v[2]])
def test_when_a_reference_consistency_is_corrupted_then_it_fails(old: int, new: int, path: list[str]) -> None:
    root1, root2, proof = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), hashes(path)
    corruptions = [
        (old - 1, new, root1, root2, proof),
        (old + 1, new, root1, root2, proof),
        (old ^ 2, new, root1, root2, proof),
        (old, new * 2, root1, root2, proof),
        (old, new // 2, root1, root2, proof),
        (old, new, OTHER_HASH, root2, proof),
        (old, new, root1, OTHER_HASH, proof),
        (old, new, root2, root1, proof),
        (old, new, root1, root2, []),
        (old, new, root1, root2, [*proof, root1]),
        (old, new, root1, root2, [*proof, root2]),
        (old, new, root1, root2, [root1, *proof]),
        (old, new, root1, root2, [root2, *proof]),
        (old, new, root1, root2, [proof[0], *proof]),
        (old, new, root1, root2, proof[:-1]),
    ]
    for o, n, r1, r2, p in corruptions:
        with pytest.raises(ProofFailed):
            verify_consistency(o, n, r1, r2, p)


@pytest.mark.parametrize(
    ("old", "new", "root1", "root2", "proof"),
    [
        (0, 0, EMPTY_ROOT, OTHER_HASH, []),  # the empty tree: nothing to compare
        (0, 5, OTHER_HASH, EMPTY_ROOT, []),
        (3, 3, OTHER_HASH, OTHER_HASH, []),
    ],
)
def test_when_consistency_is_trivial_then_an_empty_proof_holds(
    old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    verify_consistency(old, new, root1, root2, proof)


@pytest.mark.parametrize(
    ("old", "new", "root1", "root2", "proof", "why"),
    [
        (1, 1, EMPTY_ROOT, OTHER_HASH, [], "forked"),
        (2, 1, EMPTY_ROOT, OTHER_HASH, [], "shrank"),
        (1, 0, EMPTY_ROOT, OTHER_HASH, [], "shrank"),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], "must be empty"),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], "must be empty"),
        (1, 2, EMPTY_ROOT, OTHER_HASH, [], "is empty"),
        (1, 2, EMPTY_ROOT, OTHER_HASH, [b"short"], "not a 32-byte"),
    ],
)
def test_when_consistency_cannot_hold_then_the_error_says_why(
    old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes], why: str
) -> None:
    with pytest.raises(ProofFailed, match=why):
        verify_consistency(old, new, root1, root2, proof)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (2, 1), (5, 3)])
def test_when_an_index_is_outside_the_tree_then_inclusion_fails(index: int, size: int) -> None:
    with pytest.raises(ProofFailed, match="outside"):
        verify_inclusion(index, size, OTHER_HASH, [], OTHER_HASH)


def test_when_the_tree_has_one_leaf_then_its_root_is_the_leaf_and_the_proof_empty() -> None:
    leaf = leaf_hash(b"data")
    verify_inclusion(0, 1, leaf, [], leaf)
    assert root_from_inclusion_proof(0, 1, leaf, []) == leaf
    with pytest.raises(ProofFailed, match="not a 32-byte"):
        verify_inclusion(0, 1, b"", [], leaf)
    with pytest.raises(ProofFailed, match="not a 32-byte"):
        verify_inclusion(0, 1, leaf, [], b"")


@pytest.mark.parametrize("size", range(1, 34))
def test_when_proving_in_any_tree_of_up_to_33_leaves_then_every_proof_verifies(size: int) -> None:
    leaves = numbered_leaves(size)
    root = root_hash(leaves)
    for index in range(size):
        verify_inclusion(index, size, leaves[index], inclusion_proof(leaves, index), root)
    for old in range(size + 1):
        verify_consistency(old, size, root_hash(leaves[:old]), root, consistency_proof(leaves, old))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_when_any_bit_of_a_leaf_or_an_inclusion_proof_flips_then_it_fails(size: int, data: st.DataObject) -> None:
    leaves = numbered_leaves(size)
    root = root_hash(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(leaves, index)
    verify_inclusion(index, size, leaves[index], proof, root)
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(ProofFailed):
        verify_inclusion(index, size, flipped(leaves[index], bit), proof, root)
    with pytest.raises(ProofFailed):
        verify_inclusion(index, size, leaves[index], proof, flipped(root, bit))
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        tampered = [flipped(p, bit) if i == element else p for i, p in enumerate(proof)]
        with pytest.raises(ProofFailed):
            verify_inclusion(index, size, leaves[index], tampered, root)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 300), st.data())
def test_when_any_bit_of_a_consistency_proof_or_head_flips_then_it_fails(size: int, data: st.DataObject) -> None:
    leaves = numbered_leaves(size)
    old = data.draw(st.integers(1, size - 1), label="old")
    old_root, new_root = root_hash(leaves[:old]), root_hash(leaves)
    proof = consistency_proof(leaves, old)
    verify_consistency(old, size, old_root, new_root, proof)
    bit = data.draw(st.integers(0, 255), label="bit")
    element = data.draw(st.integers(0, len(proof) - 1), label="element")
    tampered = [flipped(p, bit) if i == element else p for i, p in enumerate(proof)]
    with pytest.raises(ProofFailed):
        verify_consistency(old, size, old_root, new_root, tampered)
    with pytest.raises(ProofFailed):
        verify_consistency(old, size, flipped(old_root, bit), new_root, proof)
    with pytest.raises(ProofFailed):
        verify_consistency(old, size, old_root, flipped(new_root, bit), proof)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 200), st.data())
def test_when_a_leaf_before_the_old_size_changes_then_consistency_fails(size: int, data: st.DataObject) -> None:
    leaves = numbered_leaves(size)
    old = data.draw(st.integers(1, size - 1), label="old")
    changed = data.draw(st.integers(0, old - 1), label="changed")
    rewritten = [leaf_hash(b"rewritten") if i == changed else leaf for i, leaf in enumerate(leaves)]
    with pytest.raises(ProofFailed):
        verify_consistency(old, size, root_hash(leaves[:old]), root_hash(rewritten), consistency_proof(rewritten, old))


@pytest.mark.parametrize("size", range(0, 70))
def test_when_leaves_are_appended_one_by_one_then_the_frontier_root_is_the_tree_hash(size: int) -> None:
    leaves = numbered_leaves(size)
    frontier = MerkleFrontier.of(leaves)
    assert frontier.size == size
    assert len(frontier.nodes) == size.bit_count()
    assert frontier.root() == root_hash(leaves)


def test_when_a_frontier_is_saved_and_restored_then_appending_continues_the_same_tree() -> None:
    leaves = numbered_leaves(45)
    saved = MerkleFrontier.of(leaves[:29])
    restored = MerkleFrontier(saved.size, saved.nodes)
    for leaf in leaves[29:]:
        restored = restored.append(leaf)
    assert restored.root() == root_hash(leaves)
    assert saved.root() == root_hash(leaves[:29])  # appending made new frontiers; the saved one is unchanged


@pytest.mark.parametrize(
    ("size", "nodes", "why"),
    [(-1, (), "cannot have"), (3, (OTHER_HASH,), "frontier nodes"), (1, (b"short",), "not 32")],
)
def test_when_a_frontier_is_inconsistent_then_it_is_refused(size: int, nodes: tuple[bytes, ...], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        MerkleFrontier(size, nodes)


def test_when_asked_for_a_proof_outside_the_tree_then_generation_refuses() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(LEAVES, 8)
    with pytest.raises(ValueError, match="outside"):
        consistency_proof(LEAVES, 9)
