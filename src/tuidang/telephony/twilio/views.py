"""Twilio's voice webhooks (SignalWire and Telnyx speak dialects of them).

Every view checks the provider's signature first, turns the request into a call to a
provider-neutral service in ``tuidang.calls``, and renders the result as TwiML. Only
``voice`` and ``status`` are configured at the provider; every other URL reaches the
provider inside our TwiML. Unknown parameters are ignored, as Twilio adds new ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from twilio.twiml.voice_response import Dial, VoiceResponse

from tuidang.calls import prompts, selectors
from tuidang.calls.case_codes import format_case_code
from tuidang.calls.models import Call, Offer, Voicemail
from tuidang.calls.prompts import Kind
from tuidang.calls.services import (
    UnknownCall,
    call_choose_channel,
    call_choose_language,
    call_connect,
    call_pass_challenge,
    call_receive,
    call_status,
    call_to_voicemail,
    call_wait,
    offer_dial_ended,
    offer_leg_ended,
    offer_respond,
    voicemail_callback_result,
    voicemail_received,
)
from tuidang.screening.models import Policy
from tuidang.telephony.twilio.signature import twilio_signature_required
from tuidang.telephony.twilio.twiml import TWIML_CONTENT_TYPE, say, say_and_hang_up, twiml
from tuidang.telephony.urlbuilder import public_url

logger = logging.getLogger(__name__)

# Seconds a caller has to press a digit in a menu.
MENU_TIMEOUT = 6
# Seconds of hold between two position announcements.
HOLD_PAUSE = 15

# The caller's number arrives in these; they must never reach an error report.
_NUMBER_FIELDS = ("From", "Caller", "To", "Called", "ForwardedFrom", "CallerName")


def webhook(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Exempt from CSRF (the signature replaces it), signature first, GET or POST."""
    wrapped = twilio_signature_required(view)
    wrapped = sensitive_post_parameters(*_NUMBER_FIELDS)(wrapped)
    wrapped = require_http_methods(["GET", "POST"])(wrapped)
    return csrf_exempt(wrapped)


