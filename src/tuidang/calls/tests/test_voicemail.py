"""Voicemail: offered after a long hold, fetched into encrypted storage, gone at the provider."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tuidang.calls import recordings
from tuidang.calls.models import Call, QueueConfig, Voicemail
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, Clock, HotlineNumbers, go_available
from tuidang.testing.phone import said
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_a_message_left_is_stored_encrypted_and_deleted_at_the_provider(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers
) -> None:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")  # no volunteer on duty: straight to voicemail
    clock.advance(12)
    caller = network.press(caller.sid, "#")
    assert caller.status == "completed"
    voicemail = Voicemail.objects.get()
    assert voicemail.state == Voicemail.State.STORED
    assert voicemail.call.state == Call.State.VOICEMAIL
    assert voicemail.duration_seconds == 12
    assert voicemail.provider_url == ""
    assert network.recording(voicemail.recording_sid).deleted
    audio = recordings.load(voicemail)
    assert audio.startswith(b"RIFF")
    sealed = recordings.read_sealed(voicemail.stored_name)
    assert b"RIFF" not in sealed and b"WAVE" not in sealed


def test_after_a_long_hold_the_caller_is_offered_voicemail_and_can_take_it(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    QueueConfig.objects.create(language=Language.MANDARIN, voicemail_after_seconds=120)
    go_available(mei)
    first = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    leg = network.answer(network.calls_for("client:mei").get().sid)
    network.press(leg.sid, "1")  # Mei is busy with the first caller
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    caller = network.press(caller.sid, "1")
    assert "请按1" not in said(caller).split("普通话请按1")[-1]
    Call.objects.filter(provider_sid=caller.sid).update(
        queued_at=timezone.now() - timedelta(seconds=121)
    )
    clock.advance(16)
    network.tick()  # the wait URL again, now with the offer
    caller = network.refresh(caller)
    assert "如果您想留言，请按1" in said(caller)
    caller = network.press(caller.sid, "1")
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.VOICEMAIL
    assert "请在提示音后留言" in said(caller)
    clock.advance(5)
    network.hang_up(caller.sid)  # hanging up ends the recording, as on a real phone
    assert Voicemail.objects.get().duration_seconds == 5


def test_another_key_on_hold_keeps_the_caller_waiting(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    QueueConfig.objects.create(language=Language.MANDARIN, voicemail_after_seconds=0)
    go_available(mei)
    first = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    network.press(network.answer(network.calls_for("client:mei").get().sid).sid, "1")
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    caller = network.press(caller.sid, "1")
    caller = network.press(caller.sid, "5")
    assert "请继续等候" in said(caller)
    assert Call.objects.get(provider_sid=caller.sid).state == Call.State.QUEUED
    assert caller.queue_name == "cmn"


def test_the_hold_message_gives_an_estimated_wait_once_there_is_history(
    network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    first = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    Call.objects.update(queued_at=timezone.now() - timedelta(minutes=3))
    network.press(network.answer(network.calls_for("client:mei").get().sid).sid, "1")
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    caller = network.press(caller.sid, "1")
    assert "预计等候约3分钟" in said(caller)
