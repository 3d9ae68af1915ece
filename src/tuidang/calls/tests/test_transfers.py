"""Transfers through the simulated network: a connected call handed to a colleague, warm
or cold, through the call's conference, and every way it can end."""

import pytest

from tuidang.audit.models import AuditEvent
from tuidang.calls.models import Call, Transfer
from tuidang.calls.services import TransferRefused, transfer_hand_over, transfer_start
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.telephony.simulator.models import SimCall
from tuidang.testing.desk import connect
from tuidang.testing.personas import Clock, HotlineNumbers, go_available, make_volunteer
from tuidang.testing.phone import said
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def caller_leg(call: Call) -> SimCall:
    return SimCall.objects.get(sid=call.provider_sid)


def phone_of(network: PhoneNetwork, volunteer: Volunteer) -> SimCall:
    leg: SimCall = network.calls_for(volunteer.phone_address).get()
    return leg


def answer_transfer(network: PhoneNetwork, volunteer: Volunteer, key: str = "1") -> SimCall:
    leg = network.answer(phone_of(network, volunteer).sid)
    return network.press(leg.sid, key)


def mei_on_a_call_and_lin_free(
    network: PhoneNetwork, mei: Volunteer, lin: Volunteer
) -> tuple[Call, SimCall]:
    """Mei connected to a caller, Lin available to take the call over: the call, and Mei's
    leg of it."""
    call = connect(network, mei)
    mei_leg = phone_of(network, mei)
    go_available(lin)
    return call, mei_leg


def presence(volunteer: Volunteer) -> str:
    volunteer.refresh_from_db()
    return volunteer.presence


def test_a_warm_transfer_lets_the_two_volunteers_talk_while_the_caller_holds(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call, mei_leg = mei_on_a_call_and_lin_free(network, mei, lin)

    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=True)

    caller = caller_leg(call)
    assert network.hears_hold_music(caller.sid)
    assert presence(lin) == Presence.RINGING
    lin_leg = network.answer(phone_of(network, lin).sid)
    assert "transfers a call in Mandarin to you" in said(lin_leg)
    lin_leg = network.press(lin_leg.sid, "1")

    # Mei and Lin talk; the caller holds and hears neither.
    assert network.hears(lin_leg.sid) == [mei_leg.sid]
    assert network.hears(mei_leg.sid) == [lin_leg.sid]
    assert network.hears(caller.sid) == []
    assert presence(lin) == Presence.ON_CALL
    assert Transfer.objects.get().state == Transfer.State.CONSULTING

    transfer_hand_over(call=call, volunteer=mei)

    assert network.hears(caller.sid) == [lin_leg.sid]
    assert network.hears(lin_leg.sid) == [caller.sid]
    assert network.refresh(mei_leg).ended
    call.refresh_from_db()
    assert call.state == Call.State.CONNECTED
    assert call.volunteer == lin
    assert presence(mei) == Presence.WRAP_UP
    transfer = Transfer.objects.get()
    assert transfer.state == Transfer.State.COMPLETED
    # Mei started it, Lin took it, Mei handed the caller over.
    audited = AuditEvent.objects.filter(target_type="calls.Transfer", target_id=str(transfer.pk))
    assert [(e.actor, e.action) for e in audited.order_by("pk")] == [
        (mei.user, "create"),
        (lin.user, "change"),
        (mei.user, "change"),
    ]

    # The caller hangs up: Lin writes the call up.
    network.hang_up(caller.sid)
    assert presence(lin) == Presence.WRAP_UP
    assert network.refresh(lin_leg).ended


def test_a_cold_transfer_hands_the_caller_over_at_once(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call, mei_leg = mei_on_a_call_and_lin_free(network, mei, lin)

    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=False)

    assert network.refresh(mei_leg).ended
    assert presence(mei) == Presence.WRAP_UP
    caller = caller_leg(call)
    assert network.hears_hold_music(caller.sid)
    lin_leg = answer_transfer(network, lin)
    assert network.hears(caller.sid) == [lin_leg.sid]
    call.refresh_from_db()
    assert call.volunteer == lin
    assert Transfer.objects.get().state == Transfer.State.COMPLETED


