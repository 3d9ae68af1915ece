import pytest
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    CALLER,
    PASSWORD,
    Clock,
    HotlineNumbers,
    go_available,
)
from tuidang.testing.phone import said
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_a_call_goes_from_the_ringing_phone_to_the_public_total(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    assert "普通话请按1" in said(caller)

    caller = network.press(caller.sid, "1")
    assert caller.queue_name == "cmn"

    ringing = calls_for("client:mei").get()
    assert ringing.status == "ringing"
    leg = network.answer(ringing.sid)
    assert "Hotline call in Mandarin. Press 1 to accept." in said(leg)
    network.press(leg.sid, "1")

    call = Call.objects.get()
    assert call.state == Call.State.CONNECTED
    assert call.volunteer == mei
    assert call.how_heard == "banknotes"
    assert call.region == "CN-BJ"
    assert "正在为您接通志愿者" in said(network.refresh(caller))

    client.login(username="mei", password=PASSWORD)
    desk = client.get(reverse("desk:desk"))
    assert call.case_code[:3] in desk.text
    assert "Banknotes" in desk.text
    assert "Beijing" in desk.text

    response = client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party", "youth_league"],
            "family-TOTAL_FORMS": "1",
            "family-INITIAL_FORMS": "0",
            "family-0-relationship": "parent",
            "family-0-alias": "Old Wang",
            "family-0-organizations": ["young_pioneers"],
            "family-0-asked_for_it": "on",
        },
    )
    assert response.status_code == 302
    assert Declaration.objects.count() == 2

    client.post(reverse("desk:hang-up", args=[call.pk]))
    call.refresh_from_db()
    mei.refresh_from_db()
    assert call.state == Call.State.COMPLETED
    assert mei.presence == Presence.WRAP_UP
    assert network.refresh(caller).status == "completed"

    assert 'data-testid="total">0<' in client.get(reverse("public:home")).text
    publish()  # the worker's next batch
    home = client.get(reverse("public:home"))
    assert 'data-testid="total">2<' in home.text
    assert 'data-testid="today">2<' in home.text


def test_the_network_speaks_to_the_webhooks_and_signatures_of_the_dialect_it_is_given(
    numbers: HotlineNumbers, clock: Clock
) -> None:
    from dataclasses import replace

    from tuidang.telephony.simulator.dialects import TWILIO
    from tuidang.telephony.simulator.engine import PhoneNetwork

    forged = PhoneNetwork(
        clock=clock, dialect=replace(TWILIO, sign=lambda webhook: {"X-Twilio-Signature": "bad"})
    )
    caller = forged.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    assert caller.status == "failed"
    assert "Webhook /telephony/twilio/voice answered 403" in [
        line["text"] for line in caller.transcript
    ]

    elsewhere = PhoneNetwork(clock=clock, dialect=replace(TWILIO, prefix="/telephony/other/"))
    caller = elsewhere.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    assert caller.url.endswith("/telephony/other/voice")
    assert caller.status == "failed"
    assert not Call.objects.exists()
