"""A declarant confirms their entry is in the log, without anyone learning who they are.

They hold a receipt: the certificate number (their entry's index) and a code (the salt
of the entry's commitment). With their alias, the commitment can be recomputed and
compared; the entry's inclusion in the latest signed checkpoint is then proven by the log
(tlog/inclusion.py).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from tuidang.declarations.models import Revocation
from tuidang.tlog.inclusion import entry_signed
from tuidang.tlog.services import commitment


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
    if salt is None:
        return None
    signed = entry_signed(index)
    if signed is None:
        return None
    data = json.loads(signed.data)
    if data.get("kind") != "declaration" or data.get("commitment") != commitment(
        salt, alias.strip()
    ):
        return None
    signed.prove()
    size = signed.checkpoint.size
    return Confirmation(index=index, checkpoint_size=size, revoked=_revoked(index, size))


def _revoked(index: int, size: int) -> bool:
    return Revocation.objects.filter(declaration__log_index=index, log_index__lt=size).exists()
