"""Background tasks of the periodic jobs: the retention run, and the jobs the domains
register (jobs/scheduler.py ``PeriodicWork``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django_tasks import task

from tuidang.jobs.retention import retention_purge
from tuidang.jobs.scheduler import RETENTION_JOB, periodic_job_finished, periodic_work


@task()
def retention_run(*, now: str) -> str:
    """The scheduled purge, as of the moment the scheduler claimed it. Twice: what the
    first run purged is gone, and the second finds nothing more due."""
    claimed, began = datetime.fromisoformat(now), timezone.now()
    report = retention_purge(now=claimed)
    summary = report.summary()
    # On the scheduler's clock (a test's simulated one too): when it began, plus how long.
    finished = claimed + (timezone.now() - began)
    periodic_job_finished(name=RETENTION_JOB, now=finished, result=summary)
    return summary


@task()
def periodic_run(*, name: str, now: str) -> str:
    """A registered job's run, as of the moment the scheduler claimed it. Twice: every
    registered job is written to be (publication locks what it publishes, the reconciler
    and the log's catch-up check the state again under their locks)."""
    claimed, began = datetime.fromisoformat(now), timezone.now()
    try:
        summary = periodic_work(name).run(claimed)
    except Exception as exc:
        # Finished, though failed: the next interval tries again, rather than waiting for
        # the run to be taken for dead (STALE_AFTER_RUNS intervals).
        summary = f"failed: {exc!r}"
        raise
    finally:
        periodic_job_finished(name=name, now=claimed + (timezone.now() - began), result=summary)
    return summary
