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


class WorkerHeartbeat(models.Model):
    """When each worker process last said it was alive (`tuidang worker`, every few
    seconds): /readyz fails when none has for a minute, since nothing would then ring
    volunteers, publish declarations or sign checkpoints."""

    # host:pid of the worker process: one row each, updated in place.
    worker = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.worker} (seen {self.seen_at:%Y-%m-%d %H:%M:%S})"
