"""What the ground floor keeps in the database: the files of the database storage."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class StoredFile(models.Model):
    """One file of ``DatabaseStorage`` (lib/storage.py), in the database every node shares.

    ``area`` keeps apart the storages that share the table (voicemail recordings, uploaded
    prompts), so a name in one never meets a name in another.
    """

    area = models.CharField(max_length=40)
    name = models.CharField(max_length=255)
    data = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One file per name in each area; the index is also how a file is found.
            models.UniqueConstraint(fields=["area", "name"], name="lib_storedfile_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.area}/{self.name}"
