"""Personas and a phone network shared by the whole suite.

As in healthchecks, the people have names: Mei answers in Mandarin, Wing in Cantonese,
Grace in English, Lin coordinates, Ada administers, and Charlie has an account but no
volunteer profile.
Everything is set up through the real services.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tuidang.calls.models import Channel, HotlineNumber
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.volunteers.models import Presence, Role, Volunteer, VolunteerLanguage
from tuidang.volunteers.services import volunteer_set_presence

BANKNOTES_LINE = "+18005550100"
WEBSITE_LINE = "+18005550199"
# A mainland Chinese mobile number (Beijing) and how else it may be written.
CALLER = "+8613800138000"
PASSWORD = "correct-horse-battery"
# The authenticator app secret of every persona who must have a second factor
# (coordinators, administrators); `totp_code()` computes what their app shows.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def give_second_factor(user) -> None:
    """Set up an authenticator app for ``user``, as allauth's own activation does."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, TOTP_SECRET)


def totp_code(secret: str = TOTP_SECRET, at: float | None = None) -> str:
    """The code an authenticator app with ``secret`` shows at ``at`` (default: now)."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return str(format_hotp_value(hotp_value(secret, counter)))


@pytest.fixture(autouse=True, scope="session")
def _test_client_logins_carry_a_request():
    """django-axes counts failed logins per address, so it refuses to authenticate without
    a request; the test client's login() has none. Give it one from 127.0.0.1."""
    from django.http import HttpRequest
    from django.test.client import ClientMixin

    original = ClientMixin.login

    def login(self, **credentials):
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        return original(self, request=request, **credentials)

    ClientMixin.login = login  # type: ignore[method-assign]
    yield
    ClientMixin.login = original  # type: ignore[method-assign]


class Clock:
    """The simulated network's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_volunteer(username: str, languages: list[str], role: str = Role.VOLUNTEER) -> Volunteer:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    volunteer = Volunteer.objects.create(
        user=user,
        display_name=username.title(),
        role=role,
        phone_address=f"client:{username}",
        presence=Presence.AWAY,
    )
    for language in languages:
        VolunteerLanguage.objects.create(volunteer=volunteer, language=language)
    if volunteer.is_coordinator:
        give_second_factor(user)
    return volunteer


@pytest.fixture
def numbers(db):
    return {
        "banknotes": HotlineNumber.objects.create(
            e164=BANKNOTES_LINE, name="Banknotes line", channel=Channel.BANKNOTES
        ),
        "website": HotlineNumber.objects.create(
            e164=WEBSITE_LINE, name="Website line", channel=Channel.WEBSITE
        ),
    }


@pytest.fixture
def mei(db):
    return make_volunteer("mei", [Language.MANDARIN])


@pytest.fixture
def wing(db):
    return make_volunteer("wing", [Language.CANTONESE])


@pytest.fixture
def lin(db):
    return make_volunteer("lin", [Language.MANDARIN, Language.ENGLISH], role=Role.COORDINATOR)


@pytest.fixture
def ada(db):
    """An administrator: the admin role, staff and superuser, with an authenticator app."""
    volunteer = make_volunteer("ada", [Language.ENGLISH], role=Role.ADMIN)
    volunteer.user.is_staff = volunteer.user.is_superuser = True
    volunteer.user.save(update_fields=["is_staff", "is_superuser"])
    return volunteer


@pytest.fixture
def charlie(db):
    return get_user_model().objects.create_user(username="charlie", password=PASSWORD)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def network(clock):
    return PhoneNetwork(clock=clock)


def go_available(volunteer: Volunteer) -> Volunteer:
    return volunteer_set_presence(volunteer=volunteer, presence=Presence.AVAILABLE)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache, as a freshly started server does."""
    from django.core.cache import cache

    from tuidang.vault.keys import forget_cached_keys

    cache.clear()
    forget_cached_keys()  # the data keys of the last test's database are gone
