import logging
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.accounts.lockout import client_address
from tuidang.testing.logins import log_in
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
MEI_AT_HOME = "198.51.100.7"


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
    names = [f"volunteer{n}" for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    for name in names:  # one try per name: no (username, address) pair reaches its limit
        log_in(client, name, password="guess", address=ATTACKER)

    assert log_in(client, "wing", address=ATTACKER).status_code == 429
    assert log_in(client, "mei", address=MEI_AT_HOME).status_code == 302


def test_below_the_address_threshold_other_names_still_log_in(
    client: Client, wing: Volunteer, settings: Settings
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1):
        log_in(client, f"volunteer{n}", password="guess", address=ATTACKER)
    assert log_in(client, "wing", address=ATTACKER).status_code == 302


def test_the_lockout_ends_after_the_cool_off(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "mei", password="guess", address=ATTACKER)
    assert log_in(client, "mei", address=ATTACKER).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME
    )
    assert log_in(client, "mei", address=ATTACKER).status_code == 302


def test_failed_passwords_reach_neither_the_log_nor_the_database(
    client: Client, mei: Volunteer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my-real-password-with-a-typo"
    with caplog.at_level(logging.DEBUG):
        log_in(client, "mei", password=secret, address=ATTACKER)
    attempt = AccessAttempt.objects.get()
    assert secret not in attempt.post_data
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


def test_failed_attempts_are_forgotten_after_the_cool_off(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    log_in(client, "someone", password="guess", address=ATTACKER)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME
    )
    log_in(client, "mei", address=MEI_AT_HOME)  # any login sweeps the expired ones
    assert not AccessAttempt.objects.filter(ip_address=ATTACKER).exists()
