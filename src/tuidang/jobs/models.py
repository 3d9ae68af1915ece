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
    """When each worker process last said it was alive (`tuidang worker`, every second):
    /readyz fails when none has for WORKER_SEEN_WITHIN_SECONDS, since nothing would then
    ring volunteers, publish declarations or sign checkpoints; and a task left running by
    a worker silent for TASKS_ORPHANED_AFTER_SECONDS is run again by another."""

    # host:pid of the worker process: one row each, updated in place.
    worker = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField(default=timezone.now)
    # Told to stop (SIGTERM): it finishes its task and beats meanwhile, so the task is not
    # taken for orphaned, but /readyz no longer counts it. A database default too, for
    # the old workers' INSERTs while a fleet is upgraded.
    stopping = models.BooleanField(default=False, db_default=False)

    def __str__(self) -> str:
        return f"{self.worker} (seen {self.seen_at:%Y-%m-%d %H:%M:%S})"
