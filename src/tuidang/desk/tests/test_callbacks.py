import pytest
from django.test import Client
from django.urls import reverse

from tuidang.calls.case_codes import format_case_code
from tuidang.calls.models import Voicemail
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    CALLER,
    PASSWORD,
    Clock,
    HotlineNumbers,
    make_volunteer,
)
from tuidang.volunteers.models import Role, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


@pytest.fixture
def voicemail(network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers) -> Voicemail:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")  # nobody on duty: voicemail
    clock.advance(8)
    network.press(caller.sid, "#")
    return Voicemail.objects.get()


def test_a_mandarin_volunteer_hears_a_mandarin_message_and_marks_it_handled(
    client: Client, voicemail: Voicemail, mei: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    page = client.get(reverse("desk:callbacks"))
    assert format_case_code(voicemail.call.case_code) in page.text
    audio = client.get(reverse("desk:callback-audio", args=[voicemail.public_id]))
    assert audio["Content-Type"] == "audio/wav"
    assert audio.content.startswith(b"RIFF")
    assert "no-store" in audio["Cache-Control"]
    client.post(reverse("desk:callback-handled", args=[voicemail.public_id]))
    listed = client.get(reverse("desk:callbacks")).text
    assert format_case_code(voicemail.call.case_code) not in listed


def test_a_volunteer_of_another_language_neither_sees_nor_hears_it(
    client: Client, voicemail: Voicemail, wing: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    page = client.get(reverse("desk:callbacks")).text
    assert format_case_code(voicemail.call.case_code) not in page
    audio_url = reverse("desk:callback-audio", args=[voicemail.public_id])
    assert client.get(audio_url).status_code == 404


def test_a_coordinator_sees_every_request_whatever_their_languages(
    client: Client, voicemail: Voicemail
) -> None:
    make_volunteer("olga", [Language.ENGLISH], role=Role.COORDINATOR)
    client.login(username="olga", password=PASSWORD)
    assert format_case_code(voicemail.call.case_code) in client.get(reverse("desk:callbacks")).text


def test_anonymous_visitors_cannot_fetch_a_recording(client: Client, voicemail: Voicemail) -> None:
    response = client.get(reverse("desk:callback-audio", args=[voicemail.public_id]))
    assert response.status_code == 302


def test_a_volunteer_calls_back_through_the_hotlines_number_and_the_outcome_is_kept(
    client: Client, network: PhoneNetwork, voicemail: Voicemail, mei: Volunteer
) -> None:
    from tuidang.telephony.simulator.engine import calls_for
    from tuidang.testing.personas import CALLER as CALLER_NUMBER

    assert voicemail.callback_number == CALLER_NUMBER
    assert CALLER_NUMBER.encode() not in bytes(voicemail.callback_number_sealed)
    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:callback-call", args=[voicemail.public_id]))
    leg = network.answer(calls_for("client:mei").get().sid)
    assert "Calling back the caller of case" in " ".join(line["text"] for line in leg.transcript)
    # The caller's phone rings, showing the hotline's number, not the volunteer's.
    ringing = calls_for(CALLER_NUMBER).get()
    assert ringing.from_number == voicemail.call.hotline_number.e164
    network.answer(ringing.sid)
    network.hang_up(ringing.sid)
    voicemail.refresh_from_db()
    assert voicemail.callback_outcome == "reached"
    assert voicemail.handled_at is not None
    assert bytes(voicemail.callback_number_sealed) == b""  # reached: the number is gone


def test_a_call_back_nobody_answers_stays_open(
    client: Client, network: PhoneNetwork, clock: Clock, voicemail: Voicemail, mei: Volunteer
) -> None:
    from tuidang.telephony.simulator.engine import calls_for
    from tuidang.testing.personas import CALLER as CALLER_NUMBER

    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:callback-call", args=[voicemail.public_id]))
    network.answer(calls_for("client:mei").get().sid)
    assert calls_for(CALLER_NUMBER).count() == 1
    clock.advance(31)
    network.tick()
    voicemail.refresh_from_db()
    assert voicemail.callback_outcome == "no_answer"
    assert voicemail.handled_at is None
    assert voicemail.callback_number == CALLER_NUMBER
    page = client.get(reverse("desk:callbacks")).text
    assert "No answer" in page


def test_a_caller_reached_by_a_call_back_is_on_the_desk_and_recorded_when_the_volunteer_hangs_up(
    client: Client, network: PhoneNetwork, voicemail: Voicemail, mei: Volunteer
) -> None:
    from tuidang.telephony.simulator.engine import calls_for
    from tuidang.testing.personas import CALLER as CALLER_NUMBER

    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:callback-call", args=[voicemail.public_id]))
    leg = network.answer(calls_for("client:mei").get().sid)
    network.answer(calls_for(CALLER_NUMBER).get().sid)
    desk = client.get(reverse("desk:desk")).text
    assert "No call in front of you" not in desk
    assert "On a call" in desk
    assert "Record renunciations" in desk
    # The volunteer puts their own phone down first.
    network.hang_up(leg.sid)
    voicemail.refresh_from_db()
    assert voicemail.callback_outcome == "reached"
    assert bytes(voicemail.callback_number_sealed) == b""
    desk = client.get(reverse("desk:desk")).text
    assert "Finish wrap-up" in desk
    assert "Record renunciations" in desk


def test_the_volunteers_phone_never_shows_the_number_it_calls_back(
    client: Client, network: PhoneNetwork, voicemail: Voicemail, mei: Volunteer
) -> None:
    from tuidang.telephony.simulator.engine import calls_for
    from tuidang.testing.personas import CALLER as CALLER_NUMBER

    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:callback-call", args=[voicemail.public_id]))
    network.answer(calls_for("client:mei").get().sid)
    phone = client.get(reverse("simulator:phone")).text
    assert CALLER_NUMBER not in phone
    assert CALLER_NUMBER[-8:] not in phone


def test_a_volunteer_ringing_for_a_call_back_is_offered_no_waiting_caller_until_it_ends(
    client: Client, network: PhoneNetwork, clock: Clock, voicemail: Voicemail, mei: Volunteer
) -> None:
    from tuidang.calls.models import Call, Offer
    from tuidang.telephony.simulator.engine import calls_for
    from tuidang.testing.personas import go_available

    go_available(mei)
    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:callback-call", args=[voicemail.public_id]))
    waiting = network.dial(from_number="+8613900000077", to_number=BANKNOTES_LINE)
    network.press(waiting.sid, "1")
    # Mei's phone rings for the call back alone; the new caller waits.
    assert calls_for("client:mei").filter(status="ringing").count() == 1
    assert not Offer.objects.exists()
    network.answer(calls_for("client:mei").get().sid)
    network.tick()
    assert not Offer.objects.exists()  # still not while the caller's phone rings
    clock.advance(31)  # the caller called back does not answer
    network.tick()
    # Mei's call back is over: she is offered the caller who waited.
    offer = Offer.objects.get()
    assert offer.volunteer == mei
    assert offer.call == Call.objects.get(provider_sid=waiting.sid)


def test_a_call_back_refused_while_the_volunteers_phone_already_rings(
    client: Client, network: PhoneNetwork, voicemail: Voicemail, mei: Volunteer
) -> None:
    from tuidang.telephony.simulator.engine import calls_for
    from tuidang.testing.personas import go_available

    go_available(mei)
    caller = network.dial(from_number="+8613900000077", to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")  # an offer rings on Mei's phone
    client.login(username="mei", password=PASSWORD)
    page = client.post(reverse("desk:callback-call", args=[voicemail.public_id]), follow=True)
    assert "already ringing or on a call" in page.text
    assert calls_for("client:mei").count() == 1
    assert calls_for(CALLER).count() == 0


def test_an_away_volunteer_whose_call_back_reaches_no_one_stays_away(
    client: Client, network: PhoneNetwork, clock: Clock, voicemail: Voicemail, mei: Volunteer
) -> None:
    from tuidang.telephony.simulator.engine import calls_for
    from tuidang.volunteers.models import Presence

    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:callback-call", args=[voicemail.public_id]))
    mei.refresh_from_db()
    assert mei.presence == Presence.RINGING
    clock.advance(31)  # Mei does not answer her own phone
    network.tick()
    assert calls_for("client:mei").filter(status="ringing").count() == 0
    mei.refresh_from_db()
    assert mei.presence == Presence.AWAY
