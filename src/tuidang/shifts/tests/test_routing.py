"""Calls ring volunteers on shift first; off shift only as the queue allows, through whole
simulated calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tuidang.calls.models import Call
from tuidang.lib.languages import Language
from tuidang.shifts.services import queue_shifts_set, shift_create, slot_assign
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    CALLER,
    WEBSITE_LINE,
    HotlineNumbers,
    go_available,
    make_volunteer,
)
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def on_shift_now(volunteer: Volunteer, number: str = "") -> None:
    """A one-off Mandarin shift from an hour ago to two hours ahead (for ``number`` only,
    if given), with ``volunteer`` on it."""
    now = timezone.now()
    start = now - timedelta(hours=1)
    shift, _notes = shift_create(
        language=Language.MANDARIN,
        time_zone="UTC",
        weekly=False,
        first_date=start.date(),
        last_date=None,
        start_time=start.time().replace(microsecond=0),
        end_time=(now + timedelta(hours=2)).time().replace(microsecond=0),
        min_heads=1,
        target_heads=1,
        notice_hours=0,
        number=number,
    )
    slot_assign(slot=shift.slots.get(), volunteer=volunteer, by=volunteer)


def ringing(network: PhoneNetwork, volunteer: Volunteer) -> bool:
    return bool(network.calls_for(f"client:{volunteer.user.username}").exists())


def call_in(network: PhoneNetwork) -> None:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")


def test_a_call_rings_the_volunteer_on_shift_before_one_idle_longer_off_shift(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    bo = make_volunteer("bo", [Language.MANDARIN])
    go_available(mei)  # off shift, idle longest
    on_shift_now(bo)
    go_available(bo)
    call_in(network)
    assert ringing(network, bo)
    assert not ringing(network, mei)


def test_off_shift_volunteers_take_the_call_when_no_one_on_shift_is_free(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    bo = make_volunteer("bo", [Language.MANDARIN])
    on_shift_now(bo)  # on shift, but away
    go_available(mei)
    call_in(network)
    assert ringing(network, mei)


def test_a_queue_can_keep_its_calls_for_volunteers_on_shift(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    queue_shifts_set(language=Language.MANDARIN, off_shift_fallback=False)
    bo = make_volunteer("bo", [Language.MANDARIN])
    on_shift_now(bo)
    go_available(mei)
    call_in(network)
    assert not ringing(network, mei)
    assert Call.objects.get().state == Call.State.QUEUED
    go_available(bo)  # the volunteer on shift comes back: the waiting call rings them
    assert ringing(network, bo)


@pytest.mark.parametrize("bo_number", ["", BANKNOTES_LINE])
def test_a_call_rings_the_volunteer_on_shift_for_its_number_or_every_number_first(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, bo_number: str
) -> None:
    on_shift_now(mei, number=WEBSITE_LINE)  # on shift for the other line, idle longest
    go_available(mei)
    bo = make_volunteer("bo", [Language.MANDARIN])
    on_shift_now(bo, number=bo_number)
    go_available(bo)
    call_in(network)  # on the banknotes line
    assert ringing(network, bo)
    assert not ringing(network, mei)


def test_a_volunteer_on_shift_for_another_number_still_takes_the_call_when_alone(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    on_shift_now(mei, number=WEBSITE_LINE)
    go_available(mei)
    call_in(network)
    assert ringing(network, mei)
