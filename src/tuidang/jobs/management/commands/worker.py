"""Run background tasks (ringing volunteers, hanging up) from the database queue, and
enqueue the periodic ones (retention, the publication of declarations) when they are due."""

from __future__ import annotations

import logging
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

logger = logging.getLogger(__name__)


def run_scheduler(stop: threading.Event, every: float | None) -> None:
    """Every ``every`` seconds, enqueue what is due. Several workers may run this: the
    job's row lock lets only one of them enqueue each run (jobs/scheduler.py)."""
    from tuidang.jobs.scheduler import scheduler_check_every, scheduler_start, scheduler_tick

    every = every or scheduler_check_every()
    try:
        if started := scheduler_start():
            logger.info("Enqueued at start: %s", ", ".join(started))
    except Exception:
        logger.exception("The scheduler could not enqueue the jobs run at start")
    finally:
        close_old_connections()
    while not stop.is_set():
        try:
            if enqueued := scheduler_tick():
                logger.info("Enqueued the periodic runs: %s", ", ".join(enqueued))
        except Exception:
            logger.exception("The scheduler could not check the periodic jobs")
        finally:
            close_old_connections()
        stop.wait(every)


# A beating worker looks for tasks orphaned by a dead one every few beats.
REQUEUE_EVERY_BEATS = 5


def run_heartbeat(name: str, stop: threading.Event, stopping: threading.Event) -> None:
    """Say every second that this worker is alive (/readyz reads it), and at once that it
    was told to stop; every few seconds, queue again the tasks of workers that died."""
    from tuidang.jobs.heartbeat import (
        BEAT_SECONDS,
        tasks_requeue_orphans,
        worker_heartbeat_beat,
        worker_heartbeat_stopping,
    )

    beats = 0
    said_stopping = False
    while not stop.is_set():
        try:
            worker_heartbeat_beat(worker=name)
            if stopping.is_set() and not said_stopping:
                worker_heartbeat_stopping(worker=name)
                said_stopping = True
            if beats % REQUEUE_EVERY_BEATS == 0 and not stopping.is_set():
                tasks_requeue_orphans()
        except Exception:
            logger.exception("The worker could not record its heartbeat")
        finally:
            close_old_connections()
        beats += 1
        # Woken at once when told to stop, to say so; then beating until the task ends.
        (stop if said_stopping else stopping).wait(BEAT_SECONDS)


class _Worker(Worker):
    """django-tasks' database worker, which also tells the heartbeat when it is told to
    stop (it then finishes the task it runs, or exits at once when idle)."""

    def __init__(self, *, stopping: threading.Event, **options: Any) -> None:
        super().__init__(**options)
        self.stopping = stopping

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()  # no database work in a signal handler: the heartbeat does it
        super().shutdown(signum, frame)


# Seconds between tries while the database cannot be reached (a restart, a failover).
RECONNECT_SECONDS = 1.0


def tasks_requeue_own(name: str) -> int:
    """Queue again the tasks the worker ``name`` was running when its database went away:
    their end was never written, and its heartbeat says it is alive, so no other worker
    takes them as orphans. Tasks run one at a time, so none of them is still running."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list(
        "pk", "worker_ids"
    )
    own = [pk for pk, worker_ids in running if worker_ids and worker_ids[-1] == name]
    return DBTaskResult.objects.filter(pk__in=own, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )


def run_tasks(worker: _Worker) -> None:
    """Run tasks until the worker is told to stop. When the database goes away, wait for
    it and carry on, queueing again the task it was running: django-tasks' worker exits on
    the first error it cannot reach the database with, which would leave no worker to ring
    volunteers once it is back."""
    lost = False
    while True:
        try:
            if lost and tasks_requeue_own(worker.worker_id):
                logger.warning("The task the database outage interrupted is queued again")
            lost = False
            worker.run()
            return  # told to stop (SIGTERM, SIGINT)
        except (OperationalError, InterfaceError):
            if worker.stopping.is_set():
                raise
            lost = True
            logger.warning("The task queue's database cannot be reached; trying again")
            connections.close_all()
            time.sleep(RECONNECT_SECONDS)


class Command(BaseCommand):
    help = "Run the background task worker, and enqueue the periodic jobs when due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-scheduler", action="store_true", help="only run tasks; enqueue no periodic jobs"
        )
        parser.add_argument(
            "--schedule-every",
            type=float,
            help="seconds between schedule checks (default: a minute, or a quarter of the "
            "shortest job's interval)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tuidang.jobs.heartbeat import this_worker, worker_heartbeat_end

        name = this_worker()
        stop, stopping = threading.Event(), threading.Event()
        heartbeat = threading.Thread(
            target=run_heartbeat, args=(name, stop, stopping), name="heartbeat", daemon=True
        )
        heartbeat.start()
        if not options["no_scheduler"]:
            threading.Thread(
                target=run_scheduler,
                args=(stop, options["schedule_every"]),
                name="scheduler",
                daemon=True,
            ).start()
        # The task queue knows this worker by its heartbeat's name (jobs/heartbeat.py).
        worker = _Worker(
            stopping=stopping,
            queue_names=[DEFAULT_TASK_QUEUE_NAME],
            interval=0.2,
            batch=False,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=True,
            max_tasks=None,
            worker_id=name,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            run_tasks(worker)
        finally:
            stop.set()
            heartbeat.join(timeout=5)
            try:
                worker_heartbeat_end(worker=name)
            finally:
                close_old_connections()
