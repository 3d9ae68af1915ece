"""Workers say they are alive; one row per worker, and workers stopped long ago forgotten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tuidang.jobs.heartbeat import last_seen, worker_check, worker_heartbeat_beat
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


def test_the_check_fails_a_minute_after_the_last_beat() -> None:
    worker_heartbeat_beat(worker="host:7", now=timezone.now() - timedelta(seconds=50))
    assert worker_check().ok
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(seconds=70))
    assert not worker_check().ok
