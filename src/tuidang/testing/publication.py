"""What the worker does on the hour, done at once: publish what is pending and sign the
checkpoint that holds it (declarations/publication.py)."""

from __future__ import annotations

from datetime import datetime

from tuidang.declarations.publication import Batch, declarations_publish
from tuidang.tlog.services import log_checkpoint_sign


def publish(*, now: datetime | None = None) -> Batch:
    """Publish every pending declaration and revocation, and sign the new checkpoint."""
    batch = declarations_publish(now=now)
    log_checkpoint_sign()
    return batch
