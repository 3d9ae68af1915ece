"""/metrics during a call: who waits, how fast the webhooks answered, how calls ended and
what screening decided, and never a caller's number."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils.timezone import now
from pytest_django.fixtures import Settings

from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import BANKNOTES_LINE, Clock, HotlineNumbers, go_available
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

CANARY = "+8613912345678"
TOKEN = "metrics-test-token"


@pytest.fixture
def scrape(settings: Settings) -> Client:
    settings.METRICS_TOKEN = TOKEN
    return Client(headers={"Authorization": f"Bearer {TOKEN}"})


def value(text: str, sample: str) -> float:
    """The value of one sample line (name and labels exactly as written)."""
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} is not in /metrics"
    return float(match.group(1))


def metrics(client: Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_a_scrape_during_a_call_finds_the_waiting_caller_and_the_webhooks(
    scrape: Client,
    network: PhoneNetwork,
    clock: Clock,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    # Lin is on duty, writing up her last call: callers wait for her rather than leave
    # a message at once.
    Volunteer.objects.filter(pk=lin.pk).update(presence=Presence.WRAP_UP, presence_since=now())
    before = metrics(scrape)
    answered = 'tuidang_webhook_duration_seconds_count{endpoint="twilio-language"}'
    earlier = value(before, answered) if answered in before else 0.0
    caller = network.dial(from_number=CANARY, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    clock.advance(40)
    text = metrics(scrape)
    assert value(text, 'tuidang_callers_waiting{language="cmn"}') == 1
    assert value(text, 'tuidang_callers_longest_wait_seconds{language="cmn"}') >= 0
    assert value(text, answered) == earlier + 1
    assert 'tuidang_webhook_duration_seconds_bucket{endpoint="twilio-voice",le="0.5"}' in text
    assert value(text, 'tuidang_volunteers{presence="away"}') == 1
    assert value(text, 'tuidang_volunteers{presence="wrap_up"}') == 1
    assert 'tuidang_screening_decisions_total{policy="normal"}' in text
    go_available(mei)  # her phone rings: the caller waits until she answers
    text = metrics(scrape)
    assert value(text, 'tuidang_callers_waiting{language="cmn"}') == 1
    assert value(text, 'tuidang_volunteers{presence="ringing"}') == 1
    network.hang_up(caller.sid)
    text = metrics(scrape)
    assert value(text, 'tuidang_callers_waiting{language="cmn"}') == 0
    assert value(text, 'tuidang_calls_ended_total{outcome="abandoned"}') >= 1
    for held in (CANARY, CANARY.removeprefix("+"), CANARY.removeprefix("+86")):
        assert held not in text


def test_failed_logins_are_counted_without_a_name(scrape: Client) -> None:
    before = metrics(scrape)
    earlier = value(before, "tuidang_login_failures_total")
    Client().post("/accounts/login/", {"login": "mallory", "password": "wrong"})
    text = metrics(scrape)
    assert value(text, "tuidang_login_failures_total") == earlier + 1
    assert "mallory" not in text


COUNT_ONE = """
from tuidang.lib.metrics import webhook_observe
webhook_observe(endpoint="twilio-voice", seconds=0.02)
"""
READ = """
import sys
from tuidang.lib.metrics import metrics_text
sys.stdout.write(metrics_text().decode())
"""


def test_the_server_processes_counts_add_up_in_the_shared_directory(tmp_path: Path) -> None:
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for _process in range(2):
        subprocess.run([sys.executable, "-c", COUNT_ONE], env=env, check=True)
    read = subprocess.run(
        [sys.executable, "-c", READ], env=env, check=True, capture_output=True, text=True
    )
    sample = 'tuidang_webhook_duration_seconds_count{endpoint="twilio-voice"}'
    assert value(read.stdout, sample) == 2
