"""The desk's poll: 204 while nothing it shows changed, the new state as soon as it does,
and only ever for the session the token was given to."""

from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tuidang.desk import poll
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    CALLER,
    PASSWORD,
    HotlineNumbers,
    go_available,
)
from tuidang.volunteers.models import Volunteer
from tuidang.volunteers.services import volunteer_set_presence

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

URL = "/desk/live"


def first_poll(client: Client, shown: str = "") -> str:
    response = client.get(URL, {"call": shown})
    assert response.status_code == 200
    token = response[poll.HEADER]
    assert token
    return token


def polled(client: Client, token: str, shown: str = "") -> tuple[int, str]:
    response = client.get(URL, {"call": shown}, headers={poll.HEADER: token})
    return response.status_code, response.content.decode()


@pytest.fixture
def mei_client(mei: Volunteer) -> Client:
    client = Client()
    assert client.login(username="mei", password=PASSWORD)
    return client


def test_the_poll_url_is_the_one_the_middleware_answers() -> None:
    assert reverse("desk:live") == URL


def test_a_poll_where_nothing_changed_is_answered_204_with_no_body(mei_client: Client) -> None:
    token = first_poll(mei_client)
    assert polled(mei_client, token) == (204, "")
    assert polled(mei_client, token) == (204, "")


def test_the_volunteers_new_presence_shows_in_the_next_poll(
    mei_client: Client, mei: Volunteer
) -> None:
    token = first_poll(mei_client)
    volunteer_set_presence(volunteer=mei, presence="available")
    status, body = polled(mei_client, token)
    assert status == 200
    assert "Go away" in body  # the buttons of an available volunteer


def test_a_caller_who_starts_waiting_shows_in_every_desks_next_poll(
    mei: Volunteer, wing: Volunteer, network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    go_available(mei)
    wing_client = Client()  # wing speaks Cantonese: nothing of wing's own changes
    assert wing_client.login(username="wing", password=PASSWORD)
    token = first_poll(wing_client)
    assert "<td>1</td>" not in wing_client.get(URL, {"call": ""}).text
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")  # Mandarin: offered to mei, waiting meanwhile
    status, body = polled(wing_client, token)
    assert status == 200
    assert "<td>1</td>" in body
    new_token = wing_client.get(URL, {"call": ""})[poll.HEADER]
    assert polled(wing_client, new_token)[0] == 204


def test_a_caller_still_in_the_menu_changes_no_desk(
    mei_client: Client, network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    token = first_poll(mei_client)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)  # the language menu
    assert polled(mei_client, token) == (204, "")
    network.press(caller.sid, "1")  # now waiting: every desk's queues change
    assert polled(mei_client, token)[0] == 200


def test_the_states_no_desk_shows_are_the_calls_own() -> None:
    from tuidang.calls.models import Call

    # poll.py names them as text: it is imported before the models are.
    assert {Call.State.IVR, Call.State.SCREENED} == poll._ON_NO_DESK


def test_a_caller_queued_as_the_call_arrives_shows_at_once(
    mei: Volunteer, wing: Volunteer, network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    numbers["banknotes"].language = "cmn"  # a line in one language: no menu
    numbers["banknotes"].save()
    go_available(mei)
    wing_client = Client()  # wing speaks Cantonese: nothing of wing's own changes
    assert wing_client.login(username="wing", password=PASSWORD)
    token = first_poll(wing_client)
    network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)  # offered to mei, waiting
    status, body = polled(wing_client, token)
    assert status == 200
    assert "<td>1</td>" in body


def test_another_volunteers_token_is_refused_and_their_own_desk_shown(
    mei_client: Client, wing: Volunteer
) -> None:
    meis_token = first_poll(mei_client)
    wing_client = Client()
    assert wing_client.login(username="wing", password=PASSWORD)
    volunteer_set_presence(volunteer=wing, presence="available")
    status, body = polled(wing_client, meis_token)
    assert status == 200
    assert "Go away" in body  # wing's presence, not mei's


def test_a_logged_out_browser_with_a_token_is_sent_to_log_in(mei_client: Client) -> None:
    token = first_poll(mei_client)
    mei_client.logout()
    response = mei_client.get(URL, {"call": ""}, headers={poll.HEADER: token})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("tamper", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), str.upper])
def test_a_tampered_token_gets_the_full_answer(mei_client: Client, tamper: object) -> None:
    token = first_poll(mei_client)
    assert callable(tamper)
    assert polled(mei_client, tamper(token))[0] == 200


def test_a_token_for_another_shown_call_gets_the_full_answer(mei_client: Client) -> None:
    token = first_poll(mei_client)
    assert polled(mei_client, token, shown="12")[0] == 200


