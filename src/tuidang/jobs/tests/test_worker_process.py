"""Real `tuidang worker` processes on the test database: a stopped worker makes /readyz
"not ready" at once, a killed one within WORKER_SEEN_WITHIN_SECONDS, and a task a killed
worker was running runs again on the other worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from tuidang.jobs.models import WorkerHeartbeat
from tuidang.jobs.tests.waiting_tasks import wait_for_word
from tuidang.lib.health import answers_forget

pytestmark = pytest.mark.django_db(transaction=True)

BOUND_SECONDS = 60.0  # how long any step may take on a loaded machine before the test fails


def database_url() -> str:
    """The test database, as the worker processes reach it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


Start = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture
def start_worker() -> Iterator[Start]:
    started: list[subprocess.Popen[bytes]] = []
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tuidang.config.settings",
        VAR_DIR=str(settings.VAR_DIR),  # the same keys as this process
        DATABASE_URL=database_url(),
        TASKS_BACKEND="database",
        TASKS_ORPHANED_AFTER_SECONDS="3",
    )

    def start() -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tuidang.manage", "worker", "--no-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
        worker.wait(timeout=BOUND_SECONDS)


def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``, polling; fail after BOUND_SECONDS."""
    deadline = time.monotonic() + BOUND_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the workers did not get there"
        time.sleep(0.05)


def ready() -> bool:
    answers_forget()
    response = Client().get("/readyz")
    return bool(response.json()["checks"]["worker"]["ok"])


def enqueue_waiting(directory: Path) -> DBTaskResult[..., object]:
    backend = DatabaseBackend("default", {"OPTIONS": {}})
    result: TaskResult[str] = backend.enqueue(wait_for_word, (), {"directory": str(directory)})
    return DBTaskResult.objects.get(pk=result.id)


def started_by(directory: Path) -> list[int]:
    return sorted(int(path.name.split("-")[1]) for path in directory.glob("started-*"))


def test_a_worker_told_to_stop_is_not_ready_while_it_finishes_its_task(
    start_worker: Start, tmp_path: Path
) -> None:
    worker = start_worker()
    until(ready)
    task = enqueue_waiting(tmp_path)
    until(lambda: started_by(tmp_path) == [worker.pid])
    worker.send_signal(signal.SIGTERM)
    until(lambda: not ready())
    assert worker.poll() is None  # still finishing the task: not ready all the same
    (tmp_path / "go").touch()
    assert worker.wait(timeout=BOUND_SECONDS) == 0
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert not WorkerHeartbeat.objects.exists()


def test_a_killed_worker_is_missed_and_its_task_runs_on_the_other(
    start_worker: Start, tmp_path: Path
) -> None:
    first, second = start_worker(), start_worker()
    until(lambda: WorkerHeartbeat.objects.count() == 2)
    task = enqueue_waiting(tmp_path)
    until(lambda: len(started_by(tmp_path)) == 1)
    [runner] = started_by(tmp_path)
    killed, survivor = (first, second) if runner == first.pid else (second, first)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=BOUND_SECONDS)
    (tmp_path / "go").touch()
    until(lambda: (tmp_path / f"done-{survivor.pid}").exists())
    until(lambda: DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.SUCCESSFUL)
    task.refresh_from_db()
    assert task.worker_ids[-1].endswith(f":{survivor.pid}")
    assert len(task.worker_ids) == 2
    assert not (tmp_path / f"done-{killed.pid}").exists()


def test_a_killed_worker_is_missed_once_its_beat_is_old(start_worker: Start) -> None:
    worker = start_worker()
    until(ready)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=BOUND_SECONDS)
    until(lambda: not ready())
    seen = WorkerHeartbeat.objects.get().seen_at
    assert seen is not None  # its row stays: only its age says it is gone
