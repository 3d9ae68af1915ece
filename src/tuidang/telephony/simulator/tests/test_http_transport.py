"""The simulated network over HTTP, as the fleet's fault test drives it through a proxy."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tuidang.telephony.simulator.engine import HttpTransport, PhoneNetwork
from tuidang.telephony.simulator.models import SimCall
from tuidang.testing.personas import BANKNOTES_LINE, CALLER
from tuidang.testing.ports import free_port


@override_settings(SIMULATOR_TRANSPORT="http")
def test_told_to_the_network_sends_its_webhooks_over_http() -> None:
    assert isinstance(PhoneNetwork(base_url="http://127.0.0.1:1").transport, HttpTransport)


@pytest.mark.django_db(databases=["default", "phone_network"])
def test_a_hotline_that_does_not_answer_is_an_application_error_to_the_caller() -> None:
    network = PhoneNetwork(
        transport=HttpTransport(timeout=5),
        base_url=f"http://127.0.0.1:{free_port()}",
    )
    call = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    assert call.status == SimCall.Status.FAILED
    assert "An application error has occurred. Goodbye." in [
        entry["text"] for entry in call.transcript
    ]
