"""Transferring the call in front of a volunteer from the desk, on the simulated network."""

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call, Transfer
from tuidang.declarations.models import Declaration
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import PASSWORD, HotlineNumbers, go_available
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

RENOUNCE = {
    "caller-renounces": "on",
    "caller-alias": "Wang Ming",
    "caller-organizations": ["party"],
    "family-TOTAL_FORMS": "0",
    "family-INITIAL_FORMS": "0",
}


def logged_in(username: str) -> Client:
    client = Client()
    client.login(username=username, password=PASSWORD)
    return client


def test_the_colleague_a_call_is_handed_to_sees_the_case_and_records_on_it(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call = connect(network, mei)
    go_available(lin)
    mei_desk, lin_desk = logged_in("mei"), logged_in("lin")
    mei_desk.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {**RENOUNCE, "caller-alias": "Old Wang"},
    )
    page = mei_desk.get(reverse("desk:desk")).text
    assert "Lin (Mandarin, English · coordinator)" in page

    mei_desk.post(reverse("desk:transfer", args=[call.pk]), {"to": lin.pk, "warm": "1"})
    assert "Transferring to Lin" in mei_desk.get(reverse("desk:desk")).text
    leg = network.answer(network.calls_for("client:lin").get().sid)
    network.press(leg.sid, "1")

    lin_page = lin_desk.get(reverse("desk:desk")).text
    assert "Mei is handing you this call" in lin_page
    assert "1 declaration recorded on this call." in lin_page
    assert "Hand the caller over" in mei_desk.get(reverse("desk:desk")).text

    lin_desk.post(reverse("desk:record-declarations", args=[call.pk]), RENOUNCE)
    mei_desk.post(reverse("desk:hand-over", args=[call.pk]))

    call.refresh_from_db()
    assert call.volunteer == lin
    assert Declaration.objects.filter(call=call).count() == 2
    lin_page = lin_desk.get(reverse("desk:desk")).text
    assert "2 declarations recorded on this call." in lin_page
    assert "End call" in lin_page
    lin.refresh_from_db()
    mei.refresh_from_db()
    assert (lin.presence, mei.presence) == (Presence.ON_CALL, Presence.WRAP_UP)


def test_a_transfer_to_someone_no_longer_free_is_refused_and_the_call_stays(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call = connect(network, mei)
    go_available(lin)
    mei_desk = logged_in("mei")
    assert "Lin (" in mei_desk.get(reverse("desk:desk")).text
    lin.presence = Presence.AWAY
    lin.save(update_fields=["presence"])

    response = mei_desk.post(
        reverse("desk:transfer", args=[call.pk]), {"to": lin.pk, "warm": "0"}, follow=True
    )

    assert "That colleague is no longer free: choose again." in response.text
    assert response.status_code == 400
    assert not Transfer.objects.exists()
    call.refresh_from_db()
    assert (call.state, call.volunteer) == (Call.State.CONNECTED, mei)
