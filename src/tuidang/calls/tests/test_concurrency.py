"""100 callers at once and 10 volunteers: no call lost, no volunteer offered two at once.

Threads drive the simulated network in parallel, each with its own database connection,
so the row locks in routing are what keeps the invariants (on PostgreSQL real row locks,
on SQLite the write lock that every transaction takes at BEGIN IMMEDIATE).
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tuidang.calls.models import Call, Offer
from tuidang.conftest import BANKNOTES_LINE, go_available, make_volunteer
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.volunteers.models import Presence, Volunteer
from tuidang.volunteers.services import volunteer_set_presence

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

CALLERS = 100
VOLUNTEERS = 10
DEADLINE_SECONDS = 240


def in_thread(function):
    def run(*args):
        try:
            return function(*args)
        finally:
            connections.close_all()

    return run


def test_100_concurrent_calls_with_10_volunteers(numbers):
    volunteers = [make_volunteer(f"v{i}", [Language.MANDARIN]) for i in range(VOLUNTEERS)]
    for volunteer in volunteers:
        go_available(volunteer)
    network = PhoneNetwork()

    @in_thread
    def place_call(index: int) -> str:
        caller = network.dial(from_number=f"+86139{index:08d}", to_number=BANKNOTES_LINE)
        network.press(caller.sid, "1")
        return caller.sid

    with ThreadPoolExecutor(max_workers=16) as pool:
        sids = list(pool.map(place_call, range(CALLERS)))

    assert Call.objects.filter(provider_sid__in=sids).count() == CALLERS
    pending = list(Offer.objects.filter(state=Offer.State.PENDING))
    assert len(pending) == VOLUNTEERS
    assert len({offer.volunteer_id for offer in pending}) == VOLUNTEERS
    assert Call.objects.filter(state=Call.State.QUEUED).count() == CALLERS - VOLUNTEERS

    most_ringing_at_once: dict[str, int] = {}

    @in_thread
    def answer_calls(volunteer: Volunteer) -> int:
        address = volunteer.phone_address
        served = 0
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            ringing = list(calls_for(address).filter(status="ringing"))
            most_ringing_at_once[address] = max(most_ringing_at_once.get(address, 0), len(ringing))
            if not ringing:
                if not Call.objects.filter(ended_at__isnull=True).exists():
                    return served
                time.sleep(0.01)
                continue
            leg = network.answer(ringing[0].sid)
            network.press(leg.sid, "1")
            call = Call.objects.filter(volunteer=volunteer, state=Call.State.CONNECTED).first()
            if call is None:
                # The offer was withdrawn while ringing: another volunteer's bridge took
                # this caller from the front of the queue first.
                continue
            network.end_call(call.provider_sid)  # the conversation ends
            volunteer.refresh_from_db()
            assert volunteer.presence == Presence.WRAP_UP
            volunteer_set_presence(volunteer=volunteer, presence=Presence.AVAILABLE)
            served += 1
        return served

    with ThreadPoolExecutor(max_workers=VOLUNTEERS) as pool:
        served = list(pool.map(answer_calls, volunteers))

    assert sum(served) == CALLERS
    assert Call.objects.filter(state=Call.State.COMPLETED).count() == CALLERS
    # Every caller was bridged once, to one volunteer, through one accepted offer.
    assert Offer.objects.filter(state=Offer.State.ACCEPTED).count() == CALLERS
    for sid in sids:
        transcript = PhoneNetwork.refresh_sid(sid).transcript
        assert [line["text"] for line in transcript].count("Connected") == 1
    assert set(most_ringing_at_once.values()) == {1}
    assert all(count > 0 for count in served)
