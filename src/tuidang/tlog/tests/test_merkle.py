"""RFC 9162 hashing and proofs: the reference test vectors, properties over random trees,
and a cross-check against an independent implementation (pymerkle)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree, verify_consistency

from tuidang.tlog import merkle

# The leaves and roots of the RFC 6962 reference tests (certificate-transparency).
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
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
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def test_the_empty_tree_has_the_hash_of_nothing() -> None:
    assert (
        merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_vectors(size: int) -> None:
    assert merkle.root(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(
    ("index", "size", "path"),
    [
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ],
)  # fmt: skip
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, path: list[str]
) -> None:
    proof = merkle.inclusion_proof(HASHES[:size], index)
    assert [node.hex() for node in proof] == path
    merkle.verify_inclusion(HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (1, 1, []),
        (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ],
)  # fmt: skip
def test_consistency_proofs_match_the_reference_vectors(
    old: int, new: int, path: list[str]
) -> None:
    proof = merkle.consistency_proof(HASHES[:new], old)
    assert [node.hex() for node in proof] == path
    merkle.verify_consistency(
        old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), proof
    )


trees = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@given(trees, st.data())
@settings(max_examples=150)
def test_every_inclusion_proof_verifies_and_a_tampered_one_does_not(
    entries: list[bytes], data: st.DataObject
) -> None:
    hashes = [merkle.leaf_hash(entry) for entry in entries]
    index = data.draw(st.integers(0, len(hashes) - 1))
    tree_root = merkle.root(hashes)
    proof = merkle.inclusion_proof(hashes, index)
    merkle.verify_inclusion(hashes[index], index, len(hashes), proof, tree_root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, len(hashes), proof, tree_root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof[:position], bytes(32), *proof[position + 1 :]]
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(hashes[index], index, len(hashes), tampered, tree_root)


@given(trees, st.data())
@settings(max_examples=150)
def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not(
    entries: list[bytes], data: st.DataObject
) -> None:
    hashes = [merkle.leaf_hash(entry) for entry in entries]
    old = data.draw(st.integers(1, len(hashes)))
    proof = merkle.consistency_proof(hashes, old)
    old_root, new_root = merkle.root(hashes[:old]), merkle.root(hashes)
    merkle.verify_consistency(old, len(hashes), old_root, new_root, proof)
    rewritten = merkle.root([merkle.leaf_hash(b"rewritten"), *hashes[1:old]])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, len(hashes), rewritten, new_root, proof)


@given(st.lists(st.binary(max_size=16), min_size=1, max_size=40))
@settings(max_examples=60)
def test_roots_and_proofs_agree_with_pymerkle(entries: list[bytes]) -> None:
    independent = InmemoryTree(algorithm="sha256")
    for entry in entries:
        independent.append_entry(entry)
    hashes = [merkle.leaf_hash(entry) for entry in entries]
    for size in range(1, len(entries) + 1):
        their_root = independent.get_root(size)
        assert merkle.root(hashes[:size]) == their_root
        proof = merkle.inclusion_proof(hashes[:size], size - 1)
        merkle.verify_inclusion(hashes[size - 1], size - 1, size, proof, their_root)
    for old in range(1, len(entries) + 1):
        # pymerkle's own consistency proofs hold between our roots.
        their_proof = independent.prove_consistency(old, len(entries))
        verify_consistency(merkle.root(hashes[:old]), merkle.root(hashes), their_proof)
