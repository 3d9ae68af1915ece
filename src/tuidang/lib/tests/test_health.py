"""/healthz says the process answers; /readyz says whether it can serve, check by check,
cheaply enough to be polled every second, and revealing nothing but which check failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import Settings

from tuidang.jobs.heartbeat import worker_heartbeat_beat
from tuidang.lib.health import answers_forget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_answers() -> Iterator[None]:
    answers_forget()
    yield
    answers_forget()


def ready() -> tuple[int, dict[str, dict[str, object]]]:
    response = Client().get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    return response.status_code, response.json()["checks"]


def test_healthz_answers_without_touching_the_database(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_with_a_worker_alive(settings: Settings) -> None:
    worker_heartbeat_beat(worker="host:1")
    status, checks = ready()
    assert status == 200
    for name in ("database", "migrations", "cache", "signing_key", "checkpoint", "worker"):
        assert checks[name]["ok"] is True, name
    assert checks["witnessed"] == {"ok": True, "detail": "no witness configured", "required": False}


def test_not_ready_when_no_worker_was_seen_in_the_last_minute() -> None:
    status, checks = ready()
    assert (status, checks["worker"]["ok"], checks["worker"]["detail"]) == (
        503,
        False,
        "no worker has started",
    )
    worker_heartbeat_beat(worker="host:1", now=timezone.now() - timedelta(seconds=90))
    answers_forget()
    status, checks = ready()
    assert status == 503
    assert checks["worker"]["detail"] == "no worker seen for 90 s"


def test_not_ready_when_the_cache_does_not_answer(settings: Settings) -> None:
    worker_heartbeat_beat(worker="host:1")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        }
    }
    status, checks = ready()
    assert status == 503
    # What failed, never why in the exception's words (addresses, passwords).
    assert checks["cache"] == {"ok": False, "detail": "the check itself failed", "required": True}
    assert "127.0.0.1" not in str(checks)


def test_polled_every_second_the_costly_checks_run_once_a_minute() -> None:
    worker_heartbeat_beat(worker="host:1")
    with CaptureQueriesContext(connection) as first:
        ready()
    with CaptureQueriesContext(connection) as again:
        assert ready()[0] == 200
    assert any("django_migrations" in query["sql"] for query in first.captured_queries)
    assert not any("django_migrations" in query["sql"] for query in again.captured_queries)
    assert len(again.captured_queries) <= 1  # the database's SELECT 1
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        worker_heartbeat_beat(worker="host:1")
        with CaptureQueriesContext(connection) as later:
            ready()
    assert any("django_migrations" in query["sql"] for query in later.captured_queries)


def test_the_probes_answer_in_the_webhooks_pool(settings: Settings) -> None:
    settings.SERVE_ONLY_PATHS = ["/telephony/"]
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    assert client.get("/verify").status_code == 404
    assert client.get("/metrics").status_code == 404


def test_a_load_balancer_may_ask_with_head() -> None:
    worker_heartbeat_beat(worker="host:1")
    assert Client().head("/healthz").status_code == 200
    assert Client().head("/readyz").status_code == 200