def _param(request: HttpRequest, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return source.get(name, "")


def _base(request: HttpRequest) -> str:
    """URLs inside our TwiML point back at the host the provider reached."""
    return f"{request.scheme}://{request.get_host()}"


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return public_url(name, base=settings.PUBLIC_BASE_URL or _base(request), **kwargs)


def _goodbye(call: Call | None) -> prompts.Prompt:
    if call is None:
        return prompts.say(Kind.GOODBYE, "")
    return prompts.say(Kind.GOODBYE, call.language, number=call.hotline_number)


def _lost_call(sid: str) -> HttpResponse:
    logger.warning("Provider event for unknown call %s", sid)
    return say_and_hang_up([prompts.say(Kind.GOODBYE, "")])


def _enqueue(request: HttpRequest, call: Call) -> HttpResponse:
    response = VoiceResponse()
    if call.hotline_number.language:
        say(response, [prompts.say(Kind.GREETING, call.language, number=call.hotline_number)])
    response.enqueue(
        call.language,
        action=_url(request, "telephony:twilio-queue-exit"),
        wait_url=_url(request, "telephony:twilio-wait"),
        wait_url_method="POST",
    )
    return twiml(response)


def _one_key_menu(
    request: HttpRequest, action_name: str, spoken: list[prompts.Prompt]
) -> HttpResponse:
    """Ask for one key. Pressing nothing falls through the Gather to the same action with
    no digits, where the service decides (ask again, a default, or move on)."""
    response = VoiceResponse()
    action = _url(request, action_name)
    gather = response.gather(num_digits=1, timeout=MENU_TIMEOUT, action=action)
    say(gather, spoken)
    response.redirect(action)
    return twiml(response)


def _language_menu(request: HttpRequest, call: Call) -> HttpResponse:
    """The same for every caller of a number, so rendered once and kept as long as the
    number's cached configuration: a change to a number or prompt (a new generation)
    renders it again at once."""
    base = settings.PUBLIC_BASE_URL or _base(request)
    key = f"twilio:language-menu:{selectors.generation()}:{call.hotline_number.pk}:{base}"
    body = cache.get(key)
    if body is None:
        menu = prompts.greeting_and_menu(call.hotline_number)
        body = _one_key_menu(request, "telephony:twilio-language", menu).content
        cache.set(key, body, selectors.CACHE_SECONDS)
    return HttpResponse(body, content_type=TWIML_CONTENT_TYPE)


@webhook
def voice(request: HttpRequest) -> HttpResponse:
    sid = _param(request, "CallSid")
    if not sid:
        return HttpResponseBadRequest("CallSid is required\n", content_type="text/plain")
    call = call_receive(
        provider_sid=sid, caller_from=_param(request, "From"), dialled=_param(request, "To")
    )
    if call is None:
        return say_and_hang_up(prompts.not_in_service())
    if call.ended_at is not None:
        return say_and_hang_up([prompts.say(Kind.GOODBYE, call.language)])
    if call.screening_policy == Policy.REJECT:
        response = VoiceResponse()
        response.reject()  # before answering: the caller hears it ring out, nobody pays
        return twiml(response)
    if call.state == Call.State.SCREENED:
        return _screened(call)
    if call.challenge_digit:
        return _challenge(request, call)
    return _after_screening(request, call)


def _after_screening(request: HttpRequest, call: Call) -> HttpResponse:
    if call.language:
        return _enqueue(request, call)
    return _language_menu(request, call)


def _screened(call: Call) -> HttpResponse:
    """The recorded message for screened callers, then goodbye."""
    return say_and_hang_up([prompts.say(Kind.SCREENED, call.language, number=call.hotline_number)])


def _challenge(request: HttpRequest, call: Call) -> HttpResponse:
    challenge = prompts.say(
        Kind.CHALLENGE, call.language, number=call.hotline_number, digit=call.challenge_digit
    )
    return _one_key_menu(request, "telephony:twilio-challenge", [challenge, challenge])


@webhook
def challenge(request: HttpRequest) -> HttpResponse:
    """The answer to flood mode's keypad challenge for withheld numbers."""
    sid = _param(request, "CallSid")
    try:
        call = call_pass_challenge(provider_sid=sid, digits=_param(request, "Digits"))
    except UnknownCall:
        return _lost_call(sid)
    if call is None:
        screened = Call.objects.get(provider_sid=sid)
        return _screened(screened)
    return _after_screening(request, call)


@webhook
def language(request: HttpRequest) -> HttpResponse:
    sid = _param(request, "CallSid")
    try:
        result = call_choose_language(provider_sid=sid, digits=_param(request, "Digits"))
    except UnknownCall:
        return _lost_call(sid)
    if result.retry:
        return _language_menu(request, result.call)
    if result.ask_how_heard:
        return _how_heard_menu(request, result.call)
    return _enqueue(request, result.call)


def _how_heard_menu(request: HttpRequest, call: Call) -> HttpResponse:
    question = prompts.say(Kind.HOW_HEARD, call.language, number=call.hotline_number)
    return _one_key_menu(request, "telephony:twilio-how-heard", [question])


@webhook
def how_heard(request: HttpRequest) -> HttpResponse:
    """The caller's answer to "how did you hear of this number" (none: on to the queue)."""
    sid = _param(request, "CallSid")
    try:
        call = call_choose_channel(provider_sid=sid, digits=_param(request, "Digits"))
    except UnknownCall:
        return _lost_call(sid)
    return _enqueue(request, call)


@webhook
def wait(request: HttpRequest) -> HttpResponse:
    sid = _param(request, "CallSid")
    try:
        status = call_wait(provider_sid=sid)
    except UnknownCall:
        return _lost_call(sid)
    language = status.call.language
    number = status.call.hotline_number
    response = VoiceResponse()
    if status.voicemail_now:
        say(response, [prompts.say(Kind.NO_ONE_NOW, language, number=number)])
        response.leave()  # to the Enqueue action, which records a message
        return twiml(response)
    hold = [prompts.say(Kind.HOLD, language, number=number, ahead=status.ahead)]
    if status.estimated_minutes is not None:
        minutes = status.estimated_minutes
        hold.append(prompts.say(Kind.ESTIMATE, language, number=number, minutes=minutes))
    if status.offer_voicemail:
        gather = response.gather(
            num_digits=1, timeout=HOLD_PAUSE, action=_url(request, "telephony:twilio-wait-choice")
        )
        say(gather, [*hold, prompts.say(Kind.OFFER_VOICEMAIL, language, number=number)])
    else:
        say(response, hold)
        response.pause(length=HOLD_PAUSE)
    return twiml(response)


@webhook
def wait_choice(request: HttpRequest) -> HttpResponse:
    """A key pressed on hold: 1 leaves the queue for voicemail; anything else stays."""
    call = Call.objects.filter(provider_sid=_param(request, "CallSid")).first()
    response = VoiceResponse()
    if _param(request, "Digits") == "1":
        response.leave()
    elif call is not None:
        say(response, [prompts.say(Kind.STAY, call.language, number=call.hotline_number)])
    return twiml(response)


@webhook
def queue_exit(request: HttpRequest) -> HttpResponse:
    """The caller left the queue: to leave a message, or after the conversation ended."""
    sid = _param(request, "CallSid")
    if _param(request, "QueueResult") == "leave":
        call = call_to_voicemail(provider_sid=sid)
        if call is not None:
            number = call.hotline_number
            response = VoiceResponse()
            say(response, [prompts.say(Kind.VOICEMAIL, call.language, number=number)])
            response.record(
                action=_url(request, "telephony:twilio-voicemail"),
                max_length=settings.VOICEMAIL_MAX_SECONDS,
                finish_on_key="#",
                play_beep=True,
            )
            say(response, [prompts.say(Kind.GOODBYE, call.language, number=number)])
            return twiml(response)
    call = Call.objects.filter(provider_sid=sid).first()
    return say_and_hang_up([_goodbye(call)])


@webhook
def voicemail_done(request: HttpRequest) -> HttpResponse:
    """The <Record> action: the message is recorded at the provider."""
    sid = _param(request, "CallSid")
    voicemail = voicemail_received(
        provider_sid=sid,
        recording_sid=_param(request, "RecordingSid"),
        recording_url=_param(request, "RecordingUrl"),
        duration=_count_or_none(_param(request, "RecordingDuration")) or 0,
        caller_from=_param(request, "From"),
    )
    if voicemail is None:
        return _lost_call(sid)
    return say_and_hang_up([_goodbye(voicemail.call)])


@webhook
def bridge(request: HttpRequest) -> HttpResponse:
    """Played to the caller taken from the queue, just before the two are bridged."""
    sid = _param(request, "CallSid")
    try:
        call = call_connect(provider_sid=sid, leg_sid=_param(request, "DequeingCallSid"))
    except UnknownCall:
        return _lost_call(sid)
    response = VoiceResponse()
    say(response, [prompts.say(Kind.CONNECTING, call.language, number=call.hotline_number)])
    return twiml(response)


@webhook
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """The volunteer picked up an offer: the whisper, so a voicemail never takes a call."""
    found = Offer.objects.select_related("call").filter(token=token).first()
    if found is None or found.state != Offer.State.PENDING:
        return say_and_hang_up([prompts.offer_gone()])
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1,
        timeout=MENU_TIMEOUT,
        action=_url(request, "telephony:twilio-offer-respond", token=token),
    )
    say(gather, [prompts.whisper(found.call.language)] * 2)
    response.hangup()
    return twiml(response)


