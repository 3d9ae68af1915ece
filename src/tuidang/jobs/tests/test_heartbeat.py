"""Workers say they are alive; one row per worker, and workers stopped long ago forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from pytest_django.fixtures import Settings

from tuidang.jobs.heartbeat import (
    last_seen,
    tasks_requeue_orphans,
    worker_check,
    worker_heartbeat_beat,
    worker_heartbeat_end,
    worker_heartbeat_stopping,
)
from tuidang.jobs.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_a_worker_beating_keeps_one_row_and_the_latest_time() -> None:
    start = timezone.now()
    for seconds in (0, 15, 30):
        worker_heartbeat_beat(worker="host:7", now=start + timedelta(seconds=seconds))
    assert WorkerHeartbeat.objects.count() == 1
    assert last_seen() == start + timedelta(seconds=30)


def test_workers_silent_for_a_day_are_forgotten() -> None:
    now = timezone.now()
    worker_heartbeat_beat(worker="old:1", now=now - timedelta(days=2))
    worker_heartbeat_beat(worker="new:2", now=now)
    assert list(WorkerHeartbeat.objects.values_list("worker", flat=True)) == ["new:2"]


def test_the_check_fails_once_the_last_beat_is_older_than_the_setting(settings: Settings) -> None:
    within = settings.WORKER_SEEN_WITHIN_SECONDS
    worker_heartbeat_beat(worker="host:7", now=timezone.now() - timedelta(seconds=within / 2))
    assert worker_check().ok
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(seconds=within + 1))
    assert not worker_check().ok


def test_a_worker_told_to_stop_is_no_longer_counted() -> None:
    worker_heartbeat_beat(worker="host:7")
    worker_heartbeat_stopping(worker="host:7")
    worker_heartbeat_beat(worker="host:7")  # still beating while it finishes its task
    assert not worker_check().ok
    worker_heartbeat_end(worker="host:7")
    assert not WorkerHeartbeat.objects.exists()


def running_task(worker: str, started: datetime) -> DBTaskResult[..., object]:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        started_at=started,
        worker_ids=[worker],
        args_kwargs={"args": [], "kwargs": {"leg_id": "CA1"}},
        task_path="tuidang.calls.tasks.hang_up",
        queue_name="default",
        backend_name="default",
        run_after=get_date_max(),
    )


def test_a_task_left_running_by_a_dead_worker_is_queued_again(settings: Settings) -> None:
    now = timezone.now()
    long_ago = now - timedelta(seconds=settings.TASKS_ORPHANED_AFTER_SECONDS + 5)
    worker_heartbeat_beat(worker="dead:1", now=long_ago)
    worker_heartbeat_beat(worker="alive:2", now=now)
    orphan = running_task("dead:1", long_ago)
    gone = running_task("vanished:3", long_ago)  # its row deleted (stopped, or forgotten)
    busy = running_task("alive:2", long_ago)  # a long task of a live worker
    just_claimed = running_task("dead:1", now)
    assert tasks_requeue_orphans(now=now) == 2
    statuses = {
        task.pk: DBTaskResult.objects.get(pk=task.pk).status
        for task in (orphan, gone, busy, just_claimed)
    }
    assert statuses == {
        orphan.pk: TaskResultStatus.READY,
        gone.pk: TaskResultStatus.READY,
        busy.pk: TaskResultStatus.RUNNING,
        just_claimed.pk: TaskResultStatus.RUNNING,
    }
    # The worker that takes it next runs it; a second look requeues nothing more.
    assert DBTaskResult.objects.ready().filter(pk=orphan.pk).exists()
    assert tasks_requeue_orphans(now=now) == 0
