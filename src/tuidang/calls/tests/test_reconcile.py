"""The reconciler settles what a lost status callback left open, by asking the provider.

A callback is "lost" here as it is when the server it was sent to is killed: the
simulated network ends the leg in its own records and tells the hotline nothing.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import hypothesis
import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from hypothesis import strategies as st

from tuidang.calls.models import Call, Offer, Voicemail
from tuidang.calls.ports import LegOutcome
from tuidang.calls.services import calls_reconcile, voicemail_call_back
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.telephony.simulator.models import SimCall
from tuidang.telephony.simulator.provider import SimulatedProvider
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    CALLER,
    Clock,
    HotlineNumbers,
    go_available,
)
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def later(minutes: int = 5) -> datetime:
    """A reconciler's run some minutes from now, when everything open is overdue."""
    return timezone.now() + timedelta(minutes=minutes)


def lose_callback(sid: str, status: str = "completed") -> None:
    """The network ends the leg; its status callback never reaches the hotline."""
    SimCall.objects.filter(sid=sid).update(status=status, ended_at=timezone.now())


def caller_waiting(network: PhoneNetwork, number: str = CALLER) -> SimCall:
    caller = network.dial(from_number=number, to_number=BANKNOTES_LINE)
    return network.press(caller.sid, "1")


def talking(network: PhoneNetwork, volunteer: Volunteer) -> SimCall:
    go_available(volunteer)
    caller = caller_waiting(network)
    leg = network.answer(network.calls_for(f"client:{volunteer.user.username}").get().sid)
    network.press(leg.sid, "1")
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.CONNECTED
    return caller


def nobody_stuck() -> list[str]:
    """Volunteers ringing with no offer ringing, or on a call with no call."""
    stuck = []
    for volunteer in Volunteer.objects.all():
        ringing = volunteer.offers.filter(state=Offer.State.PENDING).exists()
        talking = (
            Call.objects.filter(
                volunteer=volunteer, state=Call.State.CONNECTED, ended_at__isnull=True
            ).exists()
            or volunteer.offers.filter(
                state=Offer.State.ACCEPTED, call__ended_at__isnull=True
            ).exists()
        )
        if volunteer.presence == Presence.RINGING and not ringing:
            stuck.append(volunteer.display_name)
        if volunteer.presence == Presence.ON_CALL and not talking:
            stuck.append(volunteer.display_name)
    return stuck


