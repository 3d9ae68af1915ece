"""The webhooks of a provider that speaks TwiML (Twilio; Telnyx's TeXML is a dialect).

Every view checks the provider's signature first, reads TwiML's parameters, calls one
function of the calls domain (``calls.ivr`` for what is heard next, ``calls.services``
for status callbacks) and renders the steps it answers as TwiML. Only ``incoming_call``
and ``call_status_changed`` are configured at the provider; every other URL reaches the
provider inside our TwiML. Unknown parameters are ignored, as providers add new ones.

The providers differ only in how they sign their webhooks: a provider's folder makes
its ``TwimlWebhooks`` with its name (the prefix of its URL names, "twilio-voice") and its
signature check, and serves ``urlpatterns`` from its ``webhooks.py``. The views are bound
once, when the URLconf is loaded; a request costs what it did with one provider.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from tuidang.calls import ivr, selectors
from tuidang.calls.ports import LegOutcome, Party
from tuidang.calls.services import (
    call_status,
    listen_in_leg_ended,
    offer_leg_ended,
    transfer_leg_ended,
)
from tuidang.lib.logcontext import log_context_bind
from tuidang.lib.metrics import webhook_observe
from tuidang.lib.public_url import public_url
from tuidang.telephony.twiml.render import TWIML_CONTENT_TYPE, render
from tuidang.telephony.twiml.status import leg_outcome

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]
# Whether a request really comes from the provider; checked before anything else.
SignatureCheck = Callable[[HttpRequest], bool]

# The caller's number arrives in these; they must never reach an error report.
_NUMBER_FIELDS = ("From", "Caller", "To", "Called", "ForwardedFrom", "CallerName")


def signature_required(view: View, is_signed: SignatureCheck) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_signed(request):
            logger.warning("Rejected a webhook with a missing or wrong signature: %s", request.path)
            return HttpResponseForbidden("Invalid signature\n", content_type="text/plain")
        if settings.LOG_FORMAT == "json":
            # JSON lines name the call (lib/logcontext.py): one indexed read, only then.
            call_id = selectors.call_id_for_log(
                provider_sid=_param(request, "CallSid"), offer_token=kwargs.get("token")
            )
            if call_id is not None:
                log_context_bind(call_id=call_id)
        return view(request, *args, **kwargs)

    return wrapper


def timed(view: View) -> View:
    """Observe how long the webhook took, labelled with its URL's name (lib/metrics.py)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        started = time.perf_counter()
        try:
            return view(request, *args, **kwargs)
        finally:
            match = request.resolver_match
            webhook_observe(
                endpoint=(match.url_name if match else None) or "unnamed",
                seconds=time.perf_counter() - started,
            )

    return wrapper