@webhook
def offer_respond_view(request: HttpRequest, token: str) -> HttpResponse:
    if not Offer.objects.filter(token=token).exists():
        return say_and_hang_up([prompts.offer_gone()])
    accepted = offer_respond(
        token=token, digits=_param(request, "Digits"), leg_sid=_param(request, "CallSid")
    )
    if accepted is None:
        return say_and_hang_up([prompts.offer_gone()])
    response = VoiceResponse()
    dial = Dial(action=_url(request, "telephony:twilio-offer-dial-ended", token=token))
    dial.queue(accepted.call.language, url=_url(request, "telephony:twilio-bridge"))
    response.append(dial)
    return twiml(response)


@webhook
def offer_dial_ended_view(request: HttpRequest, token: str) -> HttpResponse:
    offer_dial_ended(token=token)
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


@webhook
def offer_status(request: HttpRequest, token: str) -> HttpResponse:
    offer_leg_ended(token=token, provider_status=_param(request, "CallStatus"))
    return HttpResponse(status=204)


def _count_or_none(raw: str) -> int | None:
    """A non-negative integer parameter; anything else is treated as absent."""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


@webhook
def status(request: HttpRequest) -> HttpResponse:
    sid = _param(request, "CallSid")
    if not sid:
        return HttpResponseBadRequest("CallSid is required\n", content_type="text/plain")
    call = call_status(
        provider_sid=sid,
        status=_param(request, "CallStatus"),
        sequence=_count_or_none(_param(request, "SequenceNumber")),
        duration=_count_or_none(_param(request, "CallDuration")),
    )
    if call is None:
        logger.info("Status callback for a call we do not know: %s", sid)
    return HttpResponse(status=204)


@webhook
def callback(request: HttpRequest, public_id: str, volunteer_id: int) -> HttpResponse:
    """The volunteer answered their phone: dial the caller from the hotline's number."""
    voicemail = (
        Voicemail.objects.select_related("call__hotline_number").filter(public_id=public_id).first()
    )
    number = voicemail.callback_number if voicemail else ""
    if voicemail is None or not number:
        return say_and_hang_up([prompts.offer_gone()])
    response = VoiceResponse()
    code = format_case_code(voicemail.call.case_code)
    say(response, [prompts.Prompt(f"Calling back the caller of case {code}.", "en")])
    dial = Dial(
        caller_id=voicemail.call.hotline_number.e164,
        timeout=30,
        action=_url(
            request,
            "telephony:twilio-callback-done",
            public_id=public_id,
            volunteer_id=volunteer_id,
        ),
    )
    dial.number(number)
    response.append(dial)
    return twiml(response)


@webhook
def callback_done(request: HttpRequest, public_id: str, volunteer_id: int) -> HttpResponse:
    voicemail_callback_result(
        voicemail_id=str(public_id),
        volunteer_id=volunteer_id,
        dial_status=_param(request, "DialCallStatus"),
    )
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


@webhook
def callback_status(request: HttpRequest, public_id: str, volunteer_id: int) -> HttpResponse:
    """The volunteer's own leg ended; the outcome comes from the Dial's action."""
    return HttpResponse(status=204)
