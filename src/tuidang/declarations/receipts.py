"""A declarant confirms their entry is in the log, without anyone learning who they are.

They hold a receipt: a code (the salt of their entry's commitment) and, once their
declaration is published, its certificate number (the entry's index), which /verify shows
them. With their alias, the commitment can be recomputed and compared; the entry's
inclusion in the latest signed checkpoint is then proven by the log (tlog/inclusion.py).

Before its batch is published (declarations/publication.py) a receipt matching the alias
is only said to be recorded, with the time of the next publication, which is the same
for every pending receipt: nothing of the entry (no number, region, organization, day or
revocation) is told before the log tells everyone.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from tuidang.declarations.models import Declaration, Revocation
from tuidang.declarations.publication import publication_next
from tuidang.tlog.inclusion import entry_signed
from tuidang.tlog.services import commitment


@dataclass(frozen=True)
class Confirmation:
    index: int
    checkpoint_size: int
    revoked: bool


@dataclass(frozen=True)
class Pending:
    """Recorded, not yet published: checkable from about ``checkable_from``."""

    checkable_from: datetime


def salt_from_code(code: str) -> bytes | None:
    cleaned = code.replace("-", "").replace(" ", "").upper()
    try:
        return base64.b32decode(cleaned)
    except (binascii.Error, ValueError):
        return None


def receipt_confirm(
    *, code: str, alias: str, index: int | None = None
) -> Confirmation | Pending | None:
    """The confirmation; Pending when the receipt matches a declaration not yet published;
    None when it matches nothing in the log. ``index``, the certificate number, may be
    left out: the code finds a declaration recorded here, and an imported one needs it."""
    salt = salt_from_code(code)
    if salt is None:
        return None
    recorded = Declaration.objects.filter(import_key__isnull=True, receipt_salt=salt).first()
    if recorded is not None and hmac.compare_digest(
        recorded.alias.encode(), alias.strip().encode()
    ):
        if recorded.log_index is None:
            return Pending(checkable_from=publication_next())
        if index is not None and index != recorded.log_index:
            return None
        index = recorded.log_index
    if index is None:
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