@pytest.mark.parametrize(
    ("how", "outcome"), [("declines", "declined"), ("is busy", "busy"), ("misses it", "no-answer")]
)
def test_a_warm_transfer_not_taken_returns_the_caller_to_the_first_volunteer(
    network: PhoneNetwork,
    clock: Clock,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
    how: str,
    outcome: str,
) -> None:
    call, mei_leg = mei_on_a_call_and_lin_free(network, mei, lin)
    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=True)

    ringing = phone_of(network, lin)
    if how == "declines":
        network.press(network.answer(ringing.sid).sid, "2")
    elif how == "is busy":
        network.hang_up(ringing.sid)
    else:
        clock.advance(60)
        network.tick()

    transfer = Transfer.objects.get()
    assert (transfer.state, transfer.outcome) == (Transfer.State.FAILED, outcome)
    caller = caller_leg(call)
    assert network.hears(caller.sid) == [mei_leg.sid]
    assert network.hears(mei_leg.sid) == [caller.sid]
    call.refresh_from_db()
    assert (call.state, call.volunteer) == (Call.State.CONNECTED, mei)
    assert presence(mei) == Presence.ON_CALL
    assert presence(lin) == Presence.AVAILABLE


def test_a_cold_transfer_not_taken_puts_the_caller_first_in_the_queue(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call, _ = mei_on_a_call_and_lin_free(network, mei, lin)
    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=False)
    # Meanwhile another caller waits: they came later, so the first caller goes first.
    later = network.dial(from_number="+8613900000002", to_number=numbers["banknotes"].e164)
    network.press(later.sid, "1")

    network.hang_up(phone_of(network, lin).sid)

    assert Transfer.objects.get().outcome == "busy"
    # The only one free is Lin again: her phone rings with the first caller, not the later.
    call.refresh_from_db()
    assert call.state == Call.State.OFFERED
    assert call.offers.get(state="pending").volunteer == lin
    assert Call.objects.get(provider_sid=later.sid).state == Call.State.QUEUED
    lin_leg = network.press(network.answer(phone_of(network, lin).sid).sid, "1")
    caller = caller_leg(call)
    assert network.hears(caller.sid) == [lin_leg.sid]
    call.refresh_from_db()
    assert (call.state, call.volunteer) == (Call.State.CONNECTED, lin)
    assert Call.objects.get(provider_sid=later.sid).state == Call.State.QUEUED


def test_the_caller_hanging_up_during_a_transfer_frees_the_colleague(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call, mei_leg = mei_on_a_call_and_lin_free(network, mei, lin)
    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=True)
    ringing = phone_of(network, lin)

    network.hang_up(call.provider_sid)

    assert Transfer.objects.get().state == Transfer.State.CANCELED
    assert network.refresh(ringing).ended
    assert network.refresh(mei_leg).ended
    assert presence(lin) == Presence.AVAILABLE
    assert presence(mei) == Presence.WRAP_UP


def test_a_call_goes_only_to_a_colleague_who_is_free(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call = connect(network, mei)
    with pytest.raises(TransferRefused):
        transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=True)  # away
    go_available(lin)
    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=True)
    with pytest.raises(TransferRefused):
        transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=True)
    assert Transfer.objects.count() == 1
    caller = caller_leg(call)
    assert network.hears_hold_music(caller.sid)


def test_a_volunteer_handed_a_call_can_hand_it_on(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    call, _ = mei_on_a_call_and_lin_free(network, mei, lin)
    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=False)
    lin_leg = answer_transfer(network, lin)
    zhou = make_volunteer("zhou", [Language.MANDARIN])
    go_available(zhou)
    call.refresh_from_db()

    transfer_start(call=call, volunteer=lin, to_volunteer_id=zhou.pk, warm=True)
    caller = caller_leg(call)
    assert network.hears_hold_music(caller.sid)
    zhou_leg = answer_transfer(network, zhou)
    assert network.hears(zhou_leg.sid) == [lin_leg.sid]
    transfer_hand_over(call=call, volunteer=lin)

    assert network.hears(caller.sid) == [zhou_leg.sid]
    assert network.refresh(lin_leg).ended
    call.refresh_from_db()
    assert call.volunteer == zhou


def test_a_first_volunteer_gone_when_the_transfer_fails_leaves_the_caller_first_in_line(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    """Mei puts her phone down while Lin's rings; Lin declines: nobody is left to take the
    caller back, so they wait at the head of the queue and the next one free takes them."""
    call, mei_leg = mei_on_a_call_and_lin_free(network, mei, lin)
    transfer_start(call=call, volunteer=mei, to_volunteer_id=lin.pk, warm=True)
    ringing = phone_of(network, lin)
    network.hang_up(mei_leg.sid)

    network.press(network.answer(ringing.sid).sid, "2")

    call.refresh_from_db()
    assert call.state == Call.State.OFFERED  # to Lin, the only one free
    assert presence(mei) == Presence.WRAP_UP
    lin_leg = answer_transfer(network, lin)
    assert network.hears(caller_leg(call).sid) == [lin_leg.sid]
    call.refresh_from_db()
    assert (call.state, call.volunteer) == (Call.State.CONNECTED, lin)
