from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from tuidang.testing.logins import log_in
from tuidang.testing.personas import PASSWORD, TOTP_SECRET, totp_code
from tuidang.volunteers.models import Volunteer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db


def enter_code(client: Client, code: str) -> _MonkeyPatchedWSGIResponse:
    return client.post(reverse("mfa_authenticate"), {"code": code})


def test_a_coordinator_needs_the_code_from_their_app_after_the_password(
    client: Client, lin: Volunteer
) -> None:
    after_password = log_in(client, "lin")
    assert after_password["Location"] == reverse("mfa_authenticate")
    # The password alone opens nothing.
    assert client.get(reverse("desk:team")).status_code == 302

    response = enter_code(client, totp_code())
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:desk")
    assert client.get(reverse("desk:team")).status_code == 200


def test_a_wrong_code_is_refused(client: Client, lin: Volunteer) -> None:
    log_in(client, "lin")
    wrong = f"{(int(totp_code()) + 1) % 1_000_000:06d}"
    response = enter_code(client, wrong)
    assert response.status_code == 200
    assert "Incorrect code" in response.text
    assert client.get(reverse("desk:team")).status_code == 302


def test_guessing_codes_stops_after_five_wrong_ones(client: Client, lin: Volunteer) -> None:
    log_in(client, "lin")
    wrong = f"{(int(totp_code()) + 1) % 1_000_000:06d}"
    for _ in range(5):
        enter_code(client, wrong)
    refused = enter_code(client, totp_code())
    assert "Too many failed login attempts" in refused.text
    assert client.get(reverse("desk:team")).status_code == 302


@pytest.mark.parametrize("another_server", [False, True])
def test_a_code_cannot_be_used_twice(client: Client, lin: Volunteer, another_server: bool) -> None:
    from django.core.cache import cache

    # Far enough from the end of a period that both logins fall inside the same one.
    code = totp_code(good_for=5.0)
    log_in(client, "lin")
    assert enter_code(client, code)["Location"] == reverse("desk:desk")
    client.post(reverse("logout"))
    if another_server:
        cache.clear()  # another server's cache, or this one restarted: it never saw the code

    log_in(client, "lin")
    replayed = enter_code(client, code)
    assert replayed.status_code == 200
    assert "Incorrect code" in replayed.text
    assert client.get(reverse("desk:team")).status_code == 302


def test_a_code_from_an_earlier_period_is_refused_after_a_later_one(
    client: Client, lin: Volunteer, settings: Settings
) -> None:
    settings.MFA_TOTP_TOLERANCE = 1  # accept the previous and next period's codes too
    now = time.time()
    log_in(client, "lin")
    assert enter_code(client, totp_code(at=now))["Location"] == reverse("desk:desk")
    client.post(reverse("logout"))
    log_in(client, "lin")
    assert "Incorrect code" in enter_code(client, totp_code(at=now - 30)).text


def test_a_recovery_code_logs_in_once(client: Client, lin: Volunteer) -> None:
    codes = RecoveryCodes.activate(lin.user).generate_codes()
    log_in(client, "lin")
    assert enter_code(client, codes[0])["Location"] == reverse("desk:desk")
    client.post(reverse("logout"))
    log_in(client, "lin")
    assert enter_code(client, codes[0]).status_code == 200
    assert enter_code(client, codes[1])["Location"] == reverse("desk:desk")


def test_a_coordinator_without_a_second_factor_must_set_one_up_first(
    client: Client, lin: Volunteer
) -> None:
    Authenticator.objects.filter(user=lin.user).delete()
    assert log_in(client, "lin")["Location"] == reverse("desk:desk")

    for name in ["desk:desk", "desk:team", "desk:screening", "public:home"]:
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"] == reverse("mfa_index"), name
    assert client.post(reverse("desk:presence"), {"presence": "available"})["Location"] == reverse(
        "mfa_index"
    )

    assert client.get(reverse("mfa_index")).status_code == 200
    # allauth asks for the password again before a second factor is added.
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    assert client.post(asked["Location"], {"password": PASSWORD}).status_code == 302
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 200
    assert "<svg" in setup.text  # the QR code, inline: the CSP forbids data: images
    secret = setup.context["form"].secret
    activated = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert activated.status_code == 302
    assert client.get(reverse("desk:team")).status_code == 200


def test_recovery_codes_alone_do_not_count_as_a_second_factor(
    client: Client, lin: Volunteer
) -> None:
    Authenticator.objects.filter(user=lin.user).delete()
    RecoveryCodes.activate(lin.user)
    log_in(client, "lin")
    assert client.get(reverse("desk:desk"))["Location"] == reverse("mfa_index")


def test_staff_without_a_volunteer_profile_must_set_one_up_too(client: Client) -> None:
    get_user_model().objects.create_user(username="root", password=PASSWORD, is_staff=True)
    log_in(client, "root")
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_index")


def test_volunteers_need_no_second_factor_unless_configured(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    log_in(client, "mei")
    assert client.get(reverse("desk:desk")).status_code == 200
    settings.MFA_REQUIRED_FOR_VOLUNTEERS = True
    assert client.get(reverse("desk:desk"))["Location"] == reverse("mfa_index")


def test_the_setup_page_shows_the_secret_to_type_in(client: Client, lin: Volunteer) -> None:
    Authenticator.objects.filter(user=lin.user).delete()
    log_in(client, "lin")
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.context["form"].secret in page.text
    assert TOTP_SECRET not in page.text  # a new secret, not an old one


def wrong_code() -> str:
    return f"{(int(totp_code()) + 1) % 1_000_000:06d}"


def test_guessing_codes_stops_after_five_wrong_ones_even_across_app_servers(
    client: Client, lin: Volunteer
) -> None:
    from django.core.cache import cache

    log_in(client, "lin")
    for _ in range(5):
        assert "Incorrect code" in enter_code(client, wrong_code()).text
        cache.clear()  # the next guess reaches another server, or this one restarted

    refused = enter_code(client, totp_code())
    assert "Too many failed login attempts" in refused.text
    assert client.get(reverse("desk:team")).status_code == 302


def test_guessing_may_resume_once_five_minutes_have_passed_over_the_wrong_codes(
    client: Client, lin: Volunteer
) -> None:
    from django.core.cache import cache

    from tuidang.accounts.models import SecondFactorFailure

    log_in(client, "lin")
    for _ in range(5):
        enter_code(client, wrong_code())
    cache.clear()
    assert "Too many failed login attempts" in enter_code(client, totp_code()).text
    SecondFactorFailure.objects.update(at=timezone.now() - timedelta(minutes=5, seconds=1))

    assert enter_code(client, totp_code())["Location"] == reverse("desk:desk")
    assert not SecondFactorFailure.objects.exists()  # expired rows go, a right code clears


def test_a_right_code_forgives_earlier_wrong_ones(client: Client, lin: Volunteer) -> None:
    from django.core.cache import cache

    log_in(client, "lin")
    for _ in range(4):
        enter_code(client, wrong_code())
    assert enter_code(client, totp_code())["Location"] == reverse("desk:desk")
    client.post(reverse("logout"))
    cache.clear()

    log_in(client, "lin")
    for _ in range(4):
        enter_code(client, wrong_code())
    assert "Incorrect code" in enter_code(client, wrong_code()).text
