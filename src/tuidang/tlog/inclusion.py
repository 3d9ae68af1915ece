"""An entry of the log, and the proof that the latest signed checkpoint holds it.

The proof is made from the tiles on the entry's path and the checkpoint's compact range (a
client outside reads the partial tiles at the log's edge instead, to the same proof). What
an entry means is for the app that appended it: a declarant's receipt is checked in
declarations/receipts.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuidang.tlog import merkle
from tuidang.tlog.models import LogEntry, SignedCheckpoint
from tuidang.tlog.services import tree_hashes


@dataclass(frozen=True)
class SignedEntry:
    """The entry at ``index``, and the latest signed checkpoint, whose tree holds it."""

    index: int
    data: bytes
    checkpoint: SignedCheckpoint

    def prove(self) -> None:
        """Prove that the checkpoint's tree holds the entry: raises merkle.ProofError
        unless it does."""
        size = self.checkpoint.size
        proof = tree_hashes(size, self.checkpoint.frontier_hashes()).inclusion_proof(self.index)
        merkle.verify_inclusion(
            merkle.leaf_hash(self.data), self.index, size, proof, bytes(self.checkpoint.root)
        )


def entry_signed(index: int) -> SignedEntry | None:
    """The entry at ``index`` with the latest signed checkpoint, or None when there is no
    such entry or no signed checkpoint covers it yet."""
    entry = LogEntry.objects.filter(index=index).first()
    checkpoint = SignedCheckpoint.objects.order_by("-size").first()
    if entry is None or checkpoint is None or index >= checkpoint.size:
        return None
    return SignedEntry(index=index, data=bytes(entry.data), checkpoint=checkpoint)


def proof_bundle(index: int) -> str | None:
    """The proof bundle (tlog/bundles.py) of the entry at ``index``, proven against the
    latest checkpoint cosigned by a quorum of the witnesses that holds it, or the latest
    checkpoint when none is; None when no signed checkpoint holds the entry yet."""
    from tuidang.tlog.bundles import bundle_encode
    from tuidang.tlog.selectors import witnessing
    from tuidang.tlog.witnessing import cosigned_note

    signed = entry_signed(index)
    if signed is None:
        return None
    checkpoint = signed.checkpoint
    witnessed = witnessing().witnessed_size
    if witnessed is not None and index < witnessed < checkpoint.size:
        checkpoint = SignedCheckpoint.objects.get(size=witnessed)
    proof = tree_hashes(checkpoint.size, checkpoint.frontier_hashes()).inclusion_proof(index)
    return bundle_encode(
        index=index, entry=signed.data, proof=proof, note=cosigned_note(checkpoint)
    )