def test_a_version_the_cache_lost_gets_the_full_answer(mei_client: Client) -> None:
    token = first_poll(mei_client)
    cache.delete(poll.CALLS)
    assert polled(mei_client, token)[0] == 200


def test_an_old_token_gets_the_full_answer(
    mei_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    token = first_poll(mei_client)
    later = time.time() + poll.TOKEN_MAX_AGE + 1
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert polled(mei_client, token)[0] == 200


def test_without_the_cache_every_poll_is_answered_in_full(
    mei_client: Client, mei: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = first_poll(mei_client)

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    assert polled(mei_client, token)[0] == 200
    volunteer_set_presence(volunteer=mei, presence="available")  # the change is kept
    assert mei_client.get(URL, {"call": ""}).status_code == 200
    mei.refresh_from_db()
    assert mei.presence == "available"


def test_a_call_taken_by_the_telephony_pool_shows_on_a_desk_served_by_another_process(
    tmp_path: Path, mei: Volunteer, numbers: HotlineNumbers
) -> None:
    """`tuidang serve` on SQLite without Redis: the webhook that bumps the desks' version
    runs in the telephony pool's process, the desk's poll in the pool for people's. The
    version must be one both read, or the desk answers 204 while a new caller waits."""
    from tuidang.lib.tests.test_serving_pools import _incoming_call, _serve

    numbers["banknotes"].language = "cmn"  # a line in one language: callers queue at once
    numbers["banknotes"].save()
    browser = Client()
    browser.force_login(mei.user)
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    # The served processes read the session this test wrote: the same secret key.
    with _serve(
        tmp_path, people_workers=1, people_threads=1,
        SECRET_KEY=django_settings.SECRET_KEY, REDIS_URL="",
    ) as (people, telephony, _):  # fmt: skip
        desk = f"{people}{URL}?call="
        first = requests.get(desk, headers=cookie, timeout=30)
        assert first.status_code == 200
        token = {poll.HEADER: first.headers[poll.HEADER]}
        assert requests.get(desk, headers=cookie | token, timeout=30).status_code == 204

        assert _incoming_call(telephony, line=BANKNOTES_LINE)[0] == 200

        assert requests.get(desk, headers=cookie | token, timeout=30).status_code == 200


class _Served:
    """The WSGI application a server runs (config/wsgi.py), counting what reached Django."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.django = WSGIHandler()
        self.reached_django = 0
        self.application = poll.wsgi_shortcut(self._django)

    def _django(self, environ: Any, start_response: Any) -> Any:
        self.reached_django += 1
        return self.django(environ, start_response)

    def get(self, client: Client, token: str, shown: str = "") -> tuple[str, bytes]:
        from wsgiref.util import setup_testing_defaults

        environ: dict[str, Any] = {
            "PATH_INFO": URL,
            "QUERY_STRING": f"call={shown}",
            "HTTP_COOKIE": f"sessionid={client.cookies['sessionid'].value}",
            "HTTP_X_DESK_STATE": token,
        }
        setup_testing_defaults(environ)
        environ["HTTP_HOST"] = "testserver"
        answered: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            answered.append(status)
            return answered.append

        body = b"".join(self.application(environ, start_response))
        return answered[0], body


def test_the_server_answers_an_unchanged_poll_before_django_and_a_changed_one_in_full(
    mei_client: Client, mei: Volunteer
) -> None:
    served = _Served()
    token = first_poll(mei_client)
    assert served.get(mei_client, token) == ("204 No Content", b"")
    assert served.reached_django == 0

    volunteer_set_presence(volunteer=mei, presence="available")
    status, body = served.get(mei_client, token)
    assert status.startswith("200")
    assert b"Go away" in body
    assert served.reached_django == 1


@pytest.mark.parametrize("tamper", ["token", "session", "shown"])
def test_the_servers_shortcut_refuses_what_the_middleware_refuses(
    mei_client: Client, tamper: str
) -> None:
    served = _Served()
    token = first_poll(mei_client)
    if tamper == "token":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif tamper == "session":
        mei_client.cookies["sessionid"] = "another-session-key"
    status, _ = served.get(mei_client, token, shown="123456789" if tamper == "shown" else "")
    assert not status.startswith("204")
    assert served.reached_django == 1


def test_a_pool_that_serves_only_the_webhooks_takes_no_shortcut_to_the_desk(
    mei_client: Client, settings: Any
) -> None:
    token = first_poll(mei_client)
    settings.SERVE_ONLY_PATHS = ["/telephony/"]
    served = _Served()
    status, _ = served.get(mei_client, token)
    assert status.startswith("404")
    assert served.reached_django == 1
