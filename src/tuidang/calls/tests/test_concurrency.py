"""100 callers at once and 10 volunteers: no call lost, no volunteer offered two at once.

Threads drive the simulated network in parallel, each with its own database connection,
so the row locks in routing are what keeps the invariants (on PostgreSQL real row locks,
on SQLite the write lock that every transaction takes at BEGIN IMMEDIATE).
"""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import pytest
from django.db import connections, transaction
from django.utils import timezone

from tuidang.calls.models import Call, Offer
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    Clock,
    HotlineNumbers,
    go_available,
    make_volunteer,
)
from tuidang.volunteers.models import Presence, Volunteer
from tuidang.volunteers.services import volunteer_set_presence

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

CALLERS = 100
VOLUNTEERS = 10
DEADLINE_SECONDS = 240


T = TypeVar("T")


def in_thread(function: Callable[..., T]) -> Callable[..., T]:
    def run(*args: Any) -> T:
        try:
            return function(*args)
        finally:
            connections.close_all()

    return run


@in_thread
def call_the_hotline(network: PhoneNetwork, index: int) -> str:
    """Caller ``index`` dials the banknotes line and presses 1 for Mandarin; returns the
    call's sid."""
    caller = network.dial(from_number=f"+86139{index:08d}", to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    sid: str = caller.sid
    return sid


def on_duty(network: PhoneNetwork) -> list[Volunteer]:
    """VOLUNTEERS Mandarin volunteers, available; the network on real time from now, as
    the threads race for real."""
    volunteers = [make_volunteer(f"v{i}", [Language.MANDARIN]) for i in range(VOLUNTEERS)]
    for volunteer in volunteers:
        go_available(volunteer)
    network.clock = timezone.now
    return volunteers


def each_ring(
    network: PhoneNetwork,
    volunteer: Volunteer,
    most_ringing_at_once: dict[str, int],
    while_quiet: Callable[[], None] = lambda: None,
) -> Iterator[str]:
    """The sid of the leg ringing on the volunteer's phone, each time it rings, until no
    call is left open (or DEADLINE_SECONDS have passed); ``while_quiet`` runs each time it
    does not. Notes the most legs that rang at once on each phone."""
    address = volunteer.phone_address
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        ringing = list(network.calls_for(address).filter(status="ringing"))
        most_ringing_at_once[address] = max(most_ringing_at_once.get(address, 0), len(ringing))
        if ringing:
            yield ringing[0].sid
            continue
        if not Call.objects.filter(ended_at__isnull=True).exists():
            return
        while_quiet()
        time.sleep(0.01)


def test_100_concurrent_calls_with_10_volunteers(
    numbers: HotlineNumbers, network: PhoneNetwork
) -> None:
    volunteers = on_duty(network)

    with ThreadPoolExecutor(max_workers=16) as pool:
        sids = list(pool.map(partial(call_the_hotline, network), range(CALLERS)))

    assert Call.objects.filter(provider_sid__in=sids).count() == CALLERS
    pending = list(Offer.objects.filter(state=Offer.State.PENDING))
    assert len(pending) == VOLUNTEERS
    assert len({offer.volunteer_id for offer in pending}) == VOLUNTEERS
    assert Call.objects.filter(state=Call.State.QUEUED).count() == CALLERS - VOLUNTEERS

    most_ringing_at_once: dict[str, int] = {}

    @in_thread
    def answer_calls(volunteer: Volunteer) -> int:
        served = 0
        for ringing in each_ring(network, volunteer, most_ringing_at_once):
            leg = network.answer(ringing)
            network.press(leg.sid, "1")
            # Whoever presses 1 takes the caller at the front of the queue; an offer whose
            # caller was taken meanwhile rang on for another, so every press connects.
            call = Call.objects.get(volunteer=volunteer, state=Call.State.CONNECTED)
            network.end_call(call.provider_sid)  # the conversation ends
            volunteer.refresh_from_db()
            assert volunteer.presence == Presence.WRAP_UP
            volunteer_set_presence(volunteer=volunteer, presence=Presence.AVAILABLE)
            served += 1
        return served

    with ThreadPoolExecutor(max_workers=VOLUNTEERS) as pool:
        served = list(pool.map(answer_calls, volunteers))

    assert sum(served) == CALLERS
    assert Call.objects.filter(state=Call.State.COMPLETED).count() == CALLERS
    # Every caller was bridged once, to one volunteer, through one accepted offer.
    assert Offer.objects.filter(state=Offer.State.ACCEPTED).count() == CALLERS
    # And no volunteer's phone was hung up mid-whisper: every offer made was taken.
    assert not Offer.objects.exclude(state=Offer.State.ACCEPTED).exists()
    for sid in sids:
        transcript = network.refresh_sid(sid).transcript
        assert [line["text"] for line in transcript].count("Connected") == 1
    assert set(most_ringing_at_once.values()) == {1}
    assert all(count > 0 for count in served)


def test_a_keypress_while_its_offer_moves_to_another_caller_takes_that_caller(
    monkeypatch: pytest.MonkeyPatch,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    """Lin presses 1 while Mei's bridge is moving Lin's offer to the second caller.

    On PostgreSQL Lin's request reads the offer's old call, waits for its lock, then finds
    the offer gone from it; it lets go and locks the call the offer is for now."""
    from tuidang.calls.services import offers

    go_available(lin)
    go_available(mei)
    first = network.dial(from_number="+8613900000001", to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    second = network.dial(from_number="+8613900000002", to_number=BANKNOTES_LINE)
    network.press(second.sid, "1")
    lins_leg = network.answer(network.calls_for("client:lin").get().sid)
    meis_leg = network.answer(network.calls_for("client:mei").get().sid)

    swapping = threading.Event()
    swap_offers = offers._swap_offers

    def slow_swap(**kwargs: Any) -> None:
        swap_offers(**kwargs)
        swapping.set()
        time.sleep(0.5)  # still inside call_connect's transaction, both calls locked

    monkeypatch.setattr(offers, "_swap_offers", slow_swap)

    @in_thread
    def mei_accepts() -> None:
        network.press(meis_leg.sid, "1")

    with ThreadPoolExecutor(max_workers=1) as pool:
        meis_press = pool.submit(mei_accepts)
        assert swapping.wait(10)
        network.press(lins_leg.sid, "1")
        meis_press.result()

    assert Call.objects.get(provider_sid=first.sid).volunteer == mei
    assert Call.objects.get(provider_sid=second.sid).volunteer == lin
    assert set(Offer.objects.values_list("state", flat=True)) == {Offer.State.ACCEPTED}


def test_call_backs_started_while_callers_arrive_never_ring_a_phone_twice(
    numbers: HotlineNumbers, network: PhoneNetwork, clock: Clock
) -> None:
    """Ten volunteers start a call back while twenty callers arrive at once: each phone
    rings either for the call back or for one offer, never both, and no caller is lost."""
    from tuidang.calls.models import Voicemail
    from tuidang.calls.services import VolunteerBusy, voicemail_call_back

    for index in range(3):  # messages left while nobody is on duty
        caller = network.dial(from_number=f"+86138{index:08d}", to_number=BANKNOTES_LINE)
        network.press(caller.sid, "1")
        clock.advance(8)
        network.press(caller.sid, "#")
    voicemails = list(Voicemail.objects.order_by("pk"))
    volunteers = on_duty(network)

    @in_thread
    def call_back(index: int) -> bool:
        try:
            voicemail_call_back(
                voicemail=voicemails[index % len(voicemails)], volunteer=volunteers[index]
            )
        except VolunteerBusy:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        callers = [pool.submit(call_the_hotline, network, index) for index in range(20)]
        backs = [pool.submit(call_back, index) for index in range(VOLUNTEERS)]
        sids = [future.result() for future in callers]
        rang_back = [future.result() for future in backs]

    offered = set(
        Offer.objects.filter(state=Offer.State.PENDING).values_list("volunteer_id", flat=True)
    )
    for volunteer, calling_back in zip(volunteers, rang_back, strict=True):
        legs = network.calls_for(volunteer.phone_address).filter(status="ringing")
        assert legs.count() == 1, volunteer  # one call on the phone, never two
        assert calling_back != (volunteer.pk in offered), volunteer
    assert Call.objects.filter(provider_sid__in=sids).count() == 20
    assert (
        Call.objects.filter(
            provider_sid__in=sids, state__in=[Call.State.QUEUED, Call.State.OFFERED]
        ).count()
        == 20
    )


def test_100_calls_handed_between_10_volunteers_lose_no_caller_and_ring_no_phone_twice(
    numbers: HotlineNumbers, network: PhoneNetwork
) -> None:
    """Every other caller a volunteer takes is handed on (cold) to whoever is free, while
    the others keep answering: each call ends with someone, each phone rings with one
    call at a time, and a transfer either reaches its colleague or gives the caller back."""
    from tuidang.calls.models import Transfer
    from tuidang.calls.services import TransferRefused, transfer_start

    volunteers = on_duty(network)

    with ThreadPoolExecutor(max_workers=16) as pool:
        sids = list(pool.map(partial(call_the_hotline, network), range(CALLERS)))

    most_ringing_at_once: dict[str, int] = {}

    @in_thread
    def answer_calls(volunteer: Volunteer) -> int:
        handed_on = 0

        def back_from_wrap_up() -> None:
            volunteer.refresh_from_db()
            if volunteer.presence == Presence.WRAP_UP:
                volunteer_set_presence(volunteer=volunteer, presence=Presence.AVAILABLE)

        for ringing in each_ring(network, volunteer, most_ringing_at_once, back_from_wrap_up):
            network.press(network.answer(ringing).sid, "1")
            call = (
                Call.objects.filter(volunteer=volunteer, state=Call.State.CONNECTED)
                .exclude(transfers__state__in=["ringing", "consulting"])
                .order_by("-connected_at")
                .first()
            )
            if call is None:
                continue  # a transfer that ended before the key was pressed
            colleague = (
                Volunteer.objects.filter(presence=Presence.AVAILABLE)
                .exclude(pk=volunteer.pk)
                .first()
            )
            if colleague is not None and not call.transfers.exists() and call.pk % 2:
                try:
                    transfer_start(
                        call=call, volunteer=volunteer, to_volunteer_id=colleague.pk, warm=False
                    )
                    handed_on += 1
                    continue
                except TransferRefused:
                    pass  # the colleague was taken meanwhile: this volunteer goes on
            network.end_call(call.provider_sid)
        return handed_on

    with ThreadPoolExecutor(max_workers=VOLUNTEERS) as pool:
        handed_on = list(pool.map(answer_calls, volunteers))

    assert Call.objects.filter(provider_sid__in=sids, state=Call.State.COMPLETED).count() == (
        CALLERS
    )
    transfers = Transfer.objects.all()
    assert transfers.count() == sum(handed_on) > 0
    assert not transfers.filter(state__in=["ringing", "consulting"]).exists()
    # A transfer taken left the call with its colleague; one not taken went to the queue.
    for transfer in transfers.filter(state="completed"):
        assert transfer.call.volunteer_id == transfer.to_volunteer_id
    assert set(most_ringing_at_once.values()) == {1}
    assert not Offer.objects.filter(state=Offer.State.PENDING).exists()
    assert not Volunteer.objects.filter(presence=Presence.RINGING).exists()


def while_another_writer_holds(call: Call, asked_again: Callable[[], T]) -> T:
    """``asked_again``'s answer, in a thread of its own, while another holds the writers'
    turn (on SQLite every writer's, on PostgreSQL the call's row) for longer than the
    answer may take: the answer must come from what is stored."""
    holding, done = threading.Event(), threading.Event()

    @in_thread
    def another_writer() -> None:
        with transaction.atomic():
            Call.objects.select_for_update().get(pk=call.pk)
            holding.set()
            done.wait(20)

    with ThreadPoolExecutor(max_workers=2) as pool:
        writer = pool.submit(another_writer)
        assert holding.wait(10)
        again = pool.submit(in_thread(asked_again))
        try:
            return again.result(timeout=5)
        finally:
            done.set()
            writer.result()


def test_a_bridge_asked_for_again_is_answered_while_another_writer_holds_the_call(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    """The provider asks again for a bridge it has made: the answer comes from what is
    stored, without waiting for the writers' turn (on SQLite every writer's, on
    PostgreSQL the call's row), which a flood may keep busy."""
    from tuidang.calls.services import call_connect

    go_available(mei)
    caller = network.dial(from_number="+8613900000001", to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    meis_leg = network.answer(network.calls_for("client:mei").get().sid)
    network.press(meis_leg.sid, "1")
    connected = Call.objects.get(provider_sid=caller.sid)
    assert (connected.state, connected.volunteer) == (Call.State.CONNECTED, mei)

    answered = while_another_writer_holds(
        connected, lambda: call_connect(provider_sid=caller.sid, leg_sid=meis_leg.sid)
    )
    assert (answered.pk, answered.state) == (connected.pk, Call.State.CONNECTED)


def test_a_keypress_asked_for_again_is_answered_while_another_writer_holds_the_call(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    """The provider sends again the volunteer's 1 that accepted their offer: the answer
    (to dial the queue) comes from what is stored, without waiting for the writers'
    turn."""
    from tuidang.calls.services import offer_respond

    go_available(mei)
    caller = network.dial(from_number="+8613900000007", to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    meis_leg = network.answer(network.calls_for("client:mei").get().sid)
    network.press(meis_leg.sid, "1")
    offer = Offer.objects.get(volunteer=mei)
    assert offer.state == Offer.State.ACCEPTED

    answered = while_another_writer_holds(
        offer.call,
        lambda: offer_respond(token=offer.token, digits="1", leg_sid=meis_leg.sid),
    )
    assert answered is not None
    assert (answered.pk, answered.state, answered.call.language) == (
        offer.pk, Offer.State.ACCEPTED, Language.MANDARIN,
    )  # fmt: skip


def test_an_incoming_call_asked_for_again_is_answered_while_another_writer_holds_the_turn(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    """The provider asks again for a call it has announced (its first answer was slow):
    the answer comes from the call stored, without waiting behind the writers (on SQLite
    every writer's turn) for an INSERT that the CallSid, unique, would refuse."""
    from tuidang.calls.services import call_receive

    caller = network.dial(from_number="+8613900000002", to_number=BANKNOTES_LINE)
    stored = Call.objects.get(provider_sid=caller.sid)

    answered = while_another_writer_holds(
        stored,
        lambda: call_receive(
            provider_sid=caller.sid, caller_from="+8613900000002", dialled=BANKNOTES_LINE
        ),
    )
    assert answered is not None
    assert (answered.pk, answered.state) == (stored.pk, Call.State.IVR)
    assert Call.objects.filter(provider_sid=caller.sid).count() == 1


def test_a_bridge_asked_for_after_the_call_ended_leaves_its_record_as_it_ended(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    """The caller hung up and its status callback came first; the provider's request for
    the bridge, asked again, comes after: the call stays ended, with the time it was
    connected, and its volunteer's desk does not show it on a call again."""
    from tuidang.calls.services import call_connect

    go_available(mei)
    caller = network.dial(from_number="+8613900000003", to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    meis_leg = network.answer(network.calls_for("client:mei").get().sid)
    network.press(meis_leg.sid, "1")
    network.hang_up(caller.sid)
    ended = Call.objects.get(provider_sid=caller.sid)
    assert ended.ended_at is not None and ended.state != Call.State.CONNECTED

    late = call_connect(provider_sid=caller.sid, leg_sid=meis_leg.sid)

    stored = Call.objects.get(pk=ended.pk)
    assert (late.pk, late.state) == (ended.pk, ended.state)
    assert (stored.state, stored.connected_at, stored.ended_at) == (
        ended.state, ended.connected_at, ended.ended_at,
    )  # fmt: skip
    mei.refresh_from_db()
    assert mei.presence != Presence.ON_CALL


def between_read_and_write(
    monkeypatch: pytest.MonkeyPatch, sid: str, meanwhile: Callable[[], object]
) -> None:
    """Run ``meanwhile`` (another request of the same call) once, right after the next
    request of call ``sid`` has read the call without a lock, before it writes."""
    from tuidang.calls import statements

    read = statements.call_by_sid
    pending = [meanwhile]

    def read_then_let_another_request_in(provider_sid: str, **kwargs: Any) -> Call | None:
        call = read(provider_sid, **kwargs)
        if provider_sid == sid and not kwargs.get("lock") and pending:
            pending.pop()()
        return call

    monkeypatch.setattr(statements, "call_by_sid", read_then_let_another_request_in)


ASKING_LINE = "+18005550101"


@pytest.fixture
def asking_line(numbers: HotlineNumbers) -> str:
    from tuidang.calls.models import HotlineNumber, HowHeard

    HotlineNumber.objects.create(
        e164=ASKING_LINE, name="Leaflets", how_heard=HowHeard.UNKNOWN, ask_how_heard=True
    )
    return ASKING_LINE


@pytest.mark.parametrize("menu", ["language", "how-heard"])
def test_a_caller_who_hangs_up_while_their_menu_answer_is_saved_stays_ended(
    network: PhoneNetwork, asking_line: str, monkeypatch: pytest.MonkeyPatch, menu: str
) -> None:
    """The caller's key and their hanging up cross: the status callback ends the call
    between the menu's read of it and its write. The call stays ended and out of the
    queue, where a write that did not look again would queue a caller who is gone."""
    from tuidang.calls import ivr

    line = asking_line if menu == "how-heard" else BANKNOTES_LINE
    caller = network.dial(from_number="+8613900000004", to_number=line)
    if menu == "how-heard":
        ivr.language_chosen(provider_sid=caller.sid, digits="1")
    between_read_and_write(monkeypatch, caller.sid, lambda: network.hang_up(caller.sid))

    if menu == "language":
        reply = ivr.language_chosen(provider_sid=caller.sid, digits="1")
    else:
        reply = ivr.how_heard_answered(provider_sid=caller.sid, digits="2")

    stored = Call.objects.get(provider_sid=caller.sid)
    assert stored.state == Call.State.DISCONNECTED and stored.ended_at is not None
    assert stored.queued_at is None
    assert reply.steps  # answered: the provider, whose caller is gone, ignores it


def test_a_language_choice_asked_for_twice_at_once_queues_the_caller_once(
    network: PhoneNetwork, numbers: HotlineNumbers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider asks again for the language step while its first request is between
    its read and its write: the caller joins the queue once, at the time the first
    request to write put them there, and both requests answer with the queue."""
    from tuidang.calls import ivr
    from tuidang.calls.ivr import Enqueue

    caller = network.dial(from_number="+8613900000005", to_number=BANKNOTES_LINE)
    answers, queued_at = [], []

    def the_retry() -> None:
        answers.append(ivr.language_chosen(provider_sid=caller.sid, digits="1"))
        queued_at.append(Call.objects.get(provider_sid=caller.sid).queued_at)

    between_read_and_write(monkeypatch, caller.sid, the_retry)
    late = ivr.language_chosen(provider_sid=caller.sid, digits="1")

    stored = Call.objects.get(provider_sid=caller.sid)
    assert stored.state == Call.State.QUEUED and stored.language == Language.MANDARIN
    assert queued_at == [stored.queued_at] and stored.queued_at is not None
    for reply in (*answers, late):
        assert any(isinstance(step, Enqueue) for step in reply.steps)


@pytest.mark.parametrize("leaves", ["hanging up", "for voicemail"])
def test_a_waiting_caller_who_leaves_as_a_volunteer_is_rung_for_them_frees_the_volunteer(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    monkeypatch: pytest.MonkeyPatch,
    leaves: str,
) -> None:
    """The caller leaves the queue (hangs up, or goes to leave a message); the request
    reads them waiting with no offer ringing, and before it writes, a volunteer goes
    available and is rung for them. The call leaves the queue as the caller did, and the
    volunteer's phone is not left ringing for a caller who is not there."""
    from tuidang.calls import statements
    from tuidang.calls.ports import LegOutcome
    from tuidang.calls.services import call_status, call_to_voicemail

    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.WRAP_UP)  # on duty, busy
    caller = network.dial(from_number="+8613900000006", to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.QUEUED
    read_offers = statements.has_pending_offers

    def read_then_ring_mei(call: Call) -> bool:
        ringing = read_offers(call)
        go_available(mei)
        return ringing

    # The volunteer is rung after the request's last read (whether an offer rings),
    # before its write.
    monkeypatch.setattr(statements, "has_pending_offers", read_then_ring_mei)

    if leaves == "hanging up":
        call_status(provider_sid=caller.sid, outcome=LegOutcome.COMPLETED, sequence=1, duration=40)
    else:
        assert call_to_voicemail(provider_sid=caller.sid) is not None

    stored = Call.objects.get(provider_sid=caller.sid)
    if leaves == "hanging up":
        assert stored.state == Call.State.ABANDONED and stored.ended_at is not None
    else:
        assert stored.state == Call.State.VOICEMAIL and stored.ended_at is None
    offer = Offer.objects.get(call=stored)
    assert offer.volunteer == mei and offer.state == Offer.State.CANCELED
    mei.refresh_from_db()
    assert mei.presence != Presence.RINGING
