import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.testing.logins import log_in
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def test_the_login_page_asks_for_a_username_and_password(client: Client) -> None:
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="login"' in page.text
    assert 'type="password"' in page.text
    assert "sign up" not in page.text.lower()


def test_a_volunteer_logs_in_with_their_password_and_lands_on_the_desk(
    client: Client, mei: Volunteer
) -> None:
    response = log_in(client, "mei")
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:desk")
    assert client.get(reverse("desk:desk")).status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client: Client, mei: Volunteer) -> None:
    response = log_in(client, "mei", password="not-the-password")
    assert response.status_code == 200
    assert "not correct" in response.text
    assert client.get(reverse("desk:desk")).status_code == 302


def test_passwords_are_stored_with_argon2(mei: Volunteer, settings: Settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = get_user_model().objects.create_user(username="new", password="long enough phrase")
    assert user.password.startswith("argon2$argon2id$")


def test_nobody_can_sign_up_or_reset_a_password_by_email(client: Client) -> None:
    assert client.get("/accounts/signup/").status_code == 404
    assert client.get("/accounts/password/reset/").status_code == 404


def test_the_admin_login_goes_through_the_accounts_login(client: Client) -> None:
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_logging_out_ends_the_session(client: Client, mei: Volunteer) -> None:
    log_in(client, "mei")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("desk:desk")).status_code == 302


def test_a_coordinator_also_logs_in_through_the_desk_link_names(lin: Volunteer) -> None:
    # The project's URL names and allauth's point at the same pages.
    assert reverse("login") == reverse("account_login") == "/accounts/login/"
    assert reverse("logout") == reverse("account_logout") == "/accounts/logout/"
    assert Client().get(reverse("account_login")).status_code == 200
