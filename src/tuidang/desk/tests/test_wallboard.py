"""The wallboard for coordinators, and through a read-only link on a wall screen."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tuidang.calls.models import Call
from tuidang.reports.tests.helpers import a_call
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def _link(client: Client) -> str:
    page = client.post(reverse("desk:wallboard-link-create"), {"name": "Taipei office"})
    assert page.status_code == 200
    found = re.search(r'data-testid="new-link">([^<]+)<', page.content.decode())
    assert found is not None
    return found.group(1)


def test_a_wall_screen_shows_the_board_without_a_login_until_revoked(
    client: Client, lin: Volunteer, numbers: HotlineNumbers
) -> None:
    call = a_call(
        numbers["banknotes"],
        started=timezone.now() - timedelta(seconds=30),
        state=Call.State.QUEUED,
        queued_after=5,
    )
    client.login(username="lin", password=PASSWORD)
    url = _link(client)
    screen = Client()  # no login
    page = screen.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert re.search(r'data-testid="waiting-cmn">1<', text)
    assert re.search(r'data-testid="on-shift-cmn">0<', text)
    # No shift is scheduled at all: the gap is now, and said so.
    assert "Coverage gap now" in text
    # Counts only: nothing of the caller.
    assert call.case_code not in text and "CN-GD" not in text and "Guangdong" not in text
    board = screen.get(url + "board")
    assert board.status_code == 200
    [link_id] = re.findall(
        r"/desk/wallboard/links/(\d+)/revoke",
        client.get(reverse("desk:wallboard")).content.decode(),
    )
    client.post(reverse("desk:wallboard-link-revoke", args=[link_id]))
    assert screen.get(url).status_code == 404
    assert screen.get(url + "board").status_code == 404


def test_the_revocation_takes_effect_without_waiting_for_the_cache(
    client: Client, lin: Volunteer
) -> None:
    client.login(username="lin", password=PASSWORD)
    url = _link(client)
    screen = Client()
    assert screen.get(url + "board").status_code == 200  # the board is now in the cache
    page = client.get(reverse("desk:wallboard")).content.decode()
    [link_id] = re.findall(r"/desk/wallboard/links/(\d+)/revoke", page)
    client.post(reverse("desk:wallboard-link-revoke", args=[link_id]))
    assert screen.get(url + "board").status_code == 404


def test_a_link_without_a_name_is_refused_with_a_message(client: Client, lin: Volunteer) -> None:
    client.login(username="lin", password=PASSWORD)
    page = client.post(reverse("desk:wallboard-link-create"), {"name": " "})
    assert page.status_code == 400
    assert "This field is required." in page.content.decode()


def test_volunteers_do_not_see_the_wallboard(client: Client, mei: Volunteer) -> None:
    client.login(username="mei", password=PASSWORD)
    assert client.get(reverse("desk:wallboard")).status_code == 403
    assert client.get(reverse("desk:wallboard-board")).status_code == 403
