"""The C2SP tlog-tiles layout: tile paths, and tiles built from the stored hashes."""

from __future__ import annotations

import re

# A tile is 2**8 hashes wide and spans 8 levels of the tree.
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_PATH = re.compile(r"^((?:x\d{3}/)*)(\d{3})(?:\.p/(\d{1,3}))?$")
# A log's size, and so every index a tile reads (up to the end of its range), is a signed
# 64-bit number, as the database stores it: no tile lies beyond.
MAX_LOG_SIZE = 2**63 - 1
_MAX_GROUPS = len(str(MAX_LOG_SIZE)) // 3 + 1


def encode_index(index: int) -> str:
    """N as 3-digit groups, every group but the last prefixed with x: x001/x234/067."""
    groups = f"{index:03d}"
    groups = "0" * (-len(groups) % 3) + groups
    parts = [groups[i : i + 3] for i in range(0, len(groups), 3)]
    return "/".join([*(f"x{part}" for part in parts[:-1]), parts[-1]])


def tile_path(index: int, width: int = TILE_WIDTH) -> str:
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return encode_index(index) + suffix


def parse_tile_path(path: str) -> tuple[int, int]:
    """(index, width) from a tile path; ValueError if it is not one the layout allows, or
    one past the largest log (whose size is a signed 64-bit number): so a path never
    reaches a query with a number the database cannot hold."""
    match = _PATH.match(path)
    if match is None:
        raise ValueError("not a tile path")
    prefix, last, width = match.groups()
    groups = [group[1:] for group in prefix.split("/") if group] + [last]
    if len(groups) > _MAX_GROUPS:
        raise ValueError("no tile lies beyond the largest log")
    if len(groups) > 1 and groups[0] == "000":
        raise ValueError("tile indexes have no leading zero groups")
    index = int("".join(groups))
    tile_width = int(width) if width is not None else TILE_WIDTH
    if width is not None and (not 1 <= tile_width < TILE_WIDTH or width != str(tile_width)):
        raise ValueError("a partial tile is 1 to 255 wide")
    if index * TILE_WIDTH + tile_width > MAX_LOG_SIZE:
        raise ValueError("no tile lies beyond the largest log")
    return index, tile_width
