import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tuidang.demo.management.commands.demo_data import DEMO_PASSWORD
from tuidang.testing.personas import totp_code

pytestmark = pytest.mark.django_db


def demo_output() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def log_in(username: str, code: str) -> Client:
    client = Client()
    client.post(reverse("login"), {"login": username, "password": DEMO_PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": code})
    return client


def test_the_demo_coordinator_logs_in_with_the_printed_secret() -> None:
    match = re.search(r"lin +secret (\w+)", demo_output())
    assert match is not None
    secret = match.group(1)
    assert log_in("lin", totp_code(secret)).get(reverse("desk:team")).status_code == 200


def test_the_demo_admin_logs_in_with_a_printed_recovery_code_and_it_stays_printed_until_used() -> (
    None
):
    match = re.search(r"admin +secret \w+\n.*\n +recovery codes (\d+)", demo_output())
    assert match is not None
    first = match.group(1)
    assert log_in("admin", first).get(reverse("admin:index")).status_code == 200
    again = demo_output()
    assert first not in again  # used up: the next run prints the ones left
    assert re.search(r"admin +secret \w+\n.*\n +recovery codes \d+", again)
