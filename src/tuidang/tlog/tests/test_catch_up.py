"""The log catches up: entries committed without their sign request (the process died
between the two) get a checkpoint from the next periodic run, or when a worker starts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tuidang.jobs.scheduler import scheduler_start, scheduler_tick
from tuidang.tlog import services
from tuidang.tlog.models import SignedCheckpoint
from tuidang.tlog.services import log_append, log_checkpoint_sign
from tuidang.tlog.verify import VerificationError, log_verify

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crash_before_signing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Appends commit, and their request for a checkpoint is lost."""
    monkeypatch.setattr(services, "_checkpoint_soon", lambda: None)


def entries(count: int) -> list[bytes]:
    return [b'{"kind":"declaration","n":%d}' % i for i in range(count)]


def test_the_periodic_run_signs_what_a_crash_left_unsigned(crash_before_signing: None) -> None:
    log_append(entries=entries(3))
    log_checkpoint_sign()
    log_append(entries=entries(4))
    with pytest.raises(VerificationError, match="the public total is 7, the log counts 3"):
        log_verify(url=None, key=None, state=None, local_total=lambda: 7)
    assert "checkpoint" in scheduler_tick(now=timezone.now() + timedelta(minutes=2))
    assert SignedCheckpoint.objects.order_by("-size").first().size == 7  # type: ignore[union-attr]
    assert log_verify(url=None, key=None, state=None, local_total=lambda: 7).checkpoint.size == 7


def test_a_starting_worker_signs_at_once(crash_before_signing: None) -> None:
    log_append(entries=entries(2))
    with pytest.raises(VerificationError):
        log_verify(url=None, key=None, state=None, local_total=lambda: 2)
    assert "checkpoint" in scheduler_start()
    assert SignedCheckpoint.objects.get().size == 2
    assert log_verify(url=None, key=None, state=None, local_total=lambda: 2).checkpoint.size == 2


def test_a_log_already_signed_is_left_as_it_is() -> None:
    log_append(entries=entries(2))  # its sign request runs (the tests' queue: at once)
    signed = SignedCheckpoint.objects.get()
    assert services.log_checkpoint_catch_up(timezone.now()) == "checkpoint 2 covers the log"
    assert SignedCheckpoint.objects.get() == signed
