"""Tasks run twice when a worker dies mid-task (jobs/heartbeat.py requeues them): a second
run does no harm."""

from __future__ import annotations

import pytest

from tuidang.calls import tasks
from tuidang.calls.models import Offer
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, HotlineNumbers, go_available
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_ringing_a_volunteer_again_places_no_second_leg(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    offer = Offer.objects.get()
    tasks.ring_volunteer.call(offer_id=offer.pk)
    assert network.calls_for("client:mei").count() == 1
    offer.refresh_from_db()
    assert offer.state == Offer.State.PENDING


def test_ringing_for_a_call_back_that_is_over_rings_no_one(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    from tuidang.calls.models import Call, Voicemail

    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.hang_up(caller.sid)  # they left a message; the call back was tried and ended
    call = Call.objects.get()
    voicemail = Voicemail.objects.create(call=call, recording_sid="RE1")
    go_available(mei)  # not ringing for any call back
    assert Volunteer.objects.get(pk=mei.pk).presence != Presence.RINGING
    tasks.ring_for_callback.call(voicemail_id=voicemail.pk, volunteer_id=mei.pk)
    assert network.calls_for("client:mei").count() == 0
