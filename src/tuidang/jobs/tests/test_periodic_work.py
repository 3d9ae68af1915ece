"""A domain's periodic job: run on multiples of its interval, once however many workers
ask, and tried again at the next interval when a run fails."""

from datetime import UTC, datetime, timedelta

import pytest
from pytest_django.fixtures import Settings

from tuidang.jobs import scheduler
from tuidang.jobs.models import PeriodicJob
from tuidang.jobs.scheduler import PeriodicWork, scheduler_tick

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 4, 12, 0, 5, tzinfo=UTC)


def test_a_failed_run_is_tried_again_at_the_next_interval(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.RETENTION_INTERVAL_SECONDS = 60
    runs: list[datetime] = []

    def flaky(now: datetime) -> str:
        runs.append(now)
        if len(runs) == 1:
            raise RuntimeError("the database went away")
        return "done"

    work = PeriodicWork(name="flaky", interval_setting="RETENTION_INTERVAL_SECONDS", run=flaky)
    monkeypatch.setitem(scheduler._registered, "flaky", work)
    assert "flaky" in scheduler_tick(now=START)
    job = PeriodicJob.objects.get(name="flaky")
    assert job.last_result.startswith("failed: RuntimeError")
    assert job.next_run_at == datetime(2026, 12, 4, 12, 1, tzinfo=UTC)  # on the minute
    assert "flaky" not in scheduler_tick(now=START + timedelta(seconds=30))
    assert "flaky" in scheduler_tick(now=START + timedelta(seconds=55))
    assert PeriodicJob.objects.get(name="flaky").last_result == "done"
    assert len(runs) == 2
