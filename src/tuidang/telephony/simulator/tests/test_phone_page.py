"""The volunteer's simulated phone on the desk: each press answers with the phone."""

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    CALLER,
    PASSWORD,
    HotlineNumbers,
    go_available,
)
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

HTMX = {"HX-Request": "true"}


def test_answering_keying_and_hanging_up_on_the_desk_phone_show_the_phone_at_once(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    leg = calls_for(mei.phone_address).get()
    answered = client.post(reverse("simulator:phone-answer", args=[leg.sid]), headers=HTMX)
    assert answered.status_code == 200
    assert reverse("simulator:press", args=[leg.sid]) in answered.text  # its keypad
    keyed = client.post(reverse("simulator:press", args=[leg.sid]), {"key": "1"}, headers=HTMX)
    assert keyed.status_code == 200
    assert "Connected" in keyed.text
    ended = client.post(reverse("simulator:hang-up", args=[leg.sid]), headers=HTMX)
    assert ended.status_code == 200
    assert "Your phone is quiet." in ended.text


def test_the_phones_own_lines_speak_the_interfaces_language(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    network.press(network.answer(calls_for(mei.phone_address).get().sid).sid, "1")
    phone = client.get(reverse("simulator:phone"), HTTP_ACCEPT_LANGUAGE="zh-hans").text
    assert "已接听" in phone and "已接通" in phone
    assert "Answered" not in phone and "Connected" not in phone
    panel = client.get(
        reverse("simulator:call-panel", args=[caller.sid]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).text
    assert "在队列 cmn 中等候" in panel
