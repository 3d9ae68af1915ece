"""Whole calls through the simulated network: menu, queue, offers, endings."""

import pytest

from tuidang.calls.models import Call, Offer
from tuidang.calls.services import call_connect, offer_respond
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.telephony.simulator.models import SimCall
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    CALLER,
    Clock,
    HotlineNumbers,
    go_available,
    make_volunteer,
)
from tuidang.testing.phone import said
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def accept(network: PhoneNetwork, address: str) -> SimCall:
    leg = network.answer(network.calls_for(address).get().sid)
    return network.press(leg.sid, "1")


def test_a_caller_who_presses_nothing_hears_the_menu_again_then_gets_mandarin(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers
) -> None:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    clock.advance(7)
    network.tick()
    caller = network.refresh(caller)
    assert said(caller).count("普通话请按1") == 2
    assert Call.objects.get().language == ""
    clock.advance(7)
    network.tick()
    call = Call.objects.get()
    assert call.language == Language.MANDARIN
    assert call.state != Call.State.IVR


def test_an_invalid_digit_counts_as_a_failed_attempt(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "9")
    assert Call.objects.get().state == Call.State.IVR
    network.press(caller.sid, "3")
    assert Call.objects.get().language == Language.ENGLISH


def test_the_longest_idle_volunteer_gets_the_offer(
    network: PhoneNetwork,
    clock: Clock,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    go_available(lin)
    go_available(mei)  # later: Lin has been idle longer
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    offer = Offer.objects.get()
    assert offer.volunteer == lin
    assert network.calls_for("client:lin").count() == 1
    assert network.calls_for("client:mei").count() == 0


def test_a_second_caller_waits_while_the_only_volunteer_talks(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    first = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    accept(network, "client:mei")
    second = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(second.sid, "1")
    assert Offer.objects.count() == 1
    waiting = Call.objects.get(provider_sid=second.sid)
    assert waiting.state == Call.State.QUEUED
    assert "前面还有" in said(network.refresh(second))


def test_a_caller_who_hangs_up_in_the_queue_is_abandoned_with_the_wait(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    first = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    accept(network, "client:mei")
    second = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(second.sid, "1")
    clock.advance(30)
    network.tick()
    network.hang_up(second.sid)
    call = Call.objects.get(provider_sid=second.sid)
    assert call.state == Call.State.ABANDONED
    assert call.ended_at is not None
    assert call.wait_seconds is not None and call.wait_seconds >= 0


def test_hanging_up_while_an_offer_rings_cancels_the_offer_and_frees_the_volunteer(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    leg = network.calls_for("client:mei").get()
    network.hang_up(caller.sid)
    assert Offer.objects.get().state == Offer.State.CANCELED
    assert network.refresh(leg).status == "canceled"
    mei.refresh_from_db()
    assert mei.presence == Presence.AVAILABLE


def test_two_missed_offers_set_the_volunteer_away(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    for _ in range(2):
        clock.advance(21)  # the offer rings out
        network.tick()
    mei.refresh_from_db()
    assert mei.presence == Presence.AWAY
    assert list(Offer.objects.values_list("state", flat=True)) == ["missed", "missed"]
    call = Call.objects.get()
    assert call.ended_at is None
    assert call.state in (Call.State.QUEUED, Call.State.VOICEMAIL)


def test_a_declined_offer_goes_to_the_next_volunteer(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    go_available(mei)
    go_available(lin)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    network.hang_up(network.calls_for("client:mei").get().sid)  # declines on the phone
    assert network.calls_for("client:lin").count() == 1
    accept(network, "client:lin")
    assert Call.objects.get().volunteer == lin


def test_a_fixed_language_number_skips_the_menu(
    network: PhoneNetwork, numbers: HotlineNumbers, wing: Volunteer
) -> None:
    numbers["website"].language = Language.CANTONESE
    numbers["website"].save()
    go_available(wing)
    caller = network.dial(from_number=CALLER, to_number=numbers["website"].e164)
    assert "普通话请按1" not in said(caller)
    assert Call.objects.get().language == Language.CANTONESE
    accept(network, "client:wing")
    assert Call.objects.get().state == Call.State.CONNECTED


def test_no_volunteer_is_ever_offered_two_calls_at_once(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    volunteers = [make_volunteer(f"v{i}", [Language.MANDARIN]) for i in range(3)]
    for volunteer in volunteers:
        go_available(volunteer)
    callers = [
        network.dial(from_number=f"+86138001380{i:02d}", to_number=BANKNOTES_LINE) for i in range(6)
    ]
    for caller in callers:
        network.press(caller.sid, "1")
    pending = Offer.objects.filter(state=Offer.State.PENDING)
    assert pending.count() == 3
    assert len({offer.volunteer_id for offer in pending}) == 3
    assert Call.objects.filter(state=Call.State.QUEUED).count() == 3


def test_a_volunteer_who_accepts_first_takes_the_front_caller_and_the_other_keeps_ringing(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    go_available(lin)
    go_available(mei)  # Lin has been idle longer: she rings for the first caller
    first = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    second = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(second.sid, "1")
    lins_leg = network.calls_for("client:lin").get()
    lins_offer = Offer.objects.get(volunteer=lin)
    assert lins_offer.call.provider_sid == first.sid

    # Mei, offered the second caller, presses 1 first: the provider bridges her to the
    # caller at the front of the queue, the one Lin's phone rings for.
    accept(network, "client:mei")
    assert Call.objects.get(provider_sid=first.sid).volunteer == mei

    # Lin's phone was not hung up: it rings on, now for the second caller.
    assert network.refresh(lins_leg).status == "ringing"
    lins_offer.refresh_from_db()
    assert lins_offer.state == Offer.State.PENDING
    assert lins_offer.call.provider_sid == second.sid
    assert Call.objects.get(provider_sid=second.sid).state == Call.State.OFFERED
    accept(network, "client:lin")
    assert Call.objects.get(provider_sid=second.sid).volunteer == lin
    assert Offer.objects.filter(state=Offer.State.ACCEPTED).count() == 2
    assert not Offer.objects.exclude(state=Offer.State.ACCEPTED).exists()


def two_callers_two_offers(
    network: PhoneNetwork, lin: Volunteer, mei: Volunteer
) -> tuple[SimCall, SimCall, SimCall, SimCall]:
    """Lin rings for the first caller, Mei for the second; both have picked up."""
    go_available(lin)
    go_available(mei)
    first = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    second = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(second.sid, "1")
    lins_leg = network.answer(network.calls_for("client:lin").get().sid)
    meis_leg = network.answer(network.calls_for("client:mei").get().sid)
    return first, second, lins_leg, meis_leg


def test_bridges_that_cross_after_both_accepted_connect_both_callers(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    first, second, lins_leg, meis_leg = two_callers_two_offers(network, lin, mei)
    lins_offer, meis_offer = Offer.objects.get(volunteer=lin), Offer.objects.get(volunteer=mei)
    assert offer_respond(token=lins_offer.token, digits="1", leg_sid=lins_leg.sid)
    assert offer_respond(token=meis_offer.token, digits="1", leg_sid=meis_leg.sid)

    # Mei's bridge reaches the provider first and takes the first caller, Lin's.
    call_connect(provider_sid=first.sid, leg_sid=meis_leg.sid)
    lins_offer.refresh_from_db()
    assert (lins_offer.state, lins_offer.call.provider_sid) == (Offer.State.ACCEPTED, second.sid)
    assert Call.objects.get(provider_sid=second.sid).state == Call.State.OFFERED
    # Lin's bridge then takes the second.
    call_connect(provider_sid=second.sid, leg_sid=lins_leg.sid)
    assert Call.objects.get(provider_sid=first.sid).volunteer == mei
    assert Call.objects.get(provider_sid=second.sid).volunteer == lin
    assert set(Offer.objects.values_list("state", flat=True)) == {Offer.State.ACCEPTED}


def test_when_the_caller_left_has_hung_up_the_other_phone_stops_ringing(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    first, second, lins_leg, meis_leg = two_callers_two_offers(network, lin, mei)
    meis_offer = Offer.objects.get(volunteer=mei)
    assert offer_respond(token=meis_offer.token, digits="1", leg_sid=meis_leg.sid)
    network.hang_up(second.sid)  # Mei's caller gives up before her bridge is made
    assert Call.objects.get(provider_sid=second.sid).state == Call.State.ABANDONED

    call_connect(provider_sid=first.sid, leg_sid=meis_leg.sid)
    assert Call.objects.get(provider_sid=first.sid).volunteer == mei
    # Nobody is left for Lin's phone to ring for.
    assert Offer.objects.get(volunteer=lin).state == Offer.State.CANCELED
    assert network.refresh(lins_leg).status != "in-progress"
    lin.refresh_from_db()
    assert lin.presence == Presence.AVAILABLE


def test_a_screening_group_caller_left_waiting_goes_to_a_free_screener(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    go_available(lin)
    go_available(mei)
    first = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    second = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(second.sid, "1")  # no screener was free: offered to Mei
    Call.objects.filter(provider_sid=second.sid).update(screening_policy="screening_group")
    zoe = make_volunteer("zoe", [Language.MANDARIN])
    zoe.screener = True
    zoe.save(update_fields=["screener"])
    go_available(zoe)  # a screener comes on duty while both phones ring

    # Mei presses 1 and is bridged to Lin's caller. Lin, not a screener, does not ring on
    # for the screening group's caller while Zoe is free: Zoe is offered the call.
    accept(network, "client:mei")
    assert Call.objects.get(provider_sid=first.sid).volunteer == mei
    assert Offer.objects.get(volunteer=lin).state == Offer.State.CANCELED
    zoes_offer = Offer.objects.get(volunteer=zoe)
    assert (zoes_offer.state, zoes_offer.call.provider_sid) == (Offer.State.PENDING, second.sid)
    lin.refresh_from_db()
    assert lin.presence == Presence.AVAILABLE
