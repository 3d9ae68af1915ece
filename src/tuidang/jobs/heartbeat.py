"""Workers say they are alive; /readyz and /metrics read when one last did, and a task
left running by a worker that stopped beating is queued again for another.

A worker beats every second. One told to stop (SIGTERM) says so at once, and /readyz
stops counting it while it finishes its task; one killed is missed when its beat is
WORKER_SEEN_WITHIN_SECONDS old (two seconds by default), and its running task is
queued again once the beat is TASKS_ORPHANED_AFTER_SECONDS old. A worker's id in the
task queue (``DBTaskResult.worker_ids``) is its name here, which is how the two meet.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tuidang.jobs.models import WorkerHeartbeat
from tuidang.lib.health import Result

logger = logging.getLogger(__name__)

BEAT_SECONDS = 1.0
FORGET_AFTER = timedelta(days=1)  # the rows of workers stopped long ago
# The task queue's worker ids are at most 64 characters.
WORKER_ID_LENGTH = 64


def this_worker() -> str:
    pid = str(os.getpid())
    return f"{socket.gethostname()[: WORKER_ID_LENGTH - len(pid) - 1]}:{pid}"


def worker_heartbeat_beat(*, worker: str, now: datetime | None = None) -> None:
    """Record that ``worker`` is alive now, and forget workers silent for a day."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"seen_at": now})
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def worker_heartbeat_stopping(*, worker: str) -> None:
    """``worker`` was told to stop: /readyz no longer counts it (it still beats until its
    task is done, so the task is not taken for orphaned)."""
    WorkerHeartbeat.objects.filter(worker=worker).update(stopping=True)


def worker_heartbeat_end(*, worker: str) -> None:
    """``worker`` has stopped, its task done."""
    WorkerHeartbeat.objects.filter(worker=worker).delete()


def last_seen() -> datetime | None:
    """When a worker not stopping last beat."""
    seen: datetime | None = WorkerHeartbeat.objects.filter(stopping=False).aggregate(
        latest=Max("seen_at")
    )["latest"]
    return seen


def tasks_requeue_orphans(*, now: datetime | None = None) -> int:
    """Queue again the tasks whose worker died while running them (its beat older than
    TASKS_ORPHANED_AFTER_SECONDS, or gone); how many. Every task is written to be run
    twice (each says how at its definition), since a worker only slow to beat would
    finish its run too. Two workers doing this at once requeue each task once: the
    update only moves a task still running since the same start."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TASKS_ORPHANED_AFTER_SECONDS)
    running = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
        .values_list("pk", "started_at", "worker_ids", "task_path")
        .order_by("started_at")[:100]
    )
    if not running:
        return 0
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values_list("worker", flat=True)
    )
    requeued = 0
    for pk, started_at, worker_ids, task_path in running:
        if worker_ids and worker_ids[-1] in alive:
            continue
        moved = DBTaskResult.objects.filter(
            pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at
        ).update(status=TaskResultStatus.READY, started_at=None)
        if moved:
            logger.warning("Task %s was left running by a dead worker: queued again", task_path)
            requeued += moved
    return requeued


def worker_check() -> Result:
    seen = last_seen()
    if seen is None:
        return Result(False, "no worker has started")
    age = (timezone.now() - seen).total_seconds()
    if age > settings.WORKER_SEEN_WITHIN_SECONDS:
        return Result(False, f"no worker seen for {age:.0f} s")
    return Result(True, f"a worker seen {max(age, 0):.0f} s ago")


class WorkerCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        seen = last_seen()
        age = GaugeMetricFamily(
            "tuidang_worker_last_seen_age_seconds",
            "Seconds since a worker last said it was alive (NaN: never).",
        )
        age.add_metric([], (timezone.now() - seen).total_seconds() if seen else float("nan"))
        yield age
        window = timezone.now() - timedelta(seconds=settings.WORKER_SEEN_WITHIN_SECONDS)
        alive = GaugeMetricFamily(
            "tuidang_workers_alive", "Worker processes seen within WORKER_SEEN_WITHIN_SECONDS."
        )
        alive.add_metric([], WorkerHeartbeat.objects.filter(seen_at__gte=window).count())
        yield alive
        # The queue: tasks ready to run, and how long the oldest has waited for a worker.
        queued = DBTaskResult.objects.ready().aggregate(
            depth=Count("pk"), oldest=Min("enqueued_at")
        )
        yield GaugeMetricFamily(
            "tuidang_tasks_queued", "Tasks ready to run, not yet taken.", value=queued["depth"]
        )
        oldest = queued["oldest"]
        yield GaugeMetricFamily(
            "tuidang_tasks_lag_seconds",
            "How long the oldest task ready to run has waited (0: none waits).",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
        )
