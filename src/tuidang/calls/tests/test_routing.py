"""Routing strategies and the fallback chain, through whole simulated calls."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings

from tuidang.calls import routing
from tuidang.calls.models import Call, Offer, QueueConfig, Strategy
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


def call_in(network: PhoneNetwork, language_digit: str, number: str = CALLER) -> SimCall:
    caller = network.dial(from_number=number, to_number=BANKNOTES_LINE)
    return network.press(caller.sid, language_digit)


def accept(network: PhoneNetwork, address: str) -> SimCall:
    leg = network.answer(network.calls_for(address).get().sid)
    return network.press(leg.sid, "1")


def finish(network: PhoneNetwork, caller: SimCall, volunteer: Volunteer) -> None:
    network.hang_up(caller.sid)
    volunteer.refresh_from_db()
    assert volunteer.presence == Presence.WRAP_UP
    go_available(volunteer)


def test_a_ring_group_rings_several_and_the_first_to_accept_takes_the_call(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    QueueConfig.objects.create(
        language=Language.MANDARIN, strategy=Strategy.RING_GROUP, ring_group_size=3
    )
    team = [make_volunteer(name, [Language.MANDARIN]) for name in ("an", "bo", "chen", "dan")]
    for volunteer in team:
        go_available(volunteer)
    call_in(network, "1")
    ringing = [
        v.user.username for v in team if network.calls_for(f"client:{v.user.username}").exists()
    ]
    assert ringing == ["an", "bo", "chen"]  # the three longest idle; Dan waits
    accept(network, "client:bo")
    call = Call.objects.get()
    assert call.volunteer is not None
    assert call.volunteer.user.username == "bo"
    assert Offer.objects.filter(state=Offer.State.CANCELED).count() == 2
    assert (
        not network.calls_for("client:an").exists()
        and not network.calls_for("client:chen").exists()
    )
    presences = dict(Volunteer.objects.values_list("user__username", "presence"))
    assert presences == {
        "an": "available",
        "bo": "on_call",
        "chen": "available",
        "dan": "available",
    }


def test_a_ring_group_call_waits_again_only_when_every_offer_has_ended(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers
) -> None:
    QueueConfig.objects.create(
        language=Language.MANDARIN, strategy=Strategy.RING_GROUP, ring_group_size=2
    )
    an, bo = (make_volunteer(name, [Language.MANDARIN]) for name in ("an", "bo"))
    go_available(an)
    go_available(bo)
    call_in(network, "1")
    network.hang_up(network.calls_for("client:an").get().sid)  # An declines
    assert Call.objects.get().state == Call.State.OFFERED  # Bo's phone still rings
    accept(network, "client:bo")
    assert Call.objects.get().volunteer == bo


def test_without_a_volunteer_of_the_language_the_second_language_is_tried(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, wing: Volunteer
) -> None:
    QueueConfig.objects.create(language=Language.CANTONESE, fallback_language=Language.MANDARIN)
    go_available(mei)
    call_in(network, "2")  # Cantonese; Wing is away
    leg = network.answer(network.calls_for("client:mei").get().sid)
    assert "Hotline call in Cantonese" in said(leg)
    network.press(leg.sid, "1")
    assert Call.objects.get().volunteer == mei


def test_the_second_language_is_tried_after_the_overflow_time(
    network: PhoneNetwork,
    clock: Clock,
    numbers: HotlineNumbers,
    mei: Volunteer,
    wing: Volunteer,
) -> None:
    QueueConfig.objects.create(
        language=Language.CANTONESE, fallback_language=Language.MANDARIN, overflow_after_seconds=60
    )
    go_available(mei)
    go_available(wing)
    call_in(network, "2")
    accept(network, "client:wing")  # Wing is busy with the first caller
    call_in(network, "2", number="+8613912345678")
    assert not network.calls_for("client:mei").exists()  # Wing is on duty: wait for her first
    clock.advance(61)
    Call.objects.filter(state=Call.State.QUEUED).update(
        queued_at=timezone.now() - timedelta(seconds=61)
    )
    network.tick()  # the wait URL runs routing again
    assert network.calls_for("client:mei").count() == 1


def test_with_no_one_on_duty_in_either_language_the_caller_leaves_a_message(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, wing: Volunteer
) -> None:
    QueueConfig.objects.create(language=Language.CANTONESE, fallback_language=Language.MANDARIN)
    caller = call_in(network, "2")
    assert "而家冇義工可以接聽你嘅電話" in said(caller)
    assert "請喺嘟一聲之後留言" in said(caller)
    assert Call.objects.get().state == Call.State.VOICEMAIL


def test_a_caller_who_rings_back_is_offered_to_the_volunteer_they_spoke_with(
    network: PhoneNetwork, numbers: HotlineNumbers, lin: Volunteer
) -> None:
    mei = make_volunteer("mei", [Language.MANDARIN])
    go_available(mei)
    first = call_in(network, "1")
    accept(network, "client:mei")
    finish(network, first, mei)
    go_available(lin)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Volunteer.objects.filter(pk=lin.pk).update(presence_since=an_hour_ago)  # longest idle
    call_in(network, "1")  # the same number again
    assert network.calls_for("client:mei").count() == 1
    assert not network.calls_for("client:lin").exists()


def test_a_withheld_number_is_not_treated_as_a_returning_caller(
    network: PhoneNetwork, numbers: HotlineNumbers, lin: Volunteer
) -> None:
    mei = make_volunteer("mei", [Language.MANDARIN])
    go_available(mei)
    first = call_in(network, "1", number="anonymous")
    accept(network, "client:mei")
    finish(network, first, mei)
    go_available(lin)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Volunteer.objects.filter(pk=lin.pk).update(presence_since=an_hour_ago)  # longest idle
    call_in(network, "1", number="anonymous")
    assert network.calls_for("client:lin").count() == 1


def clock_moves_on(network: PhoneNetwork) -> None:
    """The callers' hold music ends and the wait URL runs routing again."""
    assert isinstance(network.clock, Clock)
    network.clock.advance(16)
    network.tick()


