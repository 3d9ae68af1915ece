"""The data keys that seal identifying text and recordings."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DataKey(models.Model):
    """A random 256-bit key that seals fields and recordings, stored only wrapped by the
    key-encryption key (KEK), which lives outside the database (vault/keys.py).

    The newest version seals; while more than one exists a rotation is under way, and
    `tuidang rotate-keys` deletes the older ones once nothing is sealed under them.
    """

    # One byte of every sealed value names its key: versions run from 1 to 255.
    version = models.PositiveSmallIntegerField(unique=True)
    # A 96-bit nonce and the key sealed with AES-GCM under the KEK, bound to the version.
    wrapped = models.BinaryField()
    # Which KEK wrapped it (a keyed fingerprint, not the KEK): a wrong KEK is named as such.
    kek_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "lib_datakey"  # where it was made, before the vault was its own app

    def __str__(self) -> str:
        return f"data key v{self.version}"
