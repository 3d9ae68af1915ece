"""The calls domain's steps (calls.ivr) rendered as TwiML, with the ``twilio`` package.

The document is the same for every provider that speaks TwiML (Twilio, Telnyx's TeXML).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from tuidang.calls import ivr
from tuidang.lib.languages import SPEECH_TAGS, Language

TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"

UrlFor = Callable[[ivr.Action], str]


def _speak(target: VoiceResponse | Gather, steps: Iterable[ivr.Say | ivr.Play]) -> None:
    for step in steps:
        if isinstance(step, ivr.Play):
            target.play(step.url)
            continue
        language = SPEECH_TAGS.get(Language(step.language), "en-US")
        if step.voice:
            target.say(step.text, language=language, voice=step.voice)
        else:
            target.say(step.text, language=language)


def _say(response: VoiceResponse, step: Any, url: UrlFor) -> None:
    _speak(response, [step])


def _pause(response: VoiceResponse, step: ivr.Pause, url: UrlFor) -> None:
    response.pause(length=step.seconds)


def _gather(response: VoiceResponse, step: ivr.Gather, url: UrlFor) -> None:
    gather = response.gather(num_digits=step.digits, timeout=step.timeout, action=url(step.action))
    _speak(gather, step.spoken)


def _enqueue(response: VoiceResponse, step: ivr.Enqueue, url: UrlFor) -> None:
    response.enqueue(
        step.queue, action=url(step.exit), wait_url=url(step.wait), wait_url_method="POST"
    )


def _leave(response: VoiceResponse, step: ivr.Leave, url: UrlFor) -> None:
    response.leave()


def _record(response: VoiceResponse, step: ivr.Record, url: UrlFor) -> None:
    response.record(
        action=url(step.action),
        max_length=step.max_seconds,
        finish_on_key=step.finish_on_key,
        play_beep=step.beep,
    )


def _redirect(response: VoiceResponse, step: ivr.Redirect, url: UrlFor) -> None:
    response.redirect(url(step.action))


def _dial_queue(response: VoiceResponse, step: ivr.DialQueue, url: UrlFor) -> None:
    dial = Dial(action=url(step.action))
    dial.queue(step.queue, url=url(step.bridge))
    response.append(dial)


def _dial_number(response: VoiceResponse, step: ivr.DialNumber, url: UrlFor) -> None:
    dial = Dial(caller_id=step.caller_id, timeout=step.timeout, action=url(step.action))
    if step.reached is not None:
        dial.number(step.number, url=url(step.reached), method="POST")
    else:
        dial.number(step.number)
    response.append(dial)


def _conference(response: VoiceResponse, step: ivr.Conference, url: UrlFor) -> None:
    dial = Dial()
    events = (
        {"status_callback": url(step.events), "status_callback_event": "join leave"}
        if step.events is not None
        else {}
    )
    dial.conference(
        step.room,
        start_conference_on_enter=step.starts,
        end_conference_on_exit=False,
        muted=step.muted,
        beep=False,
        **events,
    )
    response.append(dial)


def _reject(response: VoiceResponse, step: ivr.Reject, url: UrlFor) -> None:
    response.reject()


def _hangup(response: VoiceResponse, step: ivr.Hangup, url: UrlFor) -> None:
    response.hangup()


_VERBS: dict[type, Callable[[VoiceResponse, Any, UrlFor], None]] = {
    ivr.Say: _say,
    ivr.Play: _say,
    ivr.Pause: _pause,
    ivr.Gather: _gather,
    ivr.Enqueue: _enqueue,
    ivr.Leave: _leave,
    ivr.Record: _record,
    ivr.Redirect: _redirect,
    ivr.DialQueue: _dial_queue,
    ivr.DialNumber: _dial_number,
    ivr.Conference: _conference,
    ivr.Reject: _reject,
    ivr.Hangup: _hangup,
}


def render(steps: Iterable[ivr.Step], url: UrlFor) -> str:
    """The TwiML document for ``steps``; ``url`` gives the webhook URL of an action."""
    response = VoiceResponse()
    for step in steps:
        _VERBS[type(step)](response, step, url)
    return str(response)
