"""The pages a story sends readers to are kept whole for anonymous readers: each still
gets a CSRF token of their own, a logged-in volunteer their own page, and a publication
shows at once in the process that made it and within a second in the others."""

from __future__ import annotations

import gzip
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


def test_a_kept_page_is_the_same_for_every_reader_and_sets_no_cookie() -> None:
    first, second = Client(), Client()
    page_one = first.get(reverse("public:home"))
    page_two = second.get(reverse("public:home"))
    assert page_one.content == page_two.content
    # No form, no token, no cookie: a cache may keep it.
    assert "csrfmiddlewaretoken" not in page_one.text and not page_one.cookies
    assert "no-store" not in page_one.get("Cache-Control", "")


def test_a_browser_that_accepts_gzip_gets_the_page_gzipped() -> None:
    plain = Client().get(reverse("public:home"))
    zipped = Client().get(reverse("public:home"), headers={"accept-encoding": "gzip, br"})
    assert zipped["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(zipped.content) == plain.content
    assert "Accept-Encoding" in zipped["Vary"] and "Accept-Encoding" in plain["Vary"]


@pytest.mark.parametrize(
    ("accepted", "zipped"),
    [
        ("gzip", True),
        ("br, GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0, br", False),
        ("identity", False),
        ("", False),
    ],
)
def test_gzip_only_where_the_reader_accepts_it(accepted: str, zipped: bool) -> None:
    page = Client().get(reverse("public:home"), headers={"accept-encoding": accepted})
    assert (page.get("Content-Encoding") == "gzip") is zipped


def test_the_language_is_chosen_with_a_link_back_to_the_same_page() -> None:
    reader = Client()
    home = reader.get(reverse("public:home")).text
    link = f'href="{reverse("language", args=["zh-hant"])}?next=/"'
    assert link in home
    chosen = reader.get(reverse("language", args=["zh-hant"]), {"next": "/history"})
    assert chosen.status_code == 302 and chosen["Location"] == "/history"
    assert '<html lang="zh-hant">' in reader.get(reverse("public:home")).text
    # Never a way off the site; no language that is not offered.
    away = reader.get(reverse("language", args=["en"]), {"next": "https://example.com/"})
    assert away["Location"] == "/"
    assert reader.get(reverse("language", args=["xx"])).status_code == 404
    assert reader.post(reverse("language", args=["en"])).status_code == 405


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