def test_a_call_whose_end_was_never_reported_is_completed_and_its_volunteer_wraps_up(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    caller = talking(network, mei)
    lose_callback(caller.sid)
    settled = calls_reconcile(now=later())
    call = Call.objects.get(provider_sid=caller.sid)
    assert call.state == Call.State.COMPLETED
    assert call.ended_at is not None
    assert [item.kind for item in settled] == ["call"]
    mei.refresh_from_db()
    assert mei.presence == Presence.WRAP_UP
    assert nobody_stuck() == []


def test_live_calls_are_left_alone_however_long_they_last(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    caller = talking(network, mei)
    waiting = caller_waiting(network)  # nobody free: it waits
    assert calls_reconcile(now=later(minutes=120)) == []
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.CONNECTED
    assert Call.objects.get(provider_sid=waiting.sid).state == Call.State.QUEUED
    mei.refresh_from_db()
    assert mei.presence == Presence.ON_CALL


def test_nothing_is_settled_before_its_callback_had_time_to_come(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    caller = talking(network, mei)
    lose_callback(caller.sid)
    assert calls_reconcile() == []
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.CONNECTED


def test_a_waiting_caller_who_hung_up_unreported_is_abandoned_and_nobody_rings_for_them(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    caller = caller_waiting(network)
    leg = network.calls_for("client:mei").get()
    lose_callback(caller.sid)
    calls_reconcile(now=later())
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.ABANDONED
    assert Offer.objects.get().state == Offer.State.CANCELED
    assert network.refresh(leg).ended  # her phone stopped ringing
    mei.refresh_from_db()
    assert mei.presence == Presence.AVAILABLE
    assert nobody_stuck() == []


def test_an_offer_whose_leg_died_is_missed_and_the_caller_is_offered_again(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    go_available(mei)
    caller = caller_waiting(network)
    dead = network.calls_for("client:mei").get()
    lose_callback(dead.sid, status="no-answer")
    go_available(lin)
    settled = calls_reconcile(now=later())
    assert [item.kind for item in settled] == ["offer"]
    first = Offer.objects.get(volunteer=mei)
    assert first.state == Offer.State.MISSED
    # The caller still waits, and now rings Lin.
    call = Call.objects.get(provider_sid=caller.sid)
    assert call.state == Call.State.OFFERED
    assert Offer.objects.get(volunteer=lin).state == Offer.State.PENDING
    assert nobody_stuck() == []


def test_an_offer_whose_leg_was_never_placed_is_settled_without_counting_against_her(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    caller = caller_waiting(network)
    offer = Offer.objects.get()
    # The worker that was placing the leg died before it recorded it.
    Offer.objects.filter(pk=offer.pk).update(leg_sid="")
    SimCall.objects.filter(to_number="client:mei").delete()
    calls_reconcile(now=later())
    offer.refresh_from_db()
    assert offer.state == Offer.State.MISSED
    mei.refresh_from_db()
    assert mei.missed_offers == 0
    assert Call.objects.get(provider_sid=caller.sid).waiting
    assert nobody_stuck() == []


def test_a_volunteer_left_ringing_with_no_offer_is_available_again(
    numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.RINGING)
    settled = calls_reconcile(now=later())
    assert [(item.kind, item.now) for item in settled] == [("volunteer", Presence.AVAILABLE)]
    mei.refresh_from_db()
    assert mei.presence == Presence.AVAILABLE


def test_a_volunteer_left_on_a_call_with_no_call_goes_to_wrap_up(
    numbers: HotlineNumbers, mei: Volunteer
) -> None:
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.ON_CALL)
    calls_reconcile(now=later())
    mei.refresh_from_db()
    assert mei.presence == Presence.WRAP_UP


def test_a_volunteer_calling_back_is_freed_only_once_a_call_back_must_have_ended(
    numbers: HotlineNumbers, mei: Volunteer
) -> None:
    Volunteer.objects.filter(pk=mei.pk).update(
        presence=Presence.RINGING,
        presence_after_callback=Presence.AVAILABLE,
        presence_since=timezone.now(),
    )
    assert calls_reconcile(now=timezone.now() + timedelta(seconds=70)) == []
    calls_reconcile(now=later(minutes=10))
    mei.refresh_from_db()
    assert mei.presence == Presence.AVAILABLE


@pytest.fixture
def voicemail(network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers) -> Voicemail:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")  # nobody on duty: voicemail
    clock.advance(8)
    network.press(caller.sid, "#")
    return Voicemail.objects.get()


def test_a_volunteer_left_ringing_for_a_call_back_is_freed_once_the_provider_says_it_ended(
    network: PhoneNetwork, voicemail: Voicemail, mei: Volunteer
) -> None:
    go_available(mei)
    voicemail_call_back(voicemail=voicemail, volunteer=mei)
    leg = calls_for("client:mei").get()
    mei.refresh_from_db()
    assert mei.callback_leg_sid == leg.sid
    assert CALLER.lstrip("+") not in mei.callback_leg_sid  # the leg's id, not the number
    # Sooner than three offer timeouts: the provider, not the clock, tells.
    soon = timezone.now() + timedelta(seconds=70)
    assert calls_reconcile(now=soon) == []  # still ringing at the provider
    lose_callback(leg.sid, status="no-answer")
    settled = calls_reconcile(now=soon)
    assert [str(s) for s in settled] == [f"volunteer {mei.pk}: ringing -> available"]
    mei.refresh_from_db()
    assert mei.presence == Presence.AVAILABLE
    voicemail.refresh_from_db()
    assert voicemail.handled_at is None  # open for another try


def test_a_call_back_call_whose_end_was_never_reported_marks_the_caller_reached(
    network: PhoneNetwork, voicemail: Voicemail, mei: Volunteer
) -> None:
    go_available(mei)
    voicemail_call_back(voicemail=voicemail, volunteer=mei)
    leg = network.answer(calls_for("client:mei").get().sid)
    network.answer(calls_for(CALLER).get().sid)
    call = Call.objects.get(provider_sid=leg.sid)
    assert call.state == Call.State.CONNECTED
    assert calls_reconcile(now=later()) == []  # talking
    lose_callback(leg.sid)
    calls_reconcile(now=later(minutes=10))  # found live above: asked again once quiet
    call.refresh_from_db()
    assert call.state == Call.State.COMPLETED
    voicemail.refresh_from_db()
    assert voicemail.callback_outcome == "reached"
    assert voicemail.handled_at is not None
    assert bytes(voicemail.callback_number_sealed) == b""
    mei.refresh_from_db()
    assert mei.presence == Presence.WRAP_UP
    assert nobody_stuck() == []


def test_a_caller_on_hold_heard_from_lately_is_not_asked_about(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    ask = SimulatedProvider.call_state

    def counted(self: SimulatedProvider, *, leg_id: str) -> LegOutcome | None:
        asked.append(leg_id)
        return ask(self, leg_id=leg_id)

    monkeypatch.setattr(SimulatedProvider, "call_state", counted)
    go_available(mei)
    caller = caller_waiting(network)  # on hold, fetching the wait URL
    assert calls_reconcile(now=timezone.now() + timedelta(seconds=70)) == []
    assert caller.sid not in asked
    # Quiet for long: asked once, found live, then left alone again for a while.
    quiet_long = later(minutes=10)
    assert calls_reconcile(now=quiet_long) == []
    assert calls_reconcile(now=quiet_long + timedelta(seconds=30)) == []
    assert asked.count(caller.sid) == 1
    # Its end lost, once quiet again, it is settled.
    lose_callback(caller.sid)
    calls_reconcile(now=later(minutes=20))
    assert Call.objects.get(provider_sid=caller.sid).ended_at is not None


def test_a_second_run_finds_nothing_left(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    caller = talking(network, mei)
    lose_callback(caller.sid)
    assert len(calls_reconcile(now=later())) == 1
    assert calls_reconcile(now=later()) == []


def test_two_runs_at_once_settle_each_call_once(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer
) -> None:
    """Two workers' runs race (on PostgreSQL with row locks; SQLite takes turns)."""
    callers = [talking(network, mei), talking(network, lin)]
    for caller in callers:
        lose_callback(caller.sid)
    settled: list[str] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            settled.extend(str(item) for item in calls_reconcile(now=later()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for caller in callers:
        assert Call.objects.get(provider_sid=caller.sid).state == Call.State.COMPLETED
    for volunteer in (mei, lin):
        volunteer.refresh_from_db()
        assert volunteer.presence == Presence.WRAP_UP
    assert nobody_stuck() == []


def test_the_dry_run_says_what_it_would_settle_and_settles_nothing(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caller = talking(network, mei)
    lose_callback(caller.sid)
    an_hour_ago = timezone.now() - timedelta(hours=1)  # and last heard from then, on hold
    Call.objects.filter(provider_sid=caller.sid).update(
        started_at=an_hour_ago, heard_at=an_hour_ago
    )
    call_command("reconcile", "--dry-run")
    out = capsys.readouterr().out
    case_code = Call.objects.get(provider_sid=caller.sid).case_code
    assert f"call {case_code}: connected -> completed" in out
    assert "Would settle 1" in out
    assert CALLER not in out
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.CONNECTED
    call_command("reconcile")
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.COMPLETED


NUMBERS = itertools.count(10_000_000)


@hypothesis.settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    answered=st.booleans(),
    caller_lost=st.booleans(),
    volunteer_lost=st.booleans(),
    caller_status=st.sampled_from(["completed", "canceled", "failed"]),
)
def test_after_a_run_no_one_is_stuck_and_only_ended_legs_were_settled(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    answered: bool,
    caller_lost: bool,
    volunteer_lost: bool,
    caller_status: str,
) -> None:
    """Whichever legs ended without a word, one run leaves every volunteer ringing or
    talking on something live, and every call open exactly while its leg is live."""
    Call.objects.all().delete()
    SimCall.objects.all().delete()
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.AWAY, missed_offers=0)
    go_available(mei)
    # A new caller each time: screening would hold one caller ringing a dozen times.
    caller = caller_waiting(network, number=f"+86139{next(NUMBERS):08d}")
    leg = network.calls_for("client:mei").get()
    if answered:
        network.answer(leg.sid)
        network.press(leg.sid, "1")
    if caller_lost:
        lose_callback(caller.sid, status=caller_status)
    if volunteer_lost:
        lose_callback(leg.sid, status="completed" if answered else "no-answer")
    calls_reconcile(now=later())
    assert nobody_stuck() == []
    call = Call.objects.get(provider_sid=caller.sid)
    assert (call.ended_at is not None) == network.refresh(caller).ended
