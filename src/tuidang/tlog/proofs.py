"""Proofs from tiles, as a tlog-tiles client computes them.

A tile at level L holds the hashes of complete subtrees of 256**L leaves; any other
complete subtree hash is at most 255 hashes away from one tile. So a proof for a tree of
any size reads a handful of tiles, never the whole log: this is how the hotline proves a
receipt and signs checkpoints, and how an outside client could do the same over HTTP.
Given the tree's compact range as well (a checkpoint keeps it), a proof takes the nodes
at the log's right edge from it and reads only the tiles on its own path; signing reads
the tiles alone, so the partial tiles at the edge are checked against each new root.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256

from tuidang.tlog import merkle
from tuidang.tlog.tiles import TILE_HEIGHT, TILE_WIDTH

# (level, index, width) -> the tile's hashes, concatenated; None when it is not there.
TileReader = Callable[[int, int, int], bytes | None]
# Many tiles at once, for one round trip to the database: [(level, index, width)] ->
# {(level, index): the tile's hashes, one by one}; a tile not there may be left out.
TilesReader = Callable[[list[tuple[int, int, int]]], dict[tuple[int, int], list[bytes]]]


class MissingTile(Exception):
    pass


class TreeHashes:
    """The hashes of a tree of ``size`` leaves, read from tiles and cached."""

    def __init__(
        self,
        read_tile: TileReader,
        size: int,
        read_tiles: TilesReader | None = None,
        frontier: Sequence[bytes] = (),
    ) -> None:
        self.read_tile = read_tile
        self.read_tiles = read_tiles
        self.size = size
        # The tree's compact range, when known (a checkpoint stores it): the node of height
        # h for each bit h set in ``size``, highest first. Every proof's subtree that ends
        # at the right edge is made of these nodes, so the partial tiles there, a few
        # hundred rows and hashes, need not be read.
        heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
        if frontier and len(frontier) != len(heights):
            raise ValueError(f"a tree of {size} has a compact range of {len(heights)} nodes")
        if set(map(len, frontier)) - {merkle.HASH_SIZE}:
            raise ValueError("a compact range is made of hashes")
        self._edge = {
            (height, (size >> height) - 1): node
            for height, node in zip(heights, frontier, strict=False)
        }
        # Each tile read, with every complete subtree inside it hashed: row r holds the
        # hashes of its subtrees of 2**r of the tile's hashes.
        self._tiles: dict[tuple[int, int], list[list[bytes]]] = {}

    def _width(self, level: int, index: int) -> int:
        """How many of the tile's hashes are of subtrees complete in this tree."""
        return min(TILE_WIDTH, (self.size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH)

    def _tile(self, level: int, index: int) -> list[list[bytes]]:
        rows = self._tiles.get((level, index))
        if rows is None:
            body = self.read_tile(level, index, self._width(level, index))
            hashes = None if body is None else merkle.split_hashes(body)
            rows = self._hashed(level, index, hashes)
        return rows

    def _hashed(self, level: int, index: int, hashes: list[bytes] | None) -> list[list[bytes]]:
        width = self._width(level, index)
        if hashes is None or len(hashes) != width or set(map(len, hashes)) - {merkle.HASH_SIZE}:
            raise MissingTile(f"tile {level}/{index} of width {width} is missing")
        rows = [hashes]
        # All at once: at most 255 hashes, what a proof through this tile needs anyway,
        # at a fraction of the cost of computing them one by one on demand
        # (merkle.node_hash, written out).
        while len(rows[-1]) > 1:
            below = rows[-1]
            rows.append(
                [
                    sha256(b"\x01" + below[i] + below[i + 1]).digest()
                    for i in range(0, len(below) - 1, 2)
                ]
            )
        self._tiles[level, index] = rows
        return rows

    def _read_ahead(self, plan: Callable[[merkle.Subtree], object]) -> None:
        """Read at once every tile that ``plan`` (a proof, given a subtree function)
        will need: which tiles depends on the tree's size and the proof's indexes only."""
        if self.read_tiles is None:
            return
        wanted: set[tuple[int, int]] = set()

        def cover(start: int, end: int) -> bytes:
            count = end - start
            if count & (count - 1) == 0 and start % count == 0:
                height = count.bit_length() - 1  # the node (height, start >> height)
                if (height, start >> height) in self._edge:
                    return b""
                level, rest = divmod(height, TILE_HEIGHT)
                wanted.add((level, ((start >> height) << rest) // TILE_WIDTH))
            else:
                k = 1 << ((count - 1).bit_length() - 1)
                cover(start, start + k)
                cover(start + k, end)
            return b""

        plan(cover)
        missing = sorted(tile for tile in wanted if tile not in self._tiles)
        if missing:
            tiles = self.read_tiles(
                [(level, index, self._width(level, index)) for level, index in missing]
            )
            for level, index in missing:
                self._hashed(level, index, tiles.get((level, index)))

    def node(self, height: int, index: int) -> bytes:
        """The hash of the complete subtree of 2**height leaves numbered ``index``."""
        edge = self._edge.get((height, index))
        if edge is not None:
            return edge
        level, rest = divmod(height, TILE_HEIGHT)
        # Its first hash of level ``level`` is in this tile, and so is the whole subtree.
        tile, offset = divmod(index << rest, TILE_WIDTH)
        rows = self._tile(level, tile)
        if rest >= len(rows) or offset >> rest >= len(rows[rest]):
            raise ValueError(f"no complete subtree {height}/{index} in a tree of {self.size}")
        return rows[rest][offset >> rest]

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges RFC 9162 proofs are made of."""
        if not 0 <= start < end <= self.size:
            raise ValueError(f"no subtree {start}..{end} in a tree of {self.size}")
        count = end - start
        if count & (count - 1) == 0 and start % count == 0:
            height = count.bit_length() - 1
            return self.node(height, start >> height)
        k = 1 << ((count - 1).bit_length() - 1)
        return merkle.node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def root(self) -> bytes:
        return self.subtree(0, self.size) if self.size else merkle.empty_root()

    def inclusion_proof(self, index: int) -> list[bytes]:
        self._read_ahead(lambda subtree: merkle.inclusion_proof_from(subtree, self.size, index))
        return merkle.inclusion_proof_from(self.subtree, self.size, index)

    def consistency_proof(self, old_size: int) -> list[bytes]:
        return merkle.consistency_proof_from(self.subtree, self.size, old_size)
