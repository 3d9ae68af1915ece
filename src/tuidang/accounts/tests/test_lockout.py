import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.accounts.lockout import client_address
from tuidang.testing.logins import log_in
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
MEI_AT_HOME = "198.51.100.7"


def spray(client: Client, names: int) -> None:
    """Wrong passwords from the attacker's address, one try per name: no (username,
    address) pair reaches its limit."""
    for n in range(names):
        log_in(client, f"volunteer{n}", password="guess", address=ATTACKER)


def test_guessing_a_volunteers_password_locks_out_the_guesser_not_the_volunteer(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "mei", password="guess", address=ATTACKER)

    # Even the right password is refused from the attacker's address now.
    locked = log_in(client, "mei", address=ATTACKER)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text

    response = log_in(client, "mei", address=MEI_AT_HOME)
    assert response.status_code == 302
    assert client.get(reverse("desk:desk")).status_code == 200


def test_a_few_mistakes_do_not_lock_anyone_out(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "mei", password="typo", address=MEI_AT_HOME)
    assert log_in(client, "mei", address=MEI_AT_HOME).status_code == 302


def test_an_address_that_tries_many_usernames_is_locked(
    client: Client, mei: Volunteer, wing: Volunteer, settings: Settings
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT)

    assert log_in(client, "wing", address=ATTACKER).status_code == 429
    assert log_in(client, "mei", address=MEI_AT_HOME).status_code == 302


def test_below_the_address_threshold_other_names_still_log_in(
    client: Client, wing: Volunteer, settings: Settings
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1)
    assert log_in(client, "wing", address=ATTACKER).status_code == 302


def test_the_lockout_ends_after_the_cool_off(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    # A second of cool-off, so that the test waits it out as the cache's clock sees it.
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "mei", password="guess", address=ATTACKER)
    assert log_in(client, "mei", address=ATTACKER).status_code == 429

    time.sleep(1.2)
    assert log_in(client, "mei", address=ATTACKER).status_code == 302


def test_an_address_lock_ends_after_the_cool_off(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    assert log_in(client, "mei", address=ATTACKER).status_code == 429

    time.sleep(1.2)
    assert log_in(client, "mei", address=ATTACKER).status_code == 302


def test_an_administrator_unlocks_an_address_and_a_pair(
    client: Client, mei: Volunteer, wing: Volunteer, settings: Settings
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "mei", password="guess", address=MEI_AT_HOME)
    assert log_in(client, "wing", address=ATTACKER).status_code == 429
    assert log_in(client, "mei", address=MEI_AT_HOME).status_code == 429

    call_command("axes_reset_ip", ATTACKER)
    assert log_in(Client(), "wing", address=ATTACKER).status_code == 302
    assert log_in(Client(), "mei", address=MEI_AT_HOME).status_code == 429  # another lock

    call_command("axes_reset_ip_username", MEI_AT_HOME, "mei")
    assert log_in(Client(), "mei", address=MEI_AT_HOME).status_code == 302


def test_resetting_every_lock_at_once_says_what_to_run_instead(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "mei", password="guess", address=ATTACKER)
    with pytest.raises(CommandError, match="axes_reset_ip"):
        call_command("axes_reset")
    assert log_in(Client(), "mei", address=ATTACKER).status_code == 429  # still locked


def test_logging_in_to_ones_own_account_does_not_clear_the_address_count(
    client: Client, wing: Volunteer, settings: Settings
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1)
    assert log_in(Client(), "wing", address=ATTACKER).status_code == 302
    log_in(client, "volunteer99", password="guess", address=ATTACKER)
    assert log_in(Client(), "wing", address=ATTACKER).status_code == 429


def test_a_failed_login_writes_nothing_to_the_database(client: Client, mei: Volunteer) -> None:
    """On SQLite the webhooks share the database's one writer with the pool for people,
    which runs at a lower priority: a flood's failures must not queue for it."""
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert log_in(client, "mei", password="guess", address=ATTACKER).status_code == 200
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []
    assert not AccessAttempt.objects.exists()


def test_failed_passwords_reach_neither_the_log_nor_the_database(
    client: Client, mei: Volunteer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my-real-password-with-a-typo"
    with caplog.at_level(logging.DEBUG):
        log_in(client, "mei", password=secret, address=ATTACKER)
    assert "New login failure" in caplog.text  # counted
    assert secret not in caplog.text
    assert ATTACKER not in caplog.text  # axes masks the address and username in its log


def test_successful_logins_are_not_kept_with_their_address(client: Client, mei: Volunteer) -> None:
    from axes.models import AccessLog

    log_in(client, "mei", address=MEI_AT_HOME)
    assert not AccessLog.objects.exists()


def address_of(settings: Settings, proxies: int, **meta: Any) -> str | None:
    settings.TRUSTED_PROXY_COUNT = proxies
    return client_address(RequestFactory().get("/", **meta))


def test_without_a_proxy_the_forwarded_header_is_ignored(settings: Settings) -> None:
    assert address_of(settings, 0, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.0.0.1") == (
        ATTACKER
    )


def test_behind_the_proxy_the_address_it_saw_counts_not_what_the_client_claims(
    settings: Settings,
) -> None:
    # The client sent "X-Forwarded-For: 10.0.0.1"; our proxy appended the real address.
    forwarded = f"10.0.0.1, {ATTACKER}"
    assert (
        address_of(settings, 1, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded) == ATTACKER
    )


def test_an_attacker_cannot_dodge_the_lockout_by_forging_the_forwarded_header(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"login": "mei", "password": "guess"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, {ATTACKER}",
        )
    response = client.post(
        reverse("login"),
        {"login": "mei", "password": "correct-horse-battery"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=f"10.9.9.9, {ATTACKER}",
    )
    assert response.status_code == 429


def test_a_malformed_address_is_no_address(settings: Settings) -> None:
    assert address_of(settings, 1, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="nonsense") is None
