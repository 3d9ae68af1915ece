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


def test_a_language_choice_without_anyone_ready_costs_five_statements(
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
    # BEGIN (SQLite: IMMEDIATE), the call locked, its UPDATE, COMMIT, who is ready.
    assert len(sql) <= 5, "\n".join(sql)


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
