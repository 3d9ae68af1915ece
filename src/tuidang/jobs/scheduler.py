"""The schedule of periodic jobs: workers claim each run once, however many they are."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tuidang.jobs.models import PeriodicJob

RETENTION_JOB = "retention"
STALE_AFTER_RUNS = 6


def periodic_job_claim(*, name: str, now: datetime, every: timedelta) -> bool:
    """Claim the run of ``name`` that is due at ``now``. The job's row is locked while it
    is claimed, so of several workers asking at once exactly one gets True. A run that
    has not finished is not started again (runs never overlap, and a stopped queue does
    not pile them up) until it is ``STALE_AFTER_RUNS`` intervals old: then it is taken
    to have died."""
    with transaction.atomic():
        job, _created = PeriodicJob.objects.select_for_update().get_or_create(
            name=name, defaults={"next_run_at": now}
        )
        if job.next_run_at > now:
            return False
        started = job.last_started_at
        unfinished = started is not None and (
            job.last_finished_at is None or job.last_finished_at < started
        )
        if unfinished and started is not None and now - started < every * STALE_AFTER_RUNS:
            return False
        job.next_run_at = now + every
        job.last_started_at = now
        job.save(update_fields=["next_run_at", "last_started_at"])
    return True


def periodic_job_finished(*, name: str, now: datetime, result: str) -> None:
    PeriodicJob.objects.filter(name=name).update(last_finished_at=now, last_result=result[:400])


def scheduler_tick(*, now: datetime | None = None) -> bool:
    """Enqueue the retention job if it is due; what a worker calls every minute."""
    from tuidang.jobs.tasks import retention_run

    now = now or timezone.now()
    every = timedelta(seconds=settings.RETENTION_INTERVAL_SECONDS)
    if not periodic_job_claim(name=RETENTION_JOB, now=now, every=every):
        return False
    retention_run.enqueue(now=now.isoformat())
    return True
