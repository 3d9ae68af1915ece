"""The simulated network answers Twilio's REST question about a call, as Twilio does:
the official ``twilio`` client, pointed at the network, reads it, and so does the
provider port the reconciler asks."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tuidang.calls.ports import LegOutcome, LegUnknown
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.telephony.simulator.provider import SimulatedProvider
from tuidang.telephony.twilio.client import TwilioProvider
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, HotlineNumbers

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

ACCOUNT = "AC" + "0" * 32


def test_the_twilio_client_reads_a_calls_status_from_the_network(
    live_server: LiveServer,
    settings: Settings,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
) -> None:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = "test-only"
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    twilio = TwilioProvider()
    twilio.client.api.base_url = f"{live_server.url}/sim"
    assert twilio.call_state(leg_id=caller.sid) == LegOutcome.ANSWERED
    network.hang_up(caller.sid)
    assert twilio.call_state(leg_id=caller.sid) == LegOutcome.COMPLETED
    with pytest.raises(LegUnknown):
        twilio.call_state(leg_id="CA" + "f" * 32)


def test_the_simulated_provider_answers_as_the_rest_stub_does(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    provider = SimulatedProvider()
    assert provider.call_state(leg_id=caller.sid) == LegOutcome.ANSWERED
    network.hang_up(caller.sid)
    assert provider.call_state(leg_id=caller.sid) == LegOutcome.COMPLETED
    with pytest.raises(LegUnknown):
        provider.call_state(leg_id="CA-nowhere")


def test_the_stub_never_repeats_the_callers_number(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    response = client.get(f"/sim/2010-04-01/Accounts/{ACCOUNT}/Calls/{caller.sid}.json")
    assert response.status_code == 200
    assert response.json()["status"] == "in-progress"
    assert CALLER not in response.content.decode()
    assert client.get(f"/sim/2010-04-01/Accounts/{ACCOUNT}/Calls/CAnone.json").status_code == 404
