"""The suite's fixtures: personas, the hotline's numbers, a simulated phone network, and
Debian's Chromium for the browser tests.

The helpers behind them live in ``tuidang.testing``; a test imports from there what it uses
(``from tuidang.testing.personas import PASSWORD``), never from this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from hypothesis import settings as hypothesis_settings

from tuidang.calls.models import HotlineNumber, HowHeard
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    PASSWORD,
    WEBSITE_LINE,
    Clock,
    HotlineNumbers,
    make_coordinator,
    make_volunteer,
)
from tuidang.volunteers.models import Role, Volunteer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from tuidang.literature.models import Title

# No example may fail for being slow: this machine is shared, and how fast a test runs is
# for the benchmarks to say (docs/benchmarks.md), never for a test to assert.
hypothesis_settings.register_profile("tuidang", deadline=None)
hypothesis_settings.load_profile("tuidang")


@pytest.fixture(autouse=True, scope="session")
def _test_client_logins_carry_a_request() -> Iterator[None]:
    """django-axes counts failed logins per address, so it refuses to authenticate without
    a request; the test client's login() has none. Give it one from 127.0.0.1."""
    from django.http import HttpRequest
    from django.test.client import ClientMixin

    original = ClientMixin.login

    def login(self: ClientMixin, **credentials: Any) -> bool:
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        return original(self, request=request, **credentials)

    ClientMixin.login = login  # type: ignore[method-assign]
    yield
    ClientMixin.login = original  # type: ignore[method-assign]


@pytest.fixture
def numbers(db: None) -> HotlineNumbers:
    return {
        "banknotes": HotlineNumber.objects.create(
            e164=BANKNOTES_LINE, name="Banknotes line", how_heard=HowHeard.BANKNOTES
        ),
        "website": HotlineNumber.objects.create(
            e164=WEBSITE_LINE, name="Website line", how_heard=HowHeard.WEBSITE
        ),
    }


@pytest.fixture
def mei(db: None) -> Volunteer:
    return make_volunteer("mei", [Language.MANDARIN])


@pytest.fixture
def wing(db: None) -> Volunteer:
    return make_volunteer("wing", [Language.CANTONESE])


@pytest.fixture
def lin(db: None) -> Volunteer:
    return make_coordinator("lin", [Language.MANDARIN, Language.ENGLISH])


@pytest.fixture
def ada(db: None) -> Volunteer:
    """An administrator: the admin role, staff and superuser, with an authenticator app."""
    volunteer = make_volunteer("ada", [Language.ENGLISH], role=Role.ADMIN)
    volunteer.user.is_staff = volunteer.user.is_superuser = True
    volunteer.user.save(update_fields=["is_staff", "is_superuser"])
    return volunteer


@pytest.fixture
def charlie(db: None) -> User:
    return get_user_model().objects.create_user(username="charlie", password=PASSWORD)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def network(clock: Clock) -> PhoneNetwork:
    return PhoneNetwork(clock=clock)


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language: a page a test client fetched in
    Chinese leaves Chinese active in the thread, which a later test would read."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Every test starts with an empty cache, as a freshly started server does."""
    from django.core.cache import cache

    from tuidang.lib import memo
    from tuidang.vault.keys import forget_cached_keys

    cache.clear()
    memo.forget()
    forget_cached_keys()  # the data keys of the last test's database are gone


@pytest.fixture
def titles(db: None) -> list[Title]:
    """The one book the desk offers in the browser tests."""
    from tuidang.literature.models import BookLanguage, Format, Title

    return [
        Title.objects.create(
            name="九评共产党", language=BookLanguage.SIMPLIFIED, format=Format.PRINTED
        )
    ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, once for a module of browser tests (tuidang.testing.browser)."""
    from playwright.sync_api import sync_playwright

    from tuidang.testing.browser import launch_chromium

    # Playwright's sync API runs an event loop in this thread, where the tests also make
    # their ORM calls, between the pages they drive.
    allowed = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
    if allowed is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allowed


@pytest.fixture
def csp_violations(browser: Browser, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every page the test opens is watched for what the Content Security Policy blocked,
    and any such report fails the test (the page would be missing a piece it counts on).

    The test's pages are closed when it ends, before its database goes: a page left open
    goes on polling the live server (the desk, the simulator's call panel), whose answers
    would then fail on a database the test no longer holds."""
    from tuidang.testing.browser import watch_for_csp_violations

    violations: list[str] = []
    opened: list[BrowserContext | Page] = []
    open_context, open_page = browser.new_context, browser.new_page

    def new_context(**options: Any) -> BrowserContext:
        context = open_context(**options)
        watch_for_csp_violations(context, violations)
        opened.append(context)
        return context

    def new_page(**options: Any) -> Page:
        page = open_page(**options)
        watch_for_csp_violations(page, violations)
        opened.append(page)
        return page

    monkeypatch.setattr(browser, "new_context", new_context)
    monkeypatch.setattr(browser, "new_page", new_page)
    yield violations
    for context_or_page in reversed(opened):
        context_or_page.close()  # a no-op for one the test closed itself
    assert violations == []


@pytest.fixture(autouse=True)
def _browser_tests_watch_the_content_security_policy(request: pytest.FixtureRequest) -> None:
    """A test marked ``browser`` is watched whether or not it asks for the reports."""
    if request.node.get_closest_marker("browser") is not None:
        request.getfixturevalue("csp_violations")
