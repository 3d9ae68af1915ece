"""Workers say they are alive; /readyz and /metrics read when one last did."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tuidang.jobs.models import WorkerHeartbeat
from tuidang.lib.health import Result

BEAT_SECONDS = 15.0  # a quarter of the default WORKER_SEEN_WITHIN_SECONDS
FORGET_AFTER = timedelta(days=1)  # the rows of workers stopped long ago


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_heartbeat_beat(*, worker: str, now: datetime | None = None) -> None:
    """Record that ``worker`` is alive now, and forget workers silent for a day."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"seen_at": now})
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def last_seen() -> datetime | None:
    seen: datetime | None = WorkerHeartbeat.objects.aggregate(latest=Max("seen_at"))["latest"]
    return seen


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
