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
from collections.abc import Callable
from hashlib import sha256 as _sha256

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tuidang.lib.bulk import bulk_insert, db_value
from tuidang.tlog import merkle
from tuidang.tlog.models import LogEntry, SignedCheckpoint, TileNode, TreeHead
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


def frontier_append(
    frontier: list[bytes], size: int, leaf: bytes
) -> tuple[list[bytes], list[tuple[int, bytes]]]:
    """Add a leaf to the compact range of a tree of ``size``; also return the complete
    subtrees formed, as (height, hash): a subtree of 2**height leaves."""
    frontier = [*frontier, leaf]
    formed: list[tuple[int, bytes]] = []
    _merge(frontier, size, formed.append)
    return frontier, formed


def _merge(frontier: list[bytes], size: int, formed: Callable[[tuple[int, bytes]], None]) -> None:
    """Merge the leaf just pushed on ``frontier`` (a tree of ``size`` before it) with the
    complete subtrees it completes, in place; ``formed`` hears of each (height, hash)."""
    height = 0
    while size & 1:
        right = frontier.pop()
        node = _sha256(b"\x01" + frontier.pop() + right).digest()
        frontier.append(node)
        size >>= 1
        height += 1
        formed((height, node))


def frontier_root(frontier: list[bytes]) -> bytes:
    if not frontier:
        return merkle.empty_root()
    node = frontier[-1]
    for left in reversed(frontier[:-1]):
        node = merkle.node_hash(left, node)
    return node


def log_append(*, entries: list[bytes]) -> list[int]:
    """Append ``entries``; their indexes. Call it inside the transaction storing them."""
    if any(len(entry) > MAX_ENTRY for entry in entries):
        raise ValueError("a log entry is at most 65535 bytes")
    with transaction.atomic():
        TreeHead.objects.get_or_create(pk=HEAD, defaults={"root": merkle.empty_root()})
        head = TreeHead.objects.select_for_update().get(pk=HEAD)
        size = head.size
        frontier = [bytes.fromhex(node) for node in head.frontier]
        now = db_value(timezone.now())
        rows, nodes = [], []
        formed: list[tuple[int, bytes]] = []
        for data in entries:
            # merkle.leaf_hash, inline: an import hashes a million entries.
            leaf = _sha256(b"\x00" + data).digest()
            rows.append((size, data, leaf, now))
            frontier.append(leaf)
            _merge(frontier, size, formed.append)
            size += 1
            if formed:
                for height, node in formed:
                    if height % TILE_HEIGHT == 0:  # a complete subtree of 256**level leaves
                        nodes.append((height // TILE_HEIGHT, (size >> height) - 1, node))
                formed.clear()
        # Below the ORM: an import appends hundreds of thousands of entries a minute.
        bulk_insert(LogEntry, ["index", "data", "leaf_hash", "created_at"], rows)
        bulk_insert(TileNode, ["level", "index", "hash"], nodes)
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


def _checkpoint_soon() -> None:
    from tuidang.tlog.tasks import sign_checkpoint

    sign_checkpoint.enqueue()


def log_size() -> int:
    head = TreeHead.objects.filter(pk=HEAD).first()
    return head.size if head else 0


def tree_hashes(size: int) -> TreeHashes:
    """The tree of the first ``size`` entries, read from the stored tiles."""
    return TreeHashes(tile_hashes, size, read_tiles=tiles_hashes)


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
    body = Checkpoint(settings.TLOG_ORIGIN, head.size, tree_root).body()
    checkpoint, _created = SignedCheckpoint.objects.get_or_create(
        size=head.size, defaults={"root": tree_root, "note": signer().sign(body)}
    )
    logger.info("Signed checkpoint at size %s", head.size)
    return checkpoint


def tile_hashes(level: int, index: int, width: int) -> bytes | None:
    """The hashes of tile ``level``/``index``, ``width`` wide; None if not there yet."""
    first = index * TILE_WIDTH
    quote = connection.ops.quote_name
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
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) != width:
        return None
    return b"".join(row for (row,) in rows)


def tiles_hashes(tiles: list[tuple[int, int, int]]) -> dict[tuple[int, int], list[bytes]]:
    """Many tiles (level, index, width) in one query: a proof's three to six tiles in one
    round trip, each as its list of hashes (TreeHashes checks they are all there)."""
    quote = connection.ops.quote_name
    index = quote("index")
    # Names from the models' metadata, quoted; values are parameters.
    leaves = (
        f"SELECT 0, {index}, {quote('leaf_hash')} FROM {quote(LogEntry._meta.db_table)} "  # noqa: S608
        f"WHERE {index} >= %s AND {index} < %s"
    )
    nodes = (
        f"SELECT {quote('level')}, {index}, {quote('hash')} FROM {quote(TileNode._meta.db_table)} "  # noqa: S608
        f"WHERE {quote('level')} = %s AND {index} >= %s AND {index} < %s"
    )
    parts, params = [], []
    for level, tile, width in tiles:
        first = tile * TILE_WIDTH
        parts.append(leaves if level == 0 else nodes)
        params += [first, first + width] if level == 0 else [level, first, first + width]
    if not parts:
        return {}
    found: dict[tuple[int, int], list[bytes]] = {(level, tile): [] for level, tile, _ in tiles}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2", params)
        # A proof reads some 700 rows: nothing per row but what must be done.
        for level, position, hash_ in cursor.fetchall():
            found[level, position // TILE_WIDTH].append(
                hash_ if type(hash_) is bytes else bytes(hash_)
            )
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
