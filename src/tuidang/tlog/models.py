"""The append-only log behind the public total. Rows are only ever inserted.

Leaf hashes are stored with their entries; complete subtrees of 256**k leaves get their
hash stored once (TileNode), which is what the C2SP tlog-tiles layout serves as tiles.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tuidang.tlog import merkle


class LogEntry(models.Model):
    index = models.BigIntegerField(primary_key=True)
    data = models.BinaryField()
    leaf_hash = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"entry {self.index}"


class TileNode(models.Model):
    """The hash of the complete subtree of 256**level leaves numbered ``index``."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="one_tile_node")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class FullTile(models.Model):
    """A full tile's 256 hashes in one row, written when its last hash is: a proof reads
    a tile it crosses in one row rather than 256 (the entries' leaf hashes at level 0,
    TileNode rows above). Full tiles never change. Partial tiles, at the log's right
    edge, are still read from those rows; so is a full tile stored before this table
    was (there is no row for it)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="one_full_tile")]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class TreeHead(models.Model):
    """The log's current size and root: one row, changed only by a compare-and-swap."""

    size = models.BigIntegerField(default=0)
    root = models.BinaryField()
    # The hashes of the maximal complete subtrees, left to right: enough to append.
    frontier = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"tree of {self.size}"


class SignedCheckpoint(models.Model):
    size = models.BigIntegerField(unique=True)
    root = models.BinaryField()
    note = models.TextField()
    # The tree's compact range at this size, its hashes concatenated (the tree head's
    # frontier when it was signed): proofs against the checkpoint take the nodes at the
    # log's right edge from here instead of the partial tiles. Empty on checkpoints
    # signed before it was kept; their proofs read those tiles.
    frontier = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"checkpoint at {self.size}"

    def frontier_hashes(self) -> list[bytes]:
        return merkle.split_hashes(bytes(self.frontier))


class Cosignature(models.Model):
    """A witness's cosignature on one of our checkpoints, checked with its key before it
    was stored: its signature line, served after the log's own on /log/checkpoint."""

    checkpoint = models.ForeignKey(
        SignedCheckpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.CharField(max_length=255)
    line = models.TextField()
    # The time the witness put in its cosignature.
    signed_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="one_cosignature")
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint}"


class WitnessState(models.Model):
    """What the log knows of one witness: the size it last cosigned (the old size of the
    next request), and how the last request went."""

    witness = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    attempted_at = models.DateTimeField(null=True)
    cosigned_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.witness} at {self.size}"
