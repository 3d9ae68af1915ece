"""Presence: what a volunteer may set by hand, and the signal that going available sends."""

from collections.abc import Iterator
from typing import Any

import pytest

from tuidang.testing.personas import go_available
from tuidang.volunteers.models import Presence, Volunteer
from tuidang.volunteers.services import PresenceNotAllowed, volunteer_set_presence
from tuidang.volunteers.signals import volunteer_available

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[list[tuple[str, str]]]:
    received = []

    def listener(*, volunteer: Volunteer, **kwargs: Any) -> None:
        received.append((volunteer.user.username, volunteer.presence))

    volunteer_available.connect(listener)
    yield received
    volunteer_available.disconnect(listener)


def test_going_available_tells_listeners_once_the_presence_is_saved(
    mei: Volunteer, heard: list[tuple[str, str]]
) -> None:
    go_available(mei)
    assert heard == [("mei", Presence.AVAILABLE)]


def test_going_away_tells_no_one(mei: Volunteer, heard: list[tuple[str, str]]) -> None:
    go_available(mei)
    volunteer_set_presence(volunteer=mei, presence=Presence.AWAY)
    assert heard == [("mei", Presence.AVAILABLE)]


def test_routing_states_cannot_be_set_by_hand_and_tell_no_one(
    mei: Volunteer, heard: list[tuple[str, str]]
) -> None:
    for presence in (Presence.ON_CALL, Presence.RINGING, Presence.WRAP_UP):
        with pytest.raises(PresenceNotAllowed):
            volunteer_set_presence(volunteer=mei, presence=presence)
    assert heard == []
