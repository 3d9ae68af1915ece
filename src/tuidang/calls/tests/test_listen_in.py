"""A coordinator listening in on a connected call, and whispering to the volunteer, on the
simulated network: who hears whom."""

import pytest

from tuidang.audit.models import AuditEvent
from tuidang.calls.models import Call, ListenIn
from tuidang.calls.services import (
    ListenInRefused,
    listen_in_start,
    listen_in_stop,
    listen_in_whisper,
)
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.telephony.simulator.models import SimCall
from tuidang.testing.desk import connect
from tuidang.testing.personas import HotlineNumbers, go_available
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def phone_of(network: PhoneNetwork, volunteer: Volunteer) -> SimCall:
    leg: SimCall = network.calls_for(volunteer.phone_address).get()
    return leg


def presence(volunteer: Volunteer) -> str:
    volunteer.refresh_from_db()
    return volunteer.presence


def test_a_coordinator_listens_muted_and_whispers_to_the_volunteer_alone(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call = connect(network, mei)
    mei_leg = phone_of(network, mei)
    go_available(lin)

    listen_in = listen_in_start(call=call, coordinator=lin)
    lin_leg = network.answer(phone_of(network, lin).sid)

    caller = call.provider_sid
    # Mei and the caller still talk; Lin hears both, and neither hears her.
    assert sorted(network.hears(caller)) == [mei_leg.sid]
    assert sorted(network.hears(mei_leg.sid)) == [caller]
    assert sorted(network.hears(lin_leg.sid)) == sorted([caller, mei_leg.sid])
    listen_in.refresh_from_db()
    assert listen_in.state == ListenIn.State.LISTENING
    assert presence(lin) == Presence.ON_CALL

    listen_in_whisper(listen_in=listen_in, coordinator=lin, on=True)
    assert sorted(network.hears(mei_leg.sid)) == sorted([caller, lin_leg.sid])
    assert network.hears(caller) == [mei_leg.sid]

    listen_in_whisper(listen_in=listen_in, coordinator=lin, on=False)
    assert network.hears(mei_leg.sid) == [caller]

    listen_in_stop(listen_in=listen_in, coordinator=lin)
    assert network.refresh(lin_leg).ended
    assert network.hears(caller) == [mei_leg.sid]
    assert presence(lin) == Presence.AVAILABLE
    assert AuditEvent.objects.filter(
        target_type="calls.ListenIn", target_id=str(listen_in.pk), actor=lin.user
    ).exists()


def test_the_call_ending_ends_the_listen_in(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call = connect(network, mei)
    go_available(lin)
    listen_in = listen_in_start(call=call, coordinator=lin)
    lin_leg = network.answer(phone_of(network, lin).sid)

    network.hang_up(call.provider_sid)

    listen_in.refresh_from_db()
    assert listen_in.state == ListenIn.State.ENDED
    assert network.refresh(lin_leg).ended
    assert presence(lin) == Presence.AVAILABLE
    assert Call.objects.get().state == Call.State.COMPLETED


def test_only_a_free_coordinator_listens_in(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call = connect(network, mei)
    with pytest.raises(ListenInRefused):
        listen_in_start(call=call, coordinator=lin)  # away: her phone is not hers to ring
    with pytest.raises(ListenInRefused):
        listen_in_start(call=call, coordinator=mei)
    assert not ListenIn.objects.exists()


def test_a_volunteer_who_puts_the_phone_down_in_the_conference_ends_the_call(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    """In a conference no bridge ends the caller's leg with the volunteer's: the
    conference's status callback says the volunteer left, and the caller is hung up."""
    call = connect(network, mei)
    mei_leg = phone_of(network, mei)
    go_available(lin)
    listen_in_start(call=call, coordinator=lin)
    lin_leg = network.answer(phone_of(network, lin).sid)

    network.hang_up(mei_leg.sid)

    assert network.refresh_sid(call.provider_sid).ended
    call.refresh_from_db()
    assert call.state == Call.State.COMPLETED
    assert network.refresh(lin_leg).ended
    assert presence(mei) == Presence.WRAP_UP
