"""A whole call through Telnyx's TeXML webhooks, with the simulated network speaking Telnyx.

The hotline is configured as for Telnyx (``TELEPHONY_PROVIDER=telnyx``); the REST side is
the simulated network's, in Telnyx's dialect, so that its phones ring. Every webhook goes
to /telephony/telnyx/ and is signed Telnyx's way, with the network's own key pair.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.telephony.simulator.dialects import TELNYX
from tuidang.telephony.simulator.engine import InProcessTransport, PhoneNetwork, Reply, calls_for
from tuidang.telephony.simulator.provider import SimulatedProvider
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


class SimulatedTelnyx(SimulatedProvider):
    """The simulated network as the calls domain's provider, speaking Telnyx's dialect."""

    def __init__(self) -> None:
        super().__init__(dialect=TELNYX)


class RecordingTransport(InProcessTransport):
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str], int]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        reply = super().post(url, body, headers)
        self.sent.append((url, headers, reply.status))
        return reply


@pytest.fixture
def telnyx(settings: Settings) -> None:
    # The URLconf reads TELEPHONY_PROVIDER once, when first imported: as the suite's.
    import tuidang.config.urls  # noqa: F401

    settings.TELEPHONY_PROVIDER = "telnyx"
    settings.TELEPHONY_PROVIDER_CLASS = f"{__name__}.SimulatedTelnyx"


def test_a_call_goes_through_the_telnyx_webhooks_from_ringing_to_the_total(
    client: Client, telnyx: None, numbers: HotlineNumbers, mei: Volunteer, clock: Clock
) -> None:
    transport = RecordingTransport()
    network = PhoneNetwork(clock=clock, dialect=TELNYX, transport=transport)
    go_available(mei)

    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    assert caller.url.endswith("/telephony/telnyx/voice")
    assert "普通话请按1" in said(caller)  # the language menu

    caller = network.press(caller.sid, "1")
    assert caller.queue_name == "cmn"  # in the Mandarin queue, hearing the wait URL
    assert Call.objects.get().state == Call.State.OFFERED

    ringing = calls_for("client:mei").get()  # the offer, placed through the provider
    assert ringing.url.endswith(
        "/telephony/telnyx/offer/" + str(Call.objects.get().offers.get().token)
    )
    leg = network.answer(ringing.sid)
    assert "Hotline call in Mandarin. Press 1 to accept." in said(leg)
    network.press(leg.sid, "1")  # accepted: the leg dials the queue, the caller is bridged

    call = Call.objects.get()
    assert call.state == Call.State.CONNECTED
    assert call.volunteer == mei
    assert call.provider_sid == caller.sid
    assert "正在为您接通志愿者" in said(network.refresh(caller))

    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party"],
            "family-TOTAL_FORMS": "0",
            "family-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Declaration.objects.count() == 1

    client.post(reverse("desk:hang-up", args=[call.pk]))  # the provider ends the caller's leg
    call.refresh_from_db()
    mei.refresh_from_db()
    assert call.state == Call.State.COMPLETED  # from the status callback
    assert call.provider_status == "completed"
    assert mei.presence == Presence.WRAP_UP
    assert network.refresh(caller).status == "completed"

    # Every request the network sent went to Telnyx's webhooks, signed Telnyx's way.
    assert transport.sent
    for url, headers, status in transport.sent:
        assert "/telephony/telnyx/" in url
        assert set(headers) == {"telnyx-signature-ed25519", "telnyx-timestamp"}
        assert status < 400, url
    paths = {url.split("/telephony/telnyx/")[1].split("/")[0] for url, _, _ in transport.sent}
    assert {"voice", "language", "wait", "offer", "bridge"} <= paths

    assert 'data-testid="total">0<' in client.get(reverse("public:home")).text
    publish()  # the worker's next batch
    home = client.get(reverse("public:home"))
    assert 'data-testid="total">1<' in home.text


def test_a_network_signing_with_another_key_reaches_nothing(
    telnyx: None, numbers: HotlineNumbers, clock: Clock, settings: Settings
) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings.TELNYX_PUBLIC_KEY = base64.b64encode(other).decode()
    caller = PhoneNetwork(clock=clock, dialect=TELNYX).dial(
        from_number=CALLER, to_number=BANKNOTES_LINE
    )
    assert caller.status == "failed"
    assert "Webhook /telephony/telnyx/voice answered 403" in [
        line["text"] for line in caller.transcript
    ]
    assert not Call.objects.exists()


def test_the_demo_plays_telnyx_when_told_to(
    numbers: HotlineNumbers, mei: Volunteer, clock: Clock, settings: Settings
) -> None:
    """SIMULATOR_DIALECT=telnyx make demo: the network and its provider speak TeXML, so the
    caller's page and the volunteer's phone reach the Telnyx webhooks."""
    settings.SIMULATOR_DIALECT = "telnyx"
    settings.TELEPHONY_PROVIDER_CLASS = "tuidang.telephony.simulator.provider.SimulatedProvider"
    go_available(mei)
    network = PhoneNetwork(clock=clock)  # as the /sim/ pages make it
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    assert caller.url.endswith("/telephony/telnyx/voice")
    network.press(caller.sid, "1")
    assert calls_for("client:mei").get().url.startswith(network.base_url + "/telephony/telnyx/")
    assert Call.objects.get().state == Call.State.OFFERED


def test_the_demo_says_which_provider_the_network_plays(settings: Settings) -> None:
    settings.SIMULATOR_DIALECT = "telnyx"
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert "speaks Telnyx's TeXML" in out.getvalue()
