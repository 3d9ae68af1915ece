"""Rendering the hotline's decisions as TwiML, with the ``twilio`` package."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse
from twilio.twiml.voice_response import VoiceResponse

from tuidang.calls.prompts import Prompt
from tuidang.lib.languages import SPEECH_TAGS, Language


def say(target: VoiceResponse, prompts: Iterable[Prompt]) -> None:
    for prompt in prompts:
        target.say(prompt.text, language=SPEECH_TAGS.get(Language(prompt.language), "en-US"))


def twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def say_and_hang_up(prompts: Iterable[Prompt]) -> HttpResponse:
    response = VoiceResponse()
    say(response, prompts)
    response.hangup()
    return twiml(response)
