"""Proofs computed from tiles alone equal the proofs computed from every leaf."""

from typing import NoReturn

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuidang.tlog import merkle
from tuidang.tlog.models import FullTile, SignedCheckpoint, TreeHead
from tuidang.tlog.proofs import MissingTile, TreeHashes
from tuidang.tlog.services import log_append, log_checkpoint_sign, tree_hashes

# Past 65,536 leaves the tree has tiles of level 2 as well.
LEAVES = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)]


def _level_hashes(level: int) -> list[bytes]:
    """The stored hashes of a level: leaves, then roots of complete 256**level subtrees."""
    span = 256**level
    return [merkle.root(LEAVES[i : i + span]) for i in range(0, len(LEAVES) - span + 1, span)]


STORED = {level: _level_hashes(level) for level in range(3)}


def read_tile(level: int, index: int, width: int) -> bytes | None:
    hashes = STORED[level][index * 256 : index * 256 + width]
    return b"".join(hashes) if len(hashes) == width else None


sizes = st.integers(min_value=1, max_value=len(LEAVES))


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_inclusion_from_tiles_matches_the_full_tree(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    tree = TreeHashes(read_tile, size)
    proof = tree.inclusion_proof(index)
    assert proof == merkle.inclusion_proof(LEAVES[:size], index)
    merkle.verify_inclusion(LEAVES[index], index, size, proof, merkle.root(LEAVES[:size]))


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_consistency_from_tiles_matches_the_full_tree(size: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(min_value=1, max_value=size))
    tree = TreeHashes(read_tile, size)
    assert tree.root() == merkle.root(LEAVES[:size])
    proof = tree.consistency_proof(old)
    assert proof == merkle.consistency_proof(LEAVES[:size], old)
    merkle.verify_consistency(old, size, merkle.root(LEAVES[:old]), tree.root(), proof)


def test_a_proof_reads_a_few_tiles_not_the_log() -> None:
    reads = []

    def counting(level: int, index: int, width: int) -> bytes | None:
        reads.append((level, index, width))
        return read_tile(level, index, width)

    TreeHashes(counting, 69_999).inclusion_proof(12_345)
    assert len(reads) <= 6


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_a_proof_reads_all_its_tiles_in_one_go(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    batches = []

    def read_tiles(tiles: list[tuple[int, int, int]]) -> dict[tuple[int, int], list[bytes]]:
        batches.append(tiles)
        return {(level, i): STORED[level][i * 256 : i * 256 + width] for level, i, width in tiles}

    def one_by_one(level: int, index: int, width: int) -> NoReturn:
        raise AssertionError(f"tile {level}/{index} was not read ahead")

    proof = TreeHashes(one_by_one, size, read_tiles=read_tiles).inclusion_proof(index)
    assert proof == merkle.inclusion_proof(LEAVES[:size], index)
    assert len(batches) == (1 if size > 1 else 0)


def compact_range(leaves: list[bytes]) -> list[bytes]:
    """The roots of the maximal complete subtrees of ``leaves``, left to right."""
    nodes, start = [], 0
    for height in range(len(leaves).bit_length() - 1, -1, -1):
        if len(leaves) >> height & 1:
            nodes.append(merkle.root(leaves[start : start + 2**height]))
            start += 2**height
    return nodes


@settings(max_examples=100, deadline=None)
@given(size=sizes, data=st.data())
def test_with_the_compact_range_a_proof_reads_only_the_tiles_on_its_path(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    read: list[tuple[int, int]] = []

    def read_tiles(tiles: list[tuple[int, int, int]]) -> dict[tuple[int, int], list[bytes]]:
        read.extend((level, i) for level, i, _width in tiles)
        return {(level, i): STORED[level][i * 256 : i * 256 + width] for level, i, width in tiles}

    tree = TreeHashes(read_tile, size, read_tiles=read_tiles, frontier=compact_range(LEAVES[:size]))
    proof = tree.inclusion_proof(index)
    assert proof == merkle.inclusion_proof(LEAVES[:size], index)
    # The partial tiles at the log's right edge are read only when the path crosses them.
    assert set(read) <= {(level, index >> 8 * (level + 1)) for level in range(3)}
    assert tree.root() == merkle.root(LEAVES[:size])


def test_a_compact_range_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="compact range"):
        TreeHashes(read_tile, 7, frontier=compact_range(LEAVES[:6]))
    with pytest.raises(ValueError, match="compact range"):
        TreeHashes(read_tile, 6, frontier=[b"not", b"hashes"])


def test_a_missing_tile_is_an_error_not_a_wrong_proof() -> None:
    tree = TreeHashes(lambda level, index, width: None, 1000)
    with pytest.raises(MissingTile):
        tree.inclusion_proof(3)


@pytest.mark.django_db
def test_the_stored_tiles_give_the_root_of_the_tree_head() -> None:
    entries = [f"entry {i}".encode() for i in range(700)]
    for start in range(0, 700, 97):
        log_append(entries=entries[start : start + 97])
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    for size in (1, 255, 256, 257, 512, 700):
        tree = tree_hashes(size)
        assert tree.root() == merkle.root(leaves[:size])
        assert tree.inclusion_proof(size - 1) == merkle.inclusion_proof(leaves[:size], size - 1)
        # Tiles read ahead in one query give the same proofs.
        assert tree_hashes(size).inclusion_proof(0) == merkle.inclusion_proof(leaves[:size], 0)


@pytest.mark.django_db
def test_a_full_tile_is_one_row_and_proves_what_its_256_rows_prove() -> None:
    entries = [f"entry {i}".encode() for i in range(600)]
    for start in range(0, 600, 130):  # batches that straddle tiles
        log_append(entries=entries[start : start + 130])
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    stored = {
        (tile.level, tile.index): bytes(tile.hashes) for tile in FullTile.objects.order_by("index")
    }
    assert stored == {(0, 0): b"".join(leaves[:256]), (0, 1): b"".join(leaves[256:512])}
    proofs = [tree_hashes(600).inclusion_proof(index) for index in (0, 300, 599)]
    assert proofs == [merkle.inclusion_proof(leaves, index) for index in (0, 300, 599)]
    # A log stored before full tiles were: the same proofs from the entries' rows.
    FullTile.objects.all().delete()
    assert [tree_hashes(600).inclusion_proof(index) for index in (0, 300, 599)] == proofs


@pytest.mark.django_db
def test_the_first_full_tile_of_level_one_holds_the_roots_of_its_256_tiles() -> None:
    entries = [b"%d" % i for i in range(65_536 + 3)]
    for start in range(0, len(entries), 30_000):
        log_append(entries=entries[start : start + 30_000])
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    roots = [merkle.root(leaves[256 * i : 256 * (i + 1)]) for i in range(256)]
    assert bytes(FullTile.objects.get(level=1, index=0).hashes) == b"".join(roots)
    assert FullTile.objects.filter(level=0).count() == 256
    tree = tree_hashes(len(entries))
    assert tree.inclusion_proof(40_000) == merkle.inclusion_proof(leaves, 40_000)


@pytest.mark.django_db
def test_a_checkpoint_keeps_its_compact_range_for_the_proofs_against_it() -> None:
    entries = [f"entry {i}".encode() for i in range(700)]
    log_append(entries=entries)
    checkpoint = log_checkpoint_sign()
    assert checkpoint is not None
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    # 700 = 512 + 128 + 32 + 16 + 8 + 4
    assert checkpoint.frontier_hashes() == compact_range(leaves)
    assert [len(node) for node in checkpoint.frontier_hashes()] == [merkle.HASH_SIZE] * 6
    for index in (0, 511, 512, 699):
        proof = tree_hashes(700, checkpoint.frontier_hashes()).inclusion_proof(index)
        assert proof == merkle.inclusion_proof(leaves, index)


@pytest.mark.django_db
def test_a_tree_head_whose_compact_range_is_not_the_trees_is_not_signed() -> None:
    log_append(entries=[f"entry {i}".encode() for i in range(700)])
    head = TreeHead.objects.get()
    # One node whose "root" is the tree's root: right root, wrong shape for 700 leaves.
    TreeHead.objects.update(frontier=[bytes(head.root).hex()])
    with pytest.raises(merkle.ProofError, match="compact range"):
        log_checkpoint_sign()
    assert not SignedCheckpoint.objects.exists()
