"""A call taken at the desk, from the first ring to the volunteer free again, played on
the simulated phone network through the real webhooks and desk views."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, go_available
from tuidang.volunteers.models import Volunteer


def connect(network: PhoneNetwork, volunteer: Volunteer, number: str = CALLER) -> Call:
    """``number`` rings the banknotes line, chooses Mandarin, and ``volunteer``, available,
    answers the offer and presses 1: the call is connected to them."""
    go_available(volunteer)
    sim = network.dial(from_number=number, to_number=BANKNOTES_LINE)
    network.press(sim.sid, "1")
    network.press(network.answer(calls_for(volunteer.phone_address).get().sid).sid, "1")
    return Call.objects.get(provider_sid=sim.sid)


def finish(network: PhoneNetwork, client: Client, call: Call) -> None:
    """The volunteer logged in on ``client`` ends ``call`` at the desk and goes available."""
    client.post(reverse("desk:hang-up", args=[call.pk]))
    client.post(reverse("desk:presence"), {"presence": "available"})
