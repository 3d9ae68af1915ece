"""Twilio's voice webhooks (SignalWire and Telnyx speak dialects of them).

Every view checks the provider's signature first, reads Twilio's parameters, calls one
function of the calls domain (``calls.ivr`` for what is heard next, ``calls.services``
for status callbacks) and renders the steps it answers as TwiML. Only ``incoming_call``
and ``call_status_changed`` are configured at the provider; every other URL reaches the
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

from tuidang.calls import ivr, selectors
from tuidang.calls.ports import LegOutcome
from tuidang.calls.services import call_status, offer_leg_ended
from tuidang.lib.public_url import public_url
from tuidang.telephony.twilio.signature import twilio_signature_required
from tuidang.telephony.twilio.status import leg_outcome
from tuidang.telephony.twilio.twiml import TWIML_CONTENT_TYPE, render

logger = logging.getLogger(__name__)

# The caller's number arrives in these; they must never reach an error report.
_NUMBER_FIELDS = ("From", "Caller", "To", "Called", "ForwardedFrom", "CallerName")

# The webhook each next step of the calls domain leads to (see webhooks.py).
_URL_NAMES = {step: f"telephony:twilio-{step.value}" for step in ivr.Next}


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
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"


def _twiml(request: HttpRequest, reply: ivr.Reply) -> HttpResponse:
    base = _base(request)

    def url(action: ivr.Action) -> str:
        return public_url(_URL_NAMES[action.next], base=base, **action.ids)

    if not reply.cache_key:
        return HttpResponse(render(reply.all_steps(), url), content_type=TWIML_CONTENT_TYPE)
    # The same for every request with this key (e.g. a number's language menu): rendered
    # once and kept as long as the number's cached configuration.
    key = f"twilio:{reply.cache_key}:{base}"
    body = cache.get(key)
    if body is None:
        body = render(reply.all_steps(), url).encode()
        cache.set(key, body, selectors.CACHE_SECONDS)
    return HttpResponse(body, content_type=TWIML_CONTENT_TYPE)


def _count_or_none(raw: str) -> int | None:
    """A non-negative integer parameter; anything else is treated as absent."""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _call_sid_missing() -> HttpResponse:
    return HttpResponseBadRequest("CallSid is required\n", content_type="text/plain")


# --- The caller's leg ---------------------------------------------------------------


@webhook
def incoming_call(request: HttpRequest) -> HttpResponse:
    sid = _param(request, "CallSid")
    if not sid:
        return _call_sid_missing()
    reply = ivr.incoming_call(
        provider_sid=sid, caller_from=_param(request, "From"), dialled=_param(request, "To")
    )
    return _twiml(request, reply)


@webhook
def challenge_answered(request: HttpRequest) -> HttpResponse:
    reply = ivr.challenge_answered(
        provider_sid=_param(request, "CallSid"), digits=_param(request, "Digits")
    )
    return _twiml(request, reply)


@webhook
def language_chosen(request: HttpRequest) -> HttpResponse:
    reply = ivr.language_chosen(
        provider_sid=_param(request, "CallSid"), digits=_param(request, "Digits")
    )
    return _twiml(request, reply)


@webhook
def how_heard_answered(request: HttpRequest) -> HttpResponse:
    reply = ivr.how_heard_answered(
        provider_sid=_param(request, "CallSid"), digits=_param(request, "Digits")
    )
    return _twiml(request, reply)


@webhook
def on_hold(request: HttpRequest) -> HttpResponse:
    """The <Enqueue> wait URL, fetched again and again while the caller holds."""
    return _twiml(request, ivr.on_hold(provider_sid=_param(request, "CallSid")))


@webhook
def hold_key_pressed(request: HttpRequest) -> HttpResponse:
    reply = ivr.hold_key_pressed(
        provider_sid=_param(request, "CallSid"), digits=_param(request, "Digits")
    )
    return _twiml(request, reply)


@webhook
def queue_left(request: HttpRequest) -> HttpResponse:
    """The <Enqueue> action: the caller left the queue, to leave a message or after talking."""
    reply = ivr.queue_left(
        provider_sid=_param(request, "CallSid"),
        for_voicemail=_param(request, "QueueResult") == "leave",
    )
    return _twiml(request, reply)


@webhook
def voicemail_recorded(request: HttpRequest) -> HttpResponse:
    """The <Record> action: the message is recorded at the provider."""
    reply = ivr.voicemail_recorded(
        provider_sid=_param(request, "CallSid"),
        recording_id=_param(request, "RecordingSid"),
        recording_url=_param(request, "RecordingUrl"),
        duration=_count_or_none(_param(request, "RecordingDuration")) or 0,
        caller_from=_param(request, "From"),
    )
    return _twiml(request, reply)


@webhook
def caller_bridged(request: HttpRequest) -> HttpResponse:
    """The <Queue> URL: played to the caller taken from the queue, just before the bridge."""
    reply = ivr.caller_bridged(
        provider_sid=_param(request, "CallSid"), leg_id=_param(request, "DequeingCallSid")
    )
    return _twiml(request, reply)


@webhook
def call_status_changed(request: HttpRequest) -> HttpResponse:
    """The caller's leg's status callback."""
    sid = _param(request, "CallSid")
    if not sid:
        return _call_sid_missing()
    call = call_status(
        provider_sid=sid,
        outcome=leg_outcome(_param(request, "CallStatus")),
        sequence=_count_or_none(_param(request, "SequenceNumber")),
        duration=_count_or_none(_param(request, "CallDuration")),
    )
    if call is None:
        logger.info("Status callback for a call we do not know: %s", sid)
    return HttpResponse(status=204)


# --- A volunteer's leg for an offer -------------------------------------------------


@webhook
def offer_answered(request: HttpRequest, token: str) -> HttpResponse:
    return _twiml(request, ivr.offer_answered(token=token))


@webhook
def offer_key_pressed(request: HttpRequest, token: str) -> HttpResponse:
    reply = ivr.offer_key_pressed(
        token=token, digits=_param(request, "Digits"), leg_id=_param(request, "CallSid")
    )
    return _twiml(request, reply)


@webhook
def offer_dial_ended(request: HttpRequest, token: str) -> HttpResponse:
    return _twiml(request, ivr.offer_dial_finished(token=token))


@webhook
def offer_leg_status(request: HttpRequest, token: str) -> HttpResponse:
    outcome = leg_outcome(_param(request, "CallStatus")) or LegOutcome.FAILED
    offer_leg_ended(token=token, outcome=outcome)
    return HttpResponse(status=204)


# --- A volunteer's leg to call a caller back ----------------------------------------


@webhook
def callback_answered(request: HttpRequest, public_id: str, volunteer_id: int) -> HttpResponse:
    reply = ivr.callback_answered(voicemail_id=str(public_id), volunteer_id=volunteer_id)
    return _twiml(request, reply)


@webhook
def callback_dialled(request: HttpRequest, public_id: str, volunteer_id: int) -> HttpResponse:
    """The <Dial> action: how dialling the caller went."""
    reply = ivr.callback_dialled(
        voicemail_id=str(public_id),
        volunteer_id=volunteer_id,
        outcome=leg_outcome(_param(request, "DialCallStatus")) or LegOutcome.FAILED,
    )
    return _twiml(request, reply)


@webhook
def callback_leg_status(request: HttpRequest, public_id: str, volunteer_id: int) -> HttpResponse:
    """The volunteer's own leg ended; the outcome comes from the Dial's action."""
    return HttpResponse(status=204)
