"""What callers hear: coordinators' own prompts, recordings, and the "how did you hear" menu."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.calls.models import Call, HotlineNumber, HowHeard, NumberPrompt
from tuidang.calls.prompts import PromptKind
from tuidang.lib.languages import Language
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, Clock, HotlineNumbers
from tuidang.testing.phone import said
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_a_numbers_own_greeting_replaces_the_built_in_one(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    NumberPrompt.objects.create(
        number=numbers["banknotes"], kind=PromptKind.GREETING, language=Language.MANDARIN,
        text="您好，纸币热线。",
    )  # fmt: skip
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    assert "您好，纸币热线。" in said(caller)
    assert "这里是退党热线" not in said(caller)
    other = network.dial(from_number=CALLER, to_number=numbers["website"].e164)
    assert "这里是退党热线" in said(other)


def test_a_prompt_for_every_number_applies_where_a_number_has_none(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    NumberPrompt.objects.create(
        kind=PromptKind.NO_ONE_NOW, language=Language.MANDARIN, text="夜深了，志愿者都在忙。"
    )
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    caller = network.press(caller.sid, "1")
    assert "夜深了，志愿者都在忙。" in said(caller)


def test_the_hold_prompt_keeps_its_placeholder(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    from tuidang.testing.personas import go_available

    NumberPrompt.objects.create(
        kind=PromptKind.HOLD, language=Language.MANDARIN, text="请稍候，前面有{ahead}人。"
    )
    go_available(mei)
    first = network.dial(from_number="+8613912345678", to_number=BANKNOTES_LINE)
    network.press(first.sid, "1")
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    caller = network.press(caller.sid, "1")
    assert "请稍候，前面有1人。" in said(caller)


def test_a_recorded_prompt_is_played_and_served_to_the_provider(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    prompt = NumberPrompt.objects.create(
        number=numbers["banknotes"], kind=PromptKind.GREETING, language=Language.MANDARIN,
        recording=SimpleUploadedFile("greeting.mp3", b"ID3 not really audio"),
    )  # fmt: skip
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    played = [line["text"] for line in caller.transcript if line["kind"] == "play"]
    audio_path = reverse("telephony:prompt-audio", args=[prompt.pk])
    assert any(audio_path in line for line in played)
    response = client.get(audio_path)
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == b"ID3 not really audio"


def test_callers_to_a_number_of_unknown_channel_are_asked_how_they_heard(
    network: PhoneNetwork,
) -> None:
    HotlineNumber.objects.create(
        e164="+18005550142", name="Old line", how_heard=HowHeard.UNKNOWN, ask_how_heard=True
    )
    caller = network.dial(from_number=CALLER, to_number="+18005550142")
    caller = network.press(caller.sid, "1")
    assert "您是从哪里知道这个号码的" in said(caller)
    network.press(caller.sid, "3")
    call = Call.objects.get()
    assert call.how_heard == HowHeard.RADIO
    assert call.state != Call.State.IVR


def test_a_caller_who_does_not_answer_how_they_heard_still_gets_through(
    network: PhoneNetwork, clock: Clock
) -> None:
    HotlineNumber.objects.create(
        e164="+18005550142", name="Old line", how_heard=HowHeard.UNKNOWN, ask_how_heard=True
    )
    caller = network.dial(from_number=CALLER, to_number="+18005550142")
    network.press(caller.sid, "1")
    clock.advance(7)
    network.tick()
    call = Call.objects.get()
    assert call.how_heard == HowHeard.UNKNOWN
    assert call.state != Call.State.IVR


def test_every_language_speaks_every_prompt_and_names_every_how_heard_answer() -> None:
    from tuidang.calls import prompts

    for module in prompts.LANGUAGES:
        assert set(module.TEXTS) == set(PromptKind) - {PromptKind.HOW_HEARD}
        assert set(module.HOW_HEARD_ANSWERS) == set(prompts.HOW_HEARD.values())
        assert set(prompts.HOW_HEARD.values()) <= set(HowHeard.values)


def test_the_how_heard_menu_of_every_language_names_the_digits_in_one_order() -> None:
    from tuidang.calls import prompts

    for module in prompts.LANGUAGES:
        text = prompts.BUILT_IN[PromptKind.HOW_HEARD][module.LANGUAGE]
        places = [
            text.index(module.HOW_HEARD_ANSWERS[value]) for value in prompts.HOW_HEARD.values()
        ]
        assert places == sorted(places)
        digits = [character for character in text if character.isdigit()]
        assert digits == list(prompts.HOW_HEARD)
