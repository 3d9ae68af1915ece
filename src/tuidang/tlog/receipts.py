"""A declarant confirms their entry is in the log, without anyone learning who they are.

They hold a receipt: the certificate number (their entry's index) and a code (the salt
of the entry's commitment). With their alias, the commitment can be recomputed and
compared; the entry's inclusion in the latest signed checkpoint is then proven from the
tiles on the entry's path and the checkpoint's compact range (a client outside reads the
partial tiles at the log's edge instead, to the same proof).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from tuidang.tlog import merkle
from tuidang.tlog.models import LogEntry, SignedCheckpoint
from tuidang.tlog.services import commitment, tree_hashes


@dataclass(frozen=True)
class Confirmation:
    index: int
    checkpoint_size: int
    revoked: bool


def salt_from_code(code: str) -> bytes | None:
    cleaned = code.replace("-", "").replace(" ", "").upper()
    try:
        return base64.b32decode(cleaned)
    except (binascii.Error, ValueError):
        return None


def receipt_confirm(*, index: int, code: str, alias: str) -> Confirmation | None:
    """The confirmation, or None when the receipt does not match an entry in the log."""
    salt = salt_from_code(code)
    entry = LogEntry.objects.filter(index=index).first()
    checkpoint = SignedCheckpoint.objects.order_by("-size").first()
    if salt is None or entry is None or checkpoint is None or index >= checkpoint.size:
        return None
    data = json.loads(bytes(entry.data))
    if data.get("kind") != "declaration" or data.get("commitment") != commitment(
        salt, alias.strip()
    ):
        return None
    proof = tree_hashes(checkpoint.size, checkpoint.frontier_hashes()).inclusion_proof(index)
    merkle.verify_inclusion(
        merkle.leaf_hash(bytes(entry.data)), index, checkpoint.size, proof, bytes(checkpoint.root)
    )
    return Confirmation(
        index=index, checkpoint_size=checkpoint.size, revoked=_revoked(index, checkpoint.size)
    )


def _revoked(index: int, size: int) -> bool:
    from tuidang.declarations.models import Revocation

    return Revocation.objects.filter(declaration__log_index=index, log_index__lt=size).exists()
