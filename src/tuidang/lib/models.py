"""Rows the shared helpers keep: the data keys that seal identifying text, and the
schedule of periodic jobs."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DataKey(models.Model):
    """A random 256-bit key that seals fields and recordings, stored only wrapped by the
    key-encryption key (KEK), which lives outside the database (lib/keys.py).

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

    def __str__(self) -> str:
        return f"data key v{self.version}"


class PeriodicJob(models.Model):
    """When a periodic job (retention) is next due. Workers take the row's lock to claim a
    run, so several workers never start the same job at once."""

    name = models.CharField(max_length=40, unique=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=400, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M})"
