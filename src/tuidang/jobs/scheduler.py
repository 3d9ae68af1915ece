"""The schedule of periodic jobs: workers claim each run once, however many they are.

Retention is the jobs app's own; a domain adds a job of its own (the publication of
declarations) by registering a ``PeriodicWork`` in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tuidang.jobs.models import PeriodicJob

RETENTION_JOB = "retention"
STALE_AFTER_RUNS = 6


@dataclass(frozen=True)
class PeriodicWork:
    """A domain's periodic job: its name, the setting that holds its interval in seconds,
    and the work, given the instant its run was claimed for, which says what it did.
    Runs are aligned on multiples of the interval since the epoch (an hourly job runs on
    the hour), so when the next one falls can be told in advance."""

    name: str
    interval_setting: str
    run: Callable[[datetime], str]
    # Also run as soon as a worker starts, whatever the schedule: for work that catches
    # up with what a crash left undone (the log's checkpoint), safe to run at any time.
    at_start: bool = False

    def every(self) -> timedelta:
        seconds = getattr(settings, self.interval_setting)
        if seconds < 1:
            raise ValueError(f"{self.interval_setting} must be at least 1 second, not {seconds}")
        return timedelta(seconds=seconds)


_registered: dict[str, PeriodicWork] = {}


def periodic_work_register(work: PeriodicWork) -> None:
    """Add ``work`` to what the scheduler runs (from ``AppConfig.ready()``); registering
    a name again replaces it."""
    if work.name == RETENTION_JOB:
        raise ValueError(f"{RETENTION_JOB!r} is the jobs app's own")
    _registered[work.name] = work


def periodic_work(name: str) -> PeriodicWork:
    return _registered[name]


def next_slot(now: datetime, every: timedelta) -> datetime:
    """The first multiple of ``every`` since the epoch after ``now``."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((now - epoch) // every + 1) * every


def periodic_job_next_run(*, name: str, now: datetime) -> datetime:
    """When the next run of the registered job ``name`` is due: its claimed schedule, or
    the next slot when no run was claimed yet; never before ``now`` (a late run is due at
    once)."""
    job = PeriodicJob.objects.filter(name=name).first()
    due = job.next_run_at if job is not None else next_slot(now, periodic_work(name).every())
    return max(due, now)


def periodic_job_claim(
    *, name: str, now: datetime, every: timedelta, aligned: bool = False
) -> bool:
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
        job.next_run_at = next_slot(now, every) if aligned else now + every
        job.last_started_at = now
        job.save(update_fields=["next_run_at", "last_started_at"])
    return True


def periodic_job_finished(*, name: str, now: datetime, result: str) -> None:
    PeriodicJob.objects.filter(name=name).update(last_finished_at=now, last_result=result[:400])


def scheduler_tick(*, now: datetime | None = None) -> list[str]:
    """Enqueue the periodic jobs that are due (retention, and those the domains
    registered); their names. What a worker calls every few seconds."""
    from tuidang.jobs.tasks import periodic_run, retention_run

    now = now or timezone.now()
    enqueued = []
    every = timedelta(seconds=settings.RETENTION_INTERVAL_SECONDS)
    if periodic_job_claim(name=RETENTION_JOB, now=now, every=every):
        retention_run.enqueue(now=now.isoformat())
        enqueued.append(RETENTION_JOB)
    for work in list(_registered.values()):
        if periodic_job_claim(name=work.name, now=now, every=work.every(), aligned=True):
            periodic_run.enqueue(name=work.name, now=now.isoformat())
            enqueued.append(work.name)
    return enqueued


def scheduler_start() -> list[str]:
    """Enqueue the registered jobs that run when a worker starts; their names."""
    from tuidang.jobs.tasks import periodic_run

    now = timezone.now()
    started = [work.name for work in _registered.values() if work.at_start]
    for name in started:
        periodic_run.enqueue(name=name, now=now.isoformat())
    return started


def scheduler_check_every() -> float:
    """Seconds between a worker's checks of the schedule: a minute, or less when a
    registered job runs more often (the demo publishes every few seconds)."""
    shortest = min((work.every().total_seconds() for work in _registered.values()), default=240)
    return max(1.0, min(60.0, shortest / 4))
