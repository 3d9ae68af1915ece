"""The log in /readyz and /metrics: entries left unsigned make the hotline unready; a
checkpoint not yet witnessed is said, never refused (the log fails open)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from tuidang.jobs.heartbeat import worker_heartbeat_beat
from tuidang.lib.health import answers_forget
from tuidang.tlog.cosignature import Cosigner
from tuidang.tlog.models import Cosignature
from tuidang.tlog.services import log_append, log_checkpoint_sign

pytestmark = pytest.mark.django_db

W1 = Cosigner("witness.example/w1", bytes(range(32, 64)))
W2 = Cosigner("witness.example/w2", bytes(range(64, 96)))
TOKEN = "a-long-scrape-token"


@pytest.fixture(autouse=True)
def worker() -> Iterator[None]:
    answers_forget()
    worker_heartbeat_beat(worker="host:1")
    yield
    answers_forget()


def append(count: int) -> None:
    with transaction.atomic():
        log_append(entries=[b"entry %d" % i for i in range(count)])


def ready() -> tuple[int, dict[str, dict[str, object]]]:
    answers_forget()
    response = Client().get("/readyz")
    return response.status_code, response.json()["checks"]


def scrape(token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = Client(headers=headers).get("/metrics")
    return response.status_code, response.content.decode()


def test_entries_left_unsigned_too_long_make_the_hotline_unready(settings: Settings) -> None:
    append(3)
    log_checkpoint_sign()
    append(2)  # and the worker that signs is stuck
    assert ready()[1]["checkpoint"]["ok"] is True
    later = timezone.now() + timedelta(seconds=settings.TLOG_CHECKPOINT_LAG_SECONDS + 10)
    with time_machine.travel(later):
        worker_heartbeat_beat(worker="host:1")
        status, checks = ready()
    assert status == 503
    assert checks["checkpoint"]["ok"] is False
    assert str(checks["checkpoint"]["detail"]).startswith("2 entries unsigned for ")
    log_checkpoint_sign()
    with time_machine.travel(later):
        worker_heartbeat_beat(worker="host:1")
        assert ready()[0] == 200


def test_a_checkpoint_not_witnessed_is_said_but_the_hotline_stays_ready(
    settings: Settings,
) -> None:
    settings.TLOG_WITNESSES = f"{W1.key} http://127.0.0.1:9;{W2.key} http://127.0.0.1:9"
    append(3)
    checkpoint = log_checkpoint_sign()
    assert checkpoint is not None
    status, checks = ready()
    assert status == 200
    assert checks["witnessed"] == {
        "ok": False,
        "detail": "checkpoint 3 not yet witnessed by 2 of 2 (witnessed size None)",
        "required": False,
    }
    for cosigner in (W1, W2):
        Cosignature.objects.create(
            checkpoint=checkpoint, witness=cosigner.name, line="—", signed_at=timezone.now()
        )
    assert ready()[1]["witnessed"]["detail"] == "checkpoint 3 witnessed by 2 of 2"


def test_metrics_are_not_served_without_a_token_configured() -> None:
    assert scrape()[0] == 404
    assert scrape(None)[0] == 404


def test_metrics_need_the_bearer_token(settings: Settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    assert scrape(None)[0] == 401
    assert scrape("not-the-token")[0] == 401
    status, text = scrape()
    assert status == 200
    assert "tuidang_log_size 0.0" in text


def test_metrics_say_the_size_age_and_witnessing_of_the_log(settings: Settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.WORKER_SEEN_WITHIN_SECONDS = 60  # still alive half a minute on
    settings.TLOG_WITNESSES = f"{W1.key} http://127.0.0.1:9;{W2.key} http://127.0.0.1:9"
    settings.TLOG_WITNESS_QUORUM = 1
    append(3)
    checkpoint = log_checkpoint_sign()
    assert checkpoint is not None
    Cosignature.objects.create(
        checkpoint=checkpoint, witness=W1.name, line="—", signed_at=timezone.now()
    )
    append(2)
    log_checkpoint_sign()
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        status, text = scrape()
    assert status == 200
    lines = set(text.splitlines())
    assert "tuidang_log_size 5.0" in lines
    assert "tuidang_log_checkpoint_size 5.0" in lines
    assert "tuidang_log_witnessed_size 3.0" in lines
    assert "tuidang_log_checkpoint_witnessed 0.0" in lines
    assert f'tuidang_log_cosignatures_total{{witness="{W1.name}"}} 1.0' in lines
    assert f'tuidang_log_cosignatures_total{{witness="{W2.name}"}} 0.0' in lines
    assert f'tuidang_log_witness_cosigned_size{{witness="{W1.name}"}} 3.0' in lines
    age = next(line for line in lines if line.startswith("tuidang_log_checkpoint_age_seconds "))
    assert 29 <= float(age.split()[1]) <= 60
    assert "tuidang_workers_alive 1.0" in lines
