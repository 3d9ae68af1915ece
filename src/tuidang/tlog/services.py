"""Appending to the log and signing checkpoints.

``log_append`` runs inside the caller's transaction: the declaration and its log entry
are committed together or not at all. Appends are serialised by a compare-and-swap on
the single tree-head row (as Sunlight does), so two writers can never produce two
different trees of one size.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from hashlib import sha256 as _sha256

from django.conf import settings
from django.core.cache import cache
from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from tuidang.lib import memo
from tuidang.lib.bulk import bulk_insert, db_value
from tuidang.tlog import merkle
from tuidang.tlog.models import FullTile, LogEntry, SignedCheckpoint, TileNode, TreeHead
from tuidang.tlog.note import Checkpoint, Signer
from tuidang.tlog.proofs import TreeHashes
from tuidang.tlog.tiles import TILE_HEIGHT, TILE_WIDTH

logger = logging.getLogger(__name__)

HEAD = 1
MAX_ENTRY = 0xFFFF  # entry bundles prefix each entry with a 16-bit length


class ConcurrentAppend(Exception):
    """Another writer moved the tree head: this transaction must not commit."""


def signer() -> Signer:
    seed = hashlib.sha256(settings.TLOG_SIGNING_KEY.encode()).digest()
    return Signer(settings.TLOG_ORIGIN, seed)


def frontier_extend(
    frontier: list[bytes], size: int, leaves: list[bytes]
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append ``leaves`` (leaf hashes) to the compact range ``frontier`` of a tree of
    ``size``: the new compact range, and the complete subtrees of 256**level leaves
    (level ≥ 1) that they form, as (level, index, hash), which tiles are made of.

    Level by level rather than leaf by leaf: each height's new nodes are hashed in pairs
    in one pass, the first paired with the old range's node of that height when it is a
    right child. A batch of n leaves costs n hashes and a few dozen passes."""
    # The compact range holds a node of height h for every bit h set in ``size``,
    # highest first.
    heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
    old = dict(zip(heights, frontier, strict=True))
    new: dict[int, bytes] = {}
    tiles: list[tuple[int, int, bytes]] = []
    run, first, height = leaves, size, 0  # run[i] is the node (height, first + i)
    while run:
        if height and height % TILE_HEIGHT == 0:
            level = height // TILE_HEIGHT
            tiles += [(level, first + i, node) for i, node in enumerate(run)]
        if first & 1:  # a right child: its left sibling is the old range's node
            run = [old.pop(height), *run]
            first -= 1
        if len(run) & 1:
            new[height] = run[-1]
        if len(run) < 2:
            break
        run = [_sha256(b"\x01" + run[i] + run[i + 1]).digest() for i in range(0, len(run) - 1, 2)]
        first >>= 1
        height += 1
    merged = {**old, **new}
    return [merged[h] for h in sorted(merged, reverse=True)], tiles


def frontier_root(frontier: list[bytes]) -> bytes:
    if not frontier:
        return merkle.empty_root()
    node = frontier[-1]
    for left in reversed(frontier[:-1]):
        node = merkle.node_hash(left, node)
    return node


def log_append(*, entries: list[bytes], leaf_hashes: list[bytes] | None = None) -> list[int]:
    """Append ``entries``; their indexes. Call it inside the transaction storing them.
    ``leaf_hashes``, if given, are the entries' (an import hashes them before it takes
    the tree head, outside the part of its work that other writers wait for)."""
    if entries and max(map(len, entries)) > MAX_ENTRY:
        raise ValueError("a log entry is at most 65535 bytes")
    with transaction.atomic():
        TreeHead.objects.get_or_create(pk=HEAD, defaults={"root": merkle.empty_root()})
        head = TreeHead.objects.select_for_update().get(pk=HEAD)
        size = head.size
        frontier = [bytes.fromhex(node) for node in head.frontier]
        now = db_value(timezone.now())
        if leaf_hashes is None:
            # merkle.leaf_hash, inline: an import hashes a million entries.
            leaf_hashes = [_sha256(b"\x00" + data).digest() for data in entries]
        elif len(leaf_hashes) != len(entries):
            raise ValueError("one leaf hash per entry")
        rows = [
            (size + i, data, leaf, now)
            for i, (data, leaf) in enumerate(zip(entries, leaf_hashes, strict=True))
        ]
        frontier, nodes = (
            frontier_extend(frontier, size, leaf_hashes) if entries else (frontier, [])
        )
        size += len(entries)
        # Below the ORM: an import appends hundreds of thousands of entries a minute.
        bulk_insert(LogEntry, ["index", "data", "leaf_hash", "created_at"], rows)
        bulk_insert(TileNode, ["level", "index", "hash"], nodes)
        bulk_insert(
            FullTile,
            ["level", "index", "hashes"],
            _filled_tiles(head.size, size, leaf_hashes, nodes),
        )
        moved = TreeHead.objects.filter(pk=HEAD, size=head.size).update(
            size=size,
            root=frontier_root(frontier),
            frontier=[node.hex() for node in frontier],
            updated_at=timezone.now(),
        )
        if moved != 1:
            raise ConcurrentAppend(f"the tree head moved from {head.size}")
        transaction.on_commit(_checkpoint_soon)
    return list(range(head.size, size))


