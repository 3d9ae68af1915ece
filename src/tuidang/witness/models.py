"""What a witness keeps: the latest checkpoint it cosigned for each log it trusts, and the
validly signed checkpoints it refused, as evidence of a log's misbehaviour."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WitnessedLog(models.Model):
    """The latest checkpoint cosigned for one log (by origin): changed only by a
    compare-and-swap on its size and root, so two submissions can never roll it back.
    One database may keep several witnesses (by the name of their key): the demo's two."""

    witness = models.CharField(max_length=255)
    origin = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(default=b"")
    # The checkpoint as the log signed it (note text and the log's signature lines).
    checkpoint = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["witness", "origin"], name="one_latest_per_log")
        ]

    def __str__(self) -> str:
        return f"{self.origin} at {self.size}"


class Evidence(models.Model):
    """A checkpoint signed by a log this witness trusts that it refused to cosign: a fork
    (another root for a size it cosigned), a shrink, or a proof that does not hold.
    Anyone holding the log's key can check the signature; nothing else is needed."""

    witness = models.CharField(max_length=255)
    origin = models.CharField(max_length=255)
    # The whole add-checkpoint request body: the old size, the proof and the checkpoint.
    request = models.TextField()
    # SHA-256 of the request: one row however often the same request is resent.
    digest = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    reason = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["witness", "digest"], name="one_evidence_per_request")
        ]

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"