def _param(request: HttpRequest, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return source.get(name, "")


def _base(request: HttpRequest) -> str:
    """URLs inside our TwiML point back at the host the provider reached."""
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"


# The largest count stored (sequence numbers, durations): the integer columns that hold
# them are 32-bit on PostgreSQL. Numbers come in ASCII digits only: int() would also read
# Arabic-Indic or fullwidth digits, a sign, spaces and underscores, and any number of them.
_COUNT_MAX = 2**31 - 1
_COUNT = re.compile(r"[0-9]{1,10}")
# Keys pressed: the twelve of a keypad, and no more at once than a menu could ask for.
_DIGITS_MAX = 32
_DIGITS = re.compile(rf"[0-9*#]{{1,{_DIGITS_MAX}}}")


def _count_or_none(raw: str) -> int | None:
    """A count from 0 to ``_COUNT_MAX`` in ASCII digits; anything else is treated as absent."""
    if not _COUNT.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= _COUNT_MAX else None


def _digits(request: HttpRequest) -> str:
    """The keys the caller pressed (``Digits``): ASCII keypad keys only, a few at most;
    anything else counts as no key pressed."""
    raw = _param(request, "Digits")
    return raw if _DIGITS.fullmatch(raw) else ""


def _call_sid_missing() -> HttpResponse:
    return HttpResponseBadRequest("CallSid is required\n", content_type="text/plain")


class TwimlWebhooks:
    """One provider's webhooks: ``name`` ("twilio") names its URLs ("telephony:twilio-voice")
    and its cached documents; ``is_signed`` is its signature check."""

    def __init__(self, name: str, *, is_signed: SignatureCheck) -> None:
        self.name = name
        self.is_signed = is_signed
        # The webhook each next step of the calls domain leads to (see urlpatterns).
        self._url_names = {step: f"telephony:{name}-{step.value}" for step in ivr.Next}

    def webhook(self, view: View) -> View:
        """Exempt from CSRF (the signature replaces it), signature first, GET or POST;
        timed for /metrics."""
        wrapped = signature_required(view, self.is_signed)
        wrapped = sensitive_post_parameters(*_NUMBER_FIELDS)(wrapped)
        wrapped = require_http_methods(["GET", "POST"])(wrapped)
        return csrf_exempt(timed(wrapped))

    @property
    def urlpatterns(self) -> list[URLPattern]:
        """The webhooks' URLs, to serve under /telephony/<name>/; their names are those
        calls.ivr.Next leads to, prefixed with the provider's name."""
        view, name = self.webhook, self.name
        return [
            # The two URLs configured at the provider.
            path("voice", view(self.incoming_call), name=f"{name}-voice"),
            path("status", view(self.call_status_changed), name=f"{name}-status"),
            # Reached only through URLs inside our own TwiML.
            path("language", view(self.language_chosen), name=f"{name}-language"),
            path("how-heard", view(self.how_heard_answered), name=f"{name}-how-heard"),
            path("challenge", view(self.challenge_answered), name=f"{name}-challenge"),
            path("wait", view(self.on_hold), name=f"{name}-wait"),
            path("wait-choice", view(self.hold_key_pressed), name=f"{name}-wait-choice"),
            path("queue-exit", view(self.queue_left), name=f"{name}-queue-exit"),
            path("voicemail", view(self.voicemail_recorded), name=f"{name}-voicemail"),
            path("bridge", view(self.caller_bridged), name=f"{name}-bridge"),
            path("offer/<uuid:token>", view(self.offer_answered), name=f"{name}-offer"),
            path(
                "offer/<uuid:token>/respond",
                view(self.offer_key_pressed),
                name=f"{name}-offer-respond",
            ),
            path(
                "offer/<uuid:token>/dial-ended",
                view(self.offer_dial_ended),
                name=f"{name}-offer-dial-ended",
            ),
            path(
                "offer/<uuid:token>/status",
                view(self.offer_leg_status),
                name=f"{name}-offer-status",
            ),
            path("transfer/<uuid:token>", view(self.transfer_answered), name=f"{name}-transfer"),
            path(
                "transfer/<uuid:token>/respond",
                view(self.transfer_key_pressed),
                name=f"{name}-transfer-respond",
            ),
            path(
                "transfer/<uuid:token>/join/<str:party>",
                view(self.transfer_joined),
                name=f"{name}-transfer-join",
            ),
            path(
                "transfer/<uuid:token>/status",
                view(self.transfer_leg_status),
                name=f"{name}-transfer-status",
            ),
            path("conference-event", view(self.conference_event), name=f"{name}-conference-event"),
            path("listen/<uuid:token>", view(self.listen_answered), name=f"{name}-listen"),
            path(
                "listen/<uuid:token>/caller",
                view(self.listen_caller_moved),
                name=f"{name}-listen-caller",
            ),
            path(
                "listen/<uuid:token>/status",
                view(self.listen_leg_status),
                name=f"{name}-listen-status",
            ),
            path(
                "callback/<uuid:public_id>/<int:volunteer_id>",
                view(self.callback_answered),
                name=f"{name}-callback",
            ),
            path(
                "callback/<uuid:public_id>/<int:volunteer_id>/done",
                view(self.callback_dialled),
                name=f"{name}-callback-done",
            ),
            path(
                "callback/<uuid:public_id>/<int:volunteer_id>/reached",
                view(self.callback_reached),
                name=f"{name}-callback-reached",
            ),
            path(
                "callback/<uuid:public_id>/<int:volunteer_id>/status",
                view(self.callback_leg_status),
                name=f"{name}-callback-status",
            ),
        ]

    def _twiml(self, request: HttpRequest, reply: ivr.Reply) -> HttpResponse:
        base = _base(request)
        url_names = self._url_names

        def url(action: ivr.Action) -> str:
            return public_url(url_names[action.next], base=base, **action.ids)

        if not reply.cache_key:
            return HttpResponse(render(reply.all_steps(), url), content_type=TWIML_CONTENT_TYPE)
        # The same for every request with this key (e.g. a number's language menu): rendered
        # once and kept as long as the number's cached configuration.
        body = selectors.kept(
            f"twiml:{self.name}:{reply.cache_key}:{base}",
            lambda: render(reply.all_steps(), url).encode(),
        )
        return HttpResponse(body, content_type=TWIML_CONTENT_TYPE)

    # --- The caller's leg ---------------------------------------------------------------

    def incoming_call(self, request: HttpRequest) -> HttpResponse:
        sid = _param(request, "CallSid")
        if not sid:
            return _call_sid_missing()
        reply = ivr.incoming_call(
            provider_sid=sid, caller_from=_param(request, "From"), dialled=_param(request, "To")
        )
        return self._twiml(request, reply)

    def challenge_answered(self, request: HttpRequest) -> HttpResponse:
        reply = ivr.challenge_answered(
            provider_sid=_param(request, "CallSid"), digits=_digits(request)
        )
        return self._twiml(request, reply)

    def language_chosen(self, request: HttpRequest) -> HttpResponse:
        reply = ivr.language_chosen(
            provider_sid=_param(request, "CallSid"), digits=_digits(request)
        )
        return self._twiml(request, reply)

    def how_heard_answered(self, request: HttpRequest) -> HttpResponse:
        reply = ivr.how_heard_answered(
            provider_sid=_param(request, "CallSid"), digits=_digits(request)
        )
        return self._twiml(request, reply)

    def on_hold(self, request: HttpRequest) -> HttpResponse:
        """The <Enqueue> wait URL, fetched again and again while the caller holds."""
        return self._twiml(request, ivr.on_hold(provider_sid=_param(request, "CallSid")))

    def hold_key_pressed(self, request: HttpRequest) -> HttpResponse:
        reply = ivr.hold_key_pressed(
            provider_sid=_param(request, "CallSid"), digits=_digits(request)
        )
        return self._twiml(request, reply)

    def queue_left(self, request: HttpRequest) -> HttpResponse:
        """The <Enqueue> action: the caller left the queue, to leave a message or after talking."""
        reply = ivr.queue_left(
            provider_sid=_param(request, "CallSid"),
            for_voicemail=_param(request, "QueueResult") == "leave",
        )
        return self._twiml(request, reply)

    def voicemail_recorded(self, request: HttpRequest) -> HttpResponse:
        """The <Record> action: the message is recorded at the provider."""
        reply = ivr.voicemail_recorded(
            provider_sid=_param(request, "CallSid"),
            recording_id=_param(request, "RecordingSid"),
            recording_url=_param(request, "RecordingUrl"),
            duration=_count_or_none(_param(request, "RecordingDuration")) or 0,
            caller_from=_param(request, "From"),
        )
        return self._twiml(request, reply)

    def caller_bridged(self, request: HttpRequest) -> HttpResponse:
        """The <Queue> URL: played to the caller taken from the queue, just before the bridge."""
        reply = ivr.caller_bridged(
            provider_sid=_param(request, "CallSid"), leg_id=_param(request, "DequeingCallSid")
        )
        return self._twiml(request, reply)

    def call_status_changed(self, request: HttpRequest) -> HttpResponse:
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

    def offer_answered(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._twiml(request, ivr.offer_answered(token=token))

    def offer_key_pressed(self, request: HttpRequest, token: str) -> HttpResponse:
        reply = ivr.offer_key_pressed(
            token=token, digits=_digits(request), leg_id=_param(request, "CallSid")
        )
        return self._twiml(request, reply)

    def offer_dial_ended(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._twiml(request, ivr.offer_dial_finished(token=token))

    def offer_leg_status(self, request: HttpRequest, token: str) -> HttpResponse:
        outcome = leg_outcome(_param(request, "CallStatus")) or LegOutcome.FAILED
        offer_leg_ended(token=token, outcome=outcome)
        return HttpResponse(status=204)

    # --- A transfer: the receiving volunteer's leg, and legs moved to a conference ------

    def transfer_answered(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._twiml(request, ivr.transfer_answered(token=str(token)))

    def transfer_key_pressed(self, request: HttpRequest, token: str) -> HttpResponse:
        reply = ivr.transfer_key_pressed(
            token=str(token), digits=_digits(request), leg_id=_param(request, "CallSid")
        )
        return self._twiml(request, reply)

    def transfer_joined(self, request: HttpRequest, token: str, party: str) -> HttpResponse:
        """Where a leg moved by the REST API (calls.ports: move_to_conference) goes."""
        if party not in {member.value for member in Party}:
            return HttpResponseBadRequest("Unknown party\n", content_type="text/plain")
        return self._twiml(request, ivr.transfer_join(token=str(token), party=Party(party)))

    def transfer_leg_status(self, request: HttpRequest, token: str) -> HttpResponse:
        outcome = leg_outcome(_param(request, "CallStatus"))
        if outcome is not None and outcome.ended:
            transfer_leg_ended(token=str(token), outcome=outcome)
        return HttpResponse(status=204)

    def conference_event(self, request: HttpRequest) -> HttpResponse:
        """A conference's status callback (statusCallbackEvent "join leave"): a leg that
        left its caller's conference may end the call; other events change nothing."""
        if _param(request, "StatusCallbackEvent") == "participant-leave":
            ivr.conference_participant_left(
                room=_param(request, "FriendlyName"), leg_id=_param(request, "CallSid")
            )
        return HttpResponse(status=204)

    # --- A coordinator listening in ----------------------------------------------------

    def listen_answered(self, request: HttpRequest, token: str) -> HttpResponse:
        reply = ivr.listen_answered(token=str(token), leg_id=_param(request, "CallSid"))
        return self._twiml(request, reply)

    def listen_caller_moved(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._twiml(request, ivr.listen_caller_join(token=str(token)))

    def listen_leg_status(self, request: HttpRequest, token: str) -> HttpResponse:
        outcome = leg_outcome(_param(request, "CallStatus"))
        if outcome is not None and outcome.ended:
            listen_in_leg_ended(token=str(token))
        return HttpResponse(status=204)

    # --- A volunteer's leg to call a caller back ----------------------------------------

    def callback_answered(
        self, request: HttpRequest, public_id: str, volunteer_id: int
    ) -> HttpResponse:
        reply = ivr.callback_answered(voicemail_id=str(public_id), volunteer_id=volunteer_id)
        return self._twiml(request, reply)

    def callback_reached(
        self, request: HttpRequest, public_id: str, volunteer_id: int
    ) -> HttpResponse:
        """The <Number> URL: the caller answered, on the dialled leg; the volunteer's leg
        is its parent."""
        reply = ivr.callback_reached(
            voicemail_id=str(public_id),
            volunteer_id=volunteer_id,
            leg_id=_param(request, "ParentCallSid"),
        )
        return self._twiml(request, reply)

    def callback_dialled(
        self, request: HttpRequest, public_id: str, volunteer_id: int
    ) -> HttpResponse:
        """The <Dial> action: how dialling the caller went."""
        reply = ivr.callback_dialled(
            voicemail_id=str(public_id),
            volunteer_id=volunteer_id,
            outcome=leg_outcome(_param(request, "DialCallStatus")) or LegOutcome.FAILED,
            leg_id=_param(request, "CallSid"),
        )
        return self._twiml(request, reply)

    def callback_leg_status(
        self, request: HttpRequest, public_id: str, volunteer_id: int
    ) -> HttpResponse:
        """The volunteer's own leg changed; once it ended, a caller it reached is recorded
        as reached and the call goes to wrap-up (the dial's action may never come)."""
        outcome = leg_outcome(_param(request, "CallStatus"))
        if outcome is not None and outcome.ended:
            ivr.callback_leg_ended(
                voicemail_id=str(public_id),
                volunteer_id=volunteer_id,
                leg_id=_param(request, "CallSid"),
            )
        return HttpResponse(status=204)
