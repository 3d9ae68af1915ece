"""Rendering the hotline's decisions as TwiML, with the ``twilio`` package."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse
from twilio.twiml.voice_response import VoiceResponse

from tuidang.calls.prompts import Prompt
from tuidang.lib.languages import SPEECH_TAGS, Language


def say(target: VoiceResponse, prompts: Iterable[Prompt]) -> None:
    """Speak each prompt: its recording when it has one, else its text in its language."""
    for prompt in prompts:
        if prompt.audio_url:
            target.play(prompt.audio_url)
            continue
        language = SPEECH_TAGS.get(Language(prompt.language), "en-US")
        if prompt.voice:
            target.say(prompt.text, language=language, voice=prompt.voice)
        else:
            target.say(prompt.text, language=language)


TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"


def twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type=TWIML_CONTENT_TYPE)


def say_and_hang_up(prompts: Iterable[Prompt]) -> HttpResponse:
    response = VoiceResponse()
    say(response, prompts)
    response.hangup()
    return twiml(response)
