"""Personas, numbers and a clock shared by the whole suite.

As in healthchecks, the people have names: Mei answers in Mandarin, Wing in Cantonese,
Lin coordinates, Ada administers, and Charlie has an account but no volunteer profile
(``tuidang.conftest`` makes each of them a fixture). Everything is set up through the real
models and services.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from tuidang.volunteers.models import Presence, Role, Volunteer, VolunteerLanguage
from tuidang.volunteers.services import volunteer_set_presence

if TYPE_CHECKING:
    from tuidang.calls.models import HotlineNumber

BANKNOTES_LINE = "+18005550100"
WEBSITE_LINE = "+18005550199"
# A mainland Chinese mobile number (Beijing) and how else it may be written.
CALLER = "+8613800138000"
PASSWORD = "correct-horse-battery"  # noqa: S105 - every persona's password, in tests only
# The authenticator app secret of every persona who must have a second factor
# (coordinators, administrators); `totp_code()` computes what their app shows.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - a published example secret


class HotlineNumbers(TypedDict):
    """The hotline's two numbers, as the ``numbers`` fixture makes them."""

    banknotes: HotlineNumber  # BANKNOTES_LINE
    website: HotlineNumber  # WEBSITE_LINE


def give_second_factor(user: AbstractBaseUser) -> None:
    """Set up an authenticator app for ``user``, as allauth's own activation does."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, TOTP_SECRET)


def totp_code(secret: str = TOTP_SECRET, at: float | None = None, *, good_for: float = 2.0) -> str:
    """The code an authenticator app with ``secret`` shows at ``at``.

    Without ``at``, the code shown now that the server still takes ``good_for`` seconds
    later. The server takes only the current time step's code, so a code read in a step's
    last moment and sent would arrive in the next one and be refused; near the end of a
    step this waits for the next, as a person reading their app would.
    """
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    if at is None:
        left = period - time.time() % period
        if left < good_for:
            time.sleep(left + 0.05)
        at = time.time()
    counter = int(at) // period
    return str(format_hotp_value(hotp_value(secret, counter)))


def totp_code_to_type() -> str:
    """The code a person types from their app into a browser: typing and sending take a
    moment longer than a test client's post."""
    return totp_code(good_for=5.0)


class Clock:
    """The simulated network's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_volunteer(username: str, languages: list[str], role: str = Role.VOLUNTEER) -> Volunteer:
    """A volunteer with an account, away, answering in ``languages``. Coordinators and
    administrators also get the second factor their role requires."""
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    volunteer = Volunteer(
        user=user, display_name=username.title(), role=role, presence=Presence.AWAY
    )
    volunteer.phone_address = f"client:{username}"  # sealed
    volunteer.save()
    for language in languages:
        VolunteerLanguage.objects.create(volunteer=volunteer, language=language)
    if volunteer.is_coordinator:
        give_second_factor(user)
    return volunteer


def make_coordinator(username: str, languages: list[str]) -> Volunteer:
    """A coordinator, with the second factor the role requires."""
    return make_volunteer(username, languages, role=Role.COORDINATOR)


def go_available(volunteer: Volunteer) -> Volunteer:
    """The volunteer presses Go available; a waiting call in their language rings at once."""
    return volunteer_set_presence(volunteer=volunteer, presence=Presence.AVAILABLE)
