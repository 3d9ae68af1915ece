"""Run background tasks (ringing volunteers, hanging up) from the database queue, and
enqueue the periodic ones (retention, the publication of declarations) when they are due."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connections

logger = logging.getLogger(__name__)


def run_scheduler(stop: threading.Event, every: float | None) -> None:
    """Every ``every`` seconds, enqueue what is due. Several workers may run this: the
    job's row lock lets only one of them enqueue each run (jobs/scheduler.py)."""
    from tuidang.jobs.scheduler import scheduler_check_every, scheduler_tick

    every = every or scheduler_check_every()
    while not stop.is_set():
        try:
            if enqueued := scheduler_tick():
                logger.info("Enqueued the periodic runs: %s", ", ".join(enqueued))
        except Exception:
            logger.exception("The scheduler could not check the periodic jobs")
        finally:
            close_old_connections()
        stop.wait(every)


def run_heartbeat(stop: threading.Event) -> None:
    """Say every few seconds that this worker is alive (/readyz reads it)."""
    from tuidang.jobs.heartbeat import BEAT_SECONDS, this_worker, worker_heartbeat_beat

    name = this_worker()
    while not stop.is_set():
        try:
            worker_heartbeat_beat(worker=name)
        except Exception:
            logger.exception("The worker could not record its heartbeat")
        finally:
            close_old_connections()
        stop.wait(BEAT_SECONDS)


# Seconds between tries while the database cannot be reached (a restart, a failover).
RECONNECT_SECONDS = 1.0


def run_tasks() -> None:
    """Run tasks until the worker is asked to stop. When the database goes away, wait for
    it and carry on: django-tasks' worker exits on the first error it cannot reach the
    database with, which would leave no worker to ring volunteers once it is back."""
    while True:
        try:
            call_command("db_worker", interval=0.2)
            return  # asked to stop (SIGTERM, SIGINT)
        except (OperationalError, InterfaceError):
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
        stop = threading.Event()
        threading.Thread(target=run_heartbeat, args=(stop,), name="heartbeat", daemon=True).start()
        if not options["no_scheduler"]:
            threading.Thread(
                target=run_scheduler,
                args=(stop, options["schedule_every"]),
                name="scheduler",
                daemon=True,
            ).start()
        try:
            run_tasks()
        finally:
            stop.set()
