"""The schedule of periodic jobs."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PeriodicJob(models.Model):
    """When a periodic job (retention) is next due. Workers take the row's lock to claim a
    run, so several workers never start the same job at once."""

    name = models.CharField(max_length=40, unique=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=400, blank=True)

    class Meta:
        db_table = "lib_periodicjob"  # where it was made, before jobs were their own app

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M})"
