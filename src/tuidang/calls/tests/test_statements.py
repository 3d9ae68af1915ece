"""How many SQL statements the webhooks a waiting caller sends most often cost: a hold
cycle every few seconds, and the language choice. Configuration comes from the cache once
read; nothing is read twice."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tuidang.calls import ivr
from tuidang.calls.models import Call
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, HotlineNumbers
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


@pytest.fixture
def busy_mei(mei: Volunteer) -> Volunteer:
    """On duty, but on another call: callers of Mandarin wait."""
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.ON_CALL)
    return mei


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def test_a_hold_cycle_costs_four_statements(
    network: PhoneNetwork, numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    call = Call.objects.get()
    assert call.state == Call.State.QUEUED
    ivr.on_hold(provider_sid=call.provider_sid)  # fills the caches
    with CaptureQueriesContext(connection) as captured:
        reply = ivr.on_hold(provider_sid=call.provider_sid)
    assert reply.steps  # the caller hears their place
    sql = statements(captured)
    # The call with its number, who is on duty or ready, the callers ahead, recent waits.
    assert len(sql) <= 4, "\n".join(sql)


def test_a_language_choice_without_anyone_ready_costs_three_statements(
    network: PhoneNetwork, numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    first = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")  # fills the caches
    second = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    with CaptureQueriesContext(connection) as captured:
        reply = ivr.language_chosen(provider_sid=second.sid, digits="1")
    assert reply.steps
    assert Call.objects.get(provider_sid=second.sid).state == Call.State.QUEUED
    sql = statements(captured)
    # The call, its UPDATE while it is still in the menu, who is ready: no transaction,
    # so on SQLite the writers' turn is the UPDATE alone.
    assert len(sql) <= 3, "\n".join(sql)


def test_queue_settings_changed_by_a_coordinator_apply_at_the_next_hold_cycle(
    network: PhoneNetwork, numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    from tuidang.calls.ivr import Gather
    from tuidang.calls.models import QueueConfig
    from tuidang.lib.languages import Language

    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    sid = Call.objects.get().provider_sid
    assert not any(isinstance(step, Gather) for step in ivr.on_hold(provider_sid=sid).steps)
    QueueConfig.objects.create(language=Language.MANDARIN, voicemail_after_seconds=0)
    # Offered to leave a message at once, though the settings before were cached.
    assert any(isinstance(step, Gather) for step in ivr.on_hold(provider_sid=sid).steps)


def _queued(network: PhoneNetwork, number: str) -> str:
    caller = network.dial(from_number=number, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    return caller.sid


def test_the_status_callback_of_a_waiting_caller_costs_three_statements(
    network: PhoneNetwork, numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    from tuidang.calls.ports import LegOutcome
    from tuidang.calls.services import call_status

    # Callers who held a while: screening has nothing to write of them when they hang up.
    first, sid = _queued(network, CALLER), _queued(network, "+8613912345678")
    call_status(provider_sid=first, outcome=LegOutcome.COMPLETED, sequence=1, duration=40)
    with CaptureQueriesContext(connection) as captured:
        call_status(provider_sid=sid, outcome=LegOutcome.COMPLETED, sequence=1, duration=40)
    assert Call.objects.get(provider_sid=sid).state == Call.State.ABANDONED
    sql = statements(captured)
    # The call, whether an offer rings for it, its UPDATE while it is as read: no
    # transaction, so on SQLite the writers' turn is the UPDATE alone.
    assert len(sql) <= 3, "\n".join(sql)


def test_a_key_pressed_on_hold_to_stay_costs_one_statement(
    network: PhoneNetwork, numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    ivr.hold_key_pressed(provider_sid=_queued(network, CALLER), digits="2")  # fills the caches
    sid = _queued(network, "+8613912345678")
    with CaptureQueriesContext(connection) as captured:
        reply = ivr.hold_key_pressed(provider_sid=sid, digits="2")
    assert reply.steps
    sql = statements(captured)
    # The call; its number comes from the cache.
    assert len(sql) <= 1, "\n".join(sql)


def test_the_how_heard_answer_costs_three_statements(
    numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    from tuidang.calls.models import HotlineNumber, HowHeard

    HotlineNumber.objects.create(
        e164="+18005550101", name="Leaflets", how_heard=HowHeard.UNKNOWN, ask_how_heard=True
    )
    for n, sid in enumerate(["CA1", "CA2"]):
        ivr.incoming_call(provider_sid=sid, caller_from=f"+861391234567{n}", dialled="+18005550101")
        ivr.language_chosen(provider_sid=sid, digits="1")
    ivr.how_heard_answered(provider_sid="CA1", digits="2")  # fills the caches
    with CaptureQueriesContext(connection) as captured:
        reply = ivr.how_heard_answered(provider_sid="CA2", digits="2")
    assert reply.steps
    call = Call.objects.get(provider_sid="CA2")
    assert call.state == Call.State.QUEUED and call.how_heard != HowHeard.UNKNOWN
    sql = statements(captured)
    # The call, one UPDATE (the answer and the queue) while it is still in the menu, who
    # is ready.
    assert len(sql) <= 3, "\n".join(sql)


def test_leaving_the_queue_for_voicemail_costs_three_statements(
    network: PhoneNetwork, numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    ivr.queue_left(provider_sid=_queued(network, CALLER), for_voicemail=True)  # fills the caches
    sid = _queued(network, "+8613912345678")
    with CaptureQueriesContext(connection) as captured:
        reply = ivr.queue_left(provider_sid=sid, for_voicemail=True)
    assert reply.steps
    assert Call.objects.get(provider_sid=sid).state == Call.State.VOICEMAIL
    sql = statements(captured)
    # The call, whether an offer rings for it, its UPDATE while it is as read: no
    # transaction, so on SQLite the writers' turn is the UPDATE alone.
    assert len(sql) <= 3, "\n".join(sql)


def test_a_voicemail_recorded_is_one_insert(
    network: PhoneNetwork, numbers: HotlineNumbers, busy_mei: Volunteer
) -> None:
    from unittest import mock

    from tuidang.calls import tasks
    from tuidang.calls.models import Voicemail

    sids = [_queued(network, CALLER), _queued(network, "+8613912345678")]
    for sid in sids:
        ivr.queue_left(provider_sid=sid, for_voicemail=True)
    url = "https://api.twilio.com/recordings/RE1"
    with mock.patch.object(tasks, "store_voicemail") as store:
        ivr.voicemail_recorded(
            provider_sid=sids[0], recording_id="RE0", recording_url=url, duration=20,
            caller_from=CALLER,
        )  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            reply = ivr.voicemail_recorded(
                provider_sid=sids[1], recording_id="RE1", recording_url=url, duration=20,
                caller_from="+8613912345678",
            )  # fmt: skip
    assert reply.steps and store.enqueue.call_count == 2
    voicemail = Voicemail.objects.get(recording_sid="RE1")
    assert voicemail.callback_number == "+8613912345678"
    sql = statements(captured)
    # The call, whether the recording is known (a retry), its INSERT with the sealed number;
    # fetching it is a task (not run here).
    assert len(sql) <= 3, "\n".join(sql)
    assert not any(CALLER[1:] in q or "8613912345678" in q for q in sql)  # sealed


def test_a_hired_caller_blocked_on_arrival_costs_seven_statements(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    from tuidang.lib.phone import caller_key
    from tuidang.screening.models import Block
    from tuidang.testing.screening import HIRED, score

    # Scores enough for the message policy, and no block yet.
    score(CALLER, 7)
    network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)  # fills the caches
    score(HIRED, 7)
    with CaptureQueriesContext(connection) as captured:
        reply = ivr.incoming_call(provider_sid="CA2", caller_from=HIRED, dialled=BANKNOTES_LINE)
    assert reply.steps
    assert Call.objects.get(provider_sid="CA2").state == Call.State.SCREENED
    assert Block.objects.get(caller_key=caller_key(HIRED)).policy == "message"
    sql = statements(captured)
    # What is known of the caller; then BEGIN, the block, its event, the score row's copy
    # of it, the call, and COMMIT. PostgreSQL locks the score row before the copy.
    assert len(sql) <= 7 + connection.features.has_select_for_update, "\n".join(sql)