def _filled_tiles(
    size: int, new_size: int, leaf_hashes: list[bytes], nodes: list[tuple[int, int, bytes]]
) -> list[tuple[int, int, bytes]]:
    """The tiles an append from ``size`` to ``new_size`` fills, as (level, index, their
    256 hashes): from the hashes it adds, and the stored ones before them."""
    filled = []
    level, first, added = 0, size, leaf_hashes  # added[i] is the hash ``first + i``
    while True:
        last = new_size >> (TILE_HEIGHT * level)  # hashes at this level after the append
        for tile in range(first // TILE_WIDTH, last // TILE_WIDTH):
            start = tile * TILE_WIDTH
            before = _stored_hashes(level, start, first) if start < first else []
            hashes = before + added[max(start - first, 0) : start + TILE_WIDTH - first]
            filled.append((level, tile, b"".join(hashes)))
        level += 1
        first = size >> (TILE_HEIGHT * level)
        added = [node for node_level, _index, node in nodes if node_level == level]
        if not added:
            return filled


def _stored_hashes(level: int, start: int, end: int) -> list[bytes]:
    stored = tile_hashes(level, start // TILE_WIDTH, end - start)
    if stored is None:
        raise merkle.ProofError(f"hashes {start} to {end} of level {level} are missing")
    return merkle.split_hashes(stored)


def _checkpoint_soon() -> None:
    from tuidang.tlog.tasks import sign_checkpoint

    sign_checkpoint.enqueue()


def _cosignatures_soon() -> None:
    from tuidang.tlog.tasks import gather_cosignatures

    gather_cosignatures.enqueue()


def log_size() -> int:
    head = TreeHead.objects.filter(pk=HEAD).first()
    return head.size if head else 0


def tree_hashes(size: int, frontier: Sequence[bytes] = ()) -> TreeHashes:
    """The tree of the first ``size`` entries, read from the stored tiles, and from its
    compact range ``frontier`` where given (SignedCheckpoint.frontier_hashes)."""
    return TreeHashes(tile_hashes, size, read_tiles=tiles_hashes, frontier=frontier)


@transaction.atomic
def log_checkpoint_sign() -> SignedCheckpoint | None:
    """Sign the current tree head, once it is proven consistent with the last checkpoint.

    Both the root and the consistency proof are computed from the stored tiles, as any
    client would compute them: a few hundred hashes, whatever the size of the log.
    """
    head = TreeHead.objects.filter(pk=HEAD).first()
    if head is None or head.size == 0:
        return None
    latest = SignedCheckpoint.objects.order_by("-size").first()
    if latest is not None and latest.size >= head.size:
        return latest
    tree = tree_hashes(head.size)
    tree_root = tree.root()
    if tree_root != bytes(head.root):
        raise merkle.ProofError("the stored tree head does not match the stored tiles")
    if latest is not None:
        proof = tree.consistency_proof(latest.size)
        merkle.verify_consistency(latest.size, head.size, bytes(latest.root), tree_root, proof)
    frontier = [bytes.fromhex(node) for node in head.frontier]
    if len(frontier) != head.size.bit_count() or frontier_root(frontier) != tree_root:
        raise merkle.ProofError("the tree head's compact range does not match its root")
    body = Checkpoint(settings.TLOG_ORIGIN, head.size, tree_root).body()
    checkpoint, created = SignedCheckpoint.objects.get_or_create(
        size=head.size,
        defaults={"root": tree_root, "note": signer().sign(body), "frontier": b"".join(frontier)},
    )
    logger.info("Signed checkpoint at size %s", head.size)
    if created:
        transaction.on_commit(witnessing_changed)
    if created and settings.TLOG_WITNESSES:
        transaction.on_commit(_cosignatures_soon)
    return checkpoint


# Moves when a checkpoint is signed or a witness cosigns one: the public pages that say
# what is witnessed are kept under it (public/cache.py).
WITNESSING_GENERATION = "tlog:witnessing-generation"


def witnessing_generation() -> str:
    """The current one; a new random one when the cache lost it."""
    return str(cache.get_or_set(WITNESSING_GENERATION, secrets.token_hex, timeout=None))


def witnessing_changed() -> None:
    cache.set(WITNESSING_GENERATION, secrets.token_hex(), timeout=None)
    memo.forget()  # this process's kept pages; the others' within memo.HOLD_SECONDS


def _reading(model: type[models.Model]) -> BaseDatabaseWrapper:
    """The connection the routers read ``model`` from, for SQL below the ORM."""
    return connections[router.db_for_read(model)]


CATCH_UP_JOB = "checkpoint"


def log_checkpoint_catch_up(claimed: datetime) -> str:
    """The periodic job (and a worker's first): sign a checkpoint whenever the tree head
    is ahead of the latest one, whatever was lost. Each append asks for a checkpoint once
    it commits; a process killed between the commit and that request, or a sign task
    lost with its worker, would otherwise leave the published checkpoint (and the total
    a verifier accepts) behind the registry until the next declaration."""
    latest = SignedCheckpoint.objects.order_by("-size").values_list("size", flat=True).first()
    size = log_size()
    if size == 0 or (latest is not None and latest >= size):
        return f"checkpoint {latest or 0} covers the log"
    signed = log_checkpoint_sign()
    logger.info("Caught up: checkpoint %s signed, the last was %s", size, latest or 0)
    return f"signed checkpoint {signed.size if signed else 0} (was {latest or 0})"


def tile_hashes(level: int, index: int, width: int) -> bytes | None:
    """The hashes of tile ``level``/``index``, ``width`` wide; None if not there yet."""
    if width == TILE_WIDTH:  # a full tile is one row, unless it filled before FullTile was
        full = FullTile.objects.filter(level=level, index=index).values_list("hashes", flat=True)
        for hashes in full:
            return bytes(hashes)
    first = index * TILE_WIDTH
    database = _reading(LogEntry)  # the read replica inside a public page (lib/replica.py)
    quote = database.ops.quote_name
    # Below the ORM: a receipt's proof reads three or four tiles, and should take a
    # millisecond all told. Names from the models' metadata, quoted; values are parameters.
    if level == 0:
        sql = (
            f"SELECT {quote('leaf_hash')} FROM {quote(LogEntry._meta.db_table)} "  # noqa: S608
            f"WHERE {quote('index')} >= %s AND {quote('index')} < %s ORDER BY {quote('index')}"
        )
        params = [first, first + width]
    else:
        sql = (
            f"SELECT {quote('hash')} FROM {quote(TileNode._meta.db_table)} "  # noqa: S608
            f"WHERE {quote('level')} = %s AND {quote('index')} >= %s AND {quote('index')} < %s "
            f"ORDER BY {quote('index')}"
        )
        params = [level, first, first + width]
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) != width:
        return None
    return b"".join(row for (row,) in rows)


def tiles_hashes(tiles: list[tuple[int, int, int]]) -> dict[tuple[int, int], list[bytes]]:
    """Many tiles (level, index, width) in one query: a proof's tiles in one round trip
    (one per level on its path, and without the compact range those at the log's right
    edge too), each as its list of hashes (TreeHashes checks they are all there). A full
    tile is one FullTile row, or its 256 rows if it has none."""
    database = _reading(LogEntry)  # the read replica inside a public page (lib/replica.py)
    quote = database.ops.quote_name
    index, level = quote("index"), quote("level")
    full = quote(FullTile._meta.db_table)
    # Names from the models' metadata, quoted; values are parameters.
    filled = f"SELECT {level}, {index} * {TILE_WIDTH}, {quote('hashes')} FROM {full} WHERE {level} = %s AND {index} = %s"  # noqa: S608, E501
    unfilled = f"NOT EXISTS (SELECT 1 FROM {full} WHERE {level} = %s AND {index} = %s)"  # noqa: S608
    leaves = (
        f"SELECT 0, {index}, {quote('leaf_hash')} FROM {quote(LogEntry._meta.db_table)} "  # noqa: S608
        f"WHERE {index} >= %s AND {index} < %s"
    )
    nodes = (
        f"SELECT {level}, {index}, {quote('hash')} FROM {quote(TileNode._meta.db_table)} "  # noqa: S608
        f"WHERE {level} = %s AND {index} >= %s AND {index} < %s"
    )
    parts: list[str] = []
    params: list[int] = []
    for tile_level, tile, width in tiles:
        first = tile * TILE_WIDTH
        rows, row_params = (
            (leaves, [first, first + width])
            if tile_level == 0
            else (nodes, [tile_level, first, first + width])
        )
        if width == TILE_WIDTH:
            parts += [filled, f"{rows} AND {unfilled}"]
            params += [tile_level, tile, *row_params, tile_level, tile]
        else:
            parts.append(rows)
            params += row_params
    if not parts:
        return {}
    found: dict[tuple[int, int], list[bytes]] = {(level, tile): [] for level, tile, _ in tiles}
    size = merkle.HASH_SIZE
    with database.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2", params)
        # Nothing per row but what must be done.
        for tile_level, position, stored in cursor.fetchall():
            hashes = found[tile_level, position // TILE_WIDTH]
            value = stored if type(stored) is bytes else bytes(stored)
            if len(value) == size:
                hashes.append(value)
            else:  # a full tile's row
                hashes += merkle.split_hashes(value)
    return found


def entry_bundle(index: int, width: int) -> bytes | None:
    first = index * TILE_WIDTH
    rows = list(
        LogEntry.objects.filter(index__gte=first, index__lt=first + width)
        .order_by("index")
        .values_list("data", flat=True)
    )
    if len(rows) != width:
        return None
    return b"".join(len(bytes(row)).to_bytes(2, "big") + bytes(row) for row in rows)


def verifier_key() -> str:
    return str(signer().verifier)


def commitment(salt: bytes, *fields: str) -> str:
    """A salted commitment to private fields: public, yet revealing nothing without the salt."""
    digest = hashlib.sha256(salt)
    for value in fields:
        encoded = value.encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return base64.b64encode(digest.digest()).decode()
