import time

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.accounts.middleware import LAST_SEEN_KEY, STARTED_KEY
from tuidang.testing.logins import log_in
from tuidang.testing.personas import go_available
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def shift_session(client: Client, **seconds_ago: int) -> None:
    """Pretend the login began, or the person was last seen, that many seconds ago."""
    session = client.session
    now = int(time.time())
    if "started" in seconds_ago:
        session[STARTED_KEY] = now - seconds_ago["started"]
    if "last_seen" in seconds_ago:
        session[LAST_SEEN_KEY] = now - seconds_ago["last_seen"]
    session.save()


def logged_in(client: Client, username: str) -> Client:
    log_in(client, username)
    assert client.get(reverse("desk:desk")).status_code == 200
    return client


def test_a_session_ends_after_the_idle_timeout(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    logged_in(client, "mei")
    shift_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT + 1)
    response = client.get(reverse("desk:desk"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    # Logged out for good, not just sent away once.
    assert client.get(reverse("desk:desk")).status_code == 302


def test_using_the_desk_keeps_the_session_alive(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    logged_in(client, "mei")
    shift_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT - 5)
    assert client.get(reverse("desk:desk")).status_code == 200
    assert client.session[LAST_SEEN_KEY] >= int(time.time()) - 2


def test_a_session_ends_after_its_lifetime_however_busy(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    logged_in(client, "mei")
    shift_session(client, started=settings.SESSION_COOKIE_AGE + 1, last_seen=0)
    assert client.get(reverse("desk:desk")).status_code == 302


def test_the_desk_polling_by_itself_is_not_activity_while_away(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    logged_in(client, "mei")
    shift_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT - 120)
    seen = client.session[LAST_SEEN_KEY]
    assert client.get(reverse("desk:live")).status_code == 200
    assert client.session[LAST_SEEN_KEY] == seen


def test_a_volunteer_on_duty_stays_logged_in_while_the_desk_polls(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    logged_in(client, "mei")
    go_available(mei)
    shift_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT - 120)
    assert client.get(reverse("desk:live")).status_code == 200
    assert client.session[LAST_SEEN_KEY] >= int(time.time()) - 2


def test_an_expired_poll_tells_htmx_to_load_the_login_page(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    logged_in(client, "mei")
    shift_session(client, last_seen=settings.SESSION_IDLE_TIMEOUT + 1)
    response = client.get(reverse("desk:live"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login")


def test_the_login_cookie_is_forgotten_when_the_browser_closes(
    client: Client, mei: Volunteer, settings: Settings
) -> None:
    log_in(client, "mei")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert cookie["httponly"]


def test_changing_a_password_ends_every_session_made_with_the_old_one(
    client: Client, mei: Volunteer
) -> None:
    logged_in(client, "mei")
    mei.user.set_password("a new long passphrase")
    mei.user.save(update_fields=["password"])
    assert client.get(reverse("desk:desk")).status_code == 302