def test_a_volunteer_in_wrap_up_gets_calls_again_once_the_wrap_up_time_is_over(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    settings: Settings,
) -> None:
    settings.WRAP_UP_SECONDS = 60
    go_available(mei)
    first = call_in(network, "1")
    accept(network, "client:mei")
    network.hang_up(first.sid)
    call_in(network, "1", number="+8613912345678")
    assert not network.calls_for("client:mei").exists()  # still writing up the first call
    Volunteer.objects.filter(pk=mei.pk).update(
        presence_since=timezone.now() - timedelta(seconds=61)
    )
    clock_moves_on(network)
    assert network.calls_for("client:mei").count() == 1


def test_a_ringing_offer_moves_to_a_caller_only_where_routing_could_have_made_it(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, wing: Volunteer
) -> None:
    """may_ring decides whether offers ringing for a caller another volunteer took carry on
    for the caller left waiting (calls.services.offers._swap_offers)."""
    QueueConfig.objects.create(
        language=Language.CANTONESE, fallback_language=Language.MANDARIN, overflow_after_seconds=60
    )
    go_available(wing)
    call_in(network, "2")  # Cantonese: Wing, on duty, rings
    call = Call.objects.get()
    now = timezone.now()
    assert routing.may_ring(call, [wing.pk], now=now)
    # Mei speaks only the second language: not before the caller has waited a minute.
    assert not routing.may_ring(call, [mei.pk], now=now)
    assert not routing.may_ring(call, [wing.pk, mei.pk], now=now)
    assert routing.may_ring(call, [mei.pk], now=now + timedelta(seconds=61))


def test_a_hold_cycle_while_no_one_is_free_takes_no_lock(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    """On SQLite every transaction holds the one writer's lock: callers on hold while every
    volunteer is busy must not take it, and hold up everyone's writes, every cycle."""
    go_available(mei)
    call_in(network, "1")
    accept(network, "client:mei")
    waiting = call_in(network, "1", number="+8613912345678")
    in_transaction: list[bool] = []

    def watch(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        in_transaction.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        clock_moves_on(network)  # a hold cycle
    assert said(network.refresh(waiting)).count("志愿者马上就来") == 2
    assert in_transaction
    assert not any(in_transaction)
