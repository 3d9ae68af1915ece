"""`tuidang worker` outlives a PostgreSQL restart: it waits for the database and carries on.

Before, django-tasks' worker exited on the first error reaching the database, so a
restart of PostgreSQL left a fleet with no worker: no volunteer was rung again.
The test starts a PostgreSQL of its own (initdb in a temporary folder, a free port).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tuidang.testing.fleet import PostgreSQL, wait_for


def _publication_finished_at(url: str) -> datetime | None:
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            row = connection.execute(
                "SELECT last_finished_at FROM lib_periodicjob WHERE name = 'publication'"
            ).fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def test_the_worker_runs_its_jobs_again_after_postgresql_restarts(tmp_path: Path) -> None:
    postgres = PostgreSQL()
    postgres.init()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tuidang.config.settings",
        DATABASE_URL=postgres.url,
        VAR_DIR=str(tmp_path / "var"),
        PUBLICATION_INTERVAL_SECONDS="1",
        TASKS_BACKEND="database",
    )
    env.pop("REDIS_URL", None)
    manage = [sys.executable, "-m", "tuidang.manage"]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True)
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [*manage, "worker", "--schedule-every", "1"],
            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        ran = wait_for("a run", lambda: _publication_finished_at(postgres.url) is not None, 60)
        assert ran, log.read_text()[-3000:]
        postgres.stop()
        assert wait_for(
            "the outage seen", lambda: "cannot be reached" in log.read_text(errors="replace"), 30
        )
        postgres.start()
        restarted = _publication_finished_at(postgres.url)
        assert restarted is not None

        def ran_again() -> bool:
            finished = _publication_finished_at(postgres.url)
            return finished is not None and finished > restarted

        assert wait_for("a run after the restart", ran_again, 60), log.read_text()[-3000:]
        assert worker.poll() is None
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        postgres.destroy()


@pytest.mark.django_db
def test_a_task_its_worker_was_running_when_the_database_went_away_is_queued_again() -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from tuidang.jobs.management.commands.worker import tasks_requeue_own

    now = timezone.now()

    def task(worker: str) -> DBTaskResult[Any, Any]:
        return DBTaskResult.objects.create(
            task_path="tuidang.jobs.tasks.retention_run",
            args_kwargs={"args": [], "kwargs": {}},
            status="RUNNING",
            worker_ids=[worker],
            backend_name="default",
            queue_name="default",
            run_after=now,
            started_at=now,
        )

    own, others = task("host:7"), task("host:8")
    assert tasks_requeue_own("host:7") == 1
    own.refresh_from_db()
    others.refresh_from_db()
    assert own.status == "READY"
    assert others.status == "RUNNING"  # another worker's, alive, still running it
