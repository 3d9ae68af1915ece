"""A coordinator listens in from the team page; the volunteer's desk shows they are there."""

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import PASSWORD, HotlineNumbers, go_available
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_the_volunteer_sees_the_coordinator_listening_and_whispering(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call = connect(network, mei)
    go_available(lin)
    mei_desk, lin_team = Client(), Client()
    mei_desk.login(username="mei", password=PASSWORD)
    lin_team.force_login(lin.user)
    assert "listening in" not in mei_desk.get(reverse("desk:desk")).text

    lin_team.post(reverse("desk:listen-in", args=[call.pk]))
    assert "Your phone rings: answer it to listen in." in lin_team.get(reverse("desk:team")).text
    lin_leg = network.answer(network.calls_for("client:lin").get().sid)

    assert "Lin is listening in, muted." in mei_desk.get(reverse("desk:desk")).text
    team = lin_team.get(reverse("desk:team")).text
    assert "Whisper to Mei" in team
    listening = lin_team.get(reverse("desk:team")).context["listening"]

    lin_team.post(reverse("desk:whisper", args=[listening.pk]), {"on": "1"})
    live = mei_desk.get(reverse("desk:live"), {"call": call.pk}).text
    assert "Lin is listening in and whispering to you" in live
    assert lin_leg.sid in network.hears(network.calls_for("client:mei").get().sid)

    lin_team.post(reverse("desk:stop-listening", args=[listening.pk]))
    assert "listening in" not in mei_desk.get(reverse("desk:desk")).text
    assert network.refresh(lin_leg).ended
