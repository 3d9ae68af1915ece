"""The pages a story sends readers to are kept whole for anonymous readers: each still
gets a CSRF token of their own, a logged-in volunteer their own page, and a publication
shows at once in the process that made it and within a second in the others."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.declarations.models import DailyTotal
from tuidang.declarations.services import statistics_changed
from tuidang.lib import memo
from tuidang.testing.personas import PASSWORD
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def _token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_each_reader_of_a_kept_page_gets_a_token_that_switches_the_language() -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page_one = first.get(reverse("public:home"))
    page_two = second.get(reverse("public:home"))
    # The same page, kept once; the token in each is its reader's own, with its cookie.
    assert _token(page_one.text) != _token(page_two.text)
    assert page_one.cookies["csrftoken"].value != page_two.cookies["csrftoken"].value
    switched = second.post(
        reverse("set_language"),
        {"language": "zh-hant", "next": "/", "csrfmiddlewaretoken": _token(page_two.text)},
    )
    assert switched.status_code == 302
    assert '<html lang="zh-hant">' in second.get(reverse("public:home")).text


def test_a_logged_in_volunteer_gets_their_own_page_not_the_kept_one(
    client: Client, mei: Volunteer
) -> None:
    Client().get(reverse("public:home"))  # kept for anonymous readers
    client.login(username="mei", password=PASSWORD)
    page = client.get(reverse("public:home")).text
    assert "Log out" in page and "Volunteer login" not in page
    assert "Volunteer login" in Client().get(reverse("public:home")).text


def test_a_publication_shows_at_once_here_and_within_a_second_elsewhere(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 'data-testid="total">0<' in client.get(reverse("public:home")).text
    now = time.monotonic()
    monkeypatch.setattr(memo, "clock", lambda: now)
    DailyTotal.objects.create(day="2026-01-01", people=3, party=3)
    with monkeypatch.context() as other_process:
        # Published by another process: what this one holds, it forgets only with time.
        other_process.setattr(memo, "forget", lambda: None)
        statistics_changed()
    assert 'data-testid="total">0<' in client.get(reverse("public:home")).text
    monkeypatch.setattr(memo, "clock", lambda: now + memo.HOLD_SECONDS)
    assert 'data-testid="total">3<' in client.get(reverse("public:home")).text
    # Published in this process: its next request shows it.
    DailyTotal.objects.create(day="2026-01-02", people=2, party=2)
    statistics_changed()
    assert 'data-testid="total">5<' in client.get(reverse("public:home")).text
