"""The simulated phone network: a provider that executes our TwiML.

It plays Twilio's part (or Telnyx's) for the demo and the tests. Calls arrive at the
hotline's webhooks as the provider sends them (form-encoded, with Twilio's parameters,
signed the provider's way), and the TwiML that comes back is executed: Say, Play, Pause,
Gather, Enqueue (with its wait URL), Dial (Queue), Redirect, Record, Leave, Reject and
Hangup. Time moves on only through ``tick()``, so tests control it exactly.

It speaks to the webhooks of a provider's ``Dialect`` (dialects.py): where they are and
how requests are signed; Twilio's by default, Telnyx's TeXML with ``dialects.TELNYX``.
provider.py serves the provider's REST side to the calls domain.

It is a development tool, never the production path: operations on one call are not
serialised against each other the way a real switch would.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tuidang.telephony.simulator.dialects import (
    Dialect,
    Params,
    Webhook,
    configured_dialect,
)
from tuidang.telephony.simulator.models import SimCall, SimRecording
from tuidang.telephony.simulator.routers import DATABASE

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"


@dataclass(frozen=True)
class Reply:
    status: int
    body: str


FORM = "application/x-www-form-urlencoded"


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply: ...


class InProcessTransport:
    """Delivers webhooks through Django's full request stack, without a socket."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        from django.test import Client

        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = Client().post(
            path,
            body,
            content_type=FORM,
            headers={"host": parts.netloc, **headers},
            secure=parts.scheme == "https",
        )
        return Reply(response.status_code, response.content.decode())


class HttpTransport:
    """Delivers webhooks over HTTP, for a server in another process (load tests)."""

    def __init__(self, timeout: float = 10.0) -> None:
        import requests

        self.session = requests.Session()
        self.timeout = timeout

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        import requests

        try:
            response = self.session.post(
                url, data=body, headers={"Content-Type": FORM, **headers}, timeout=self.timeout
            )
        except requests.RequestException:
            # No answer (refused, reset, timed out): to the caller, as an error answer is.
            return Reply(502, "")
        return Reply(response.status_code, response.text)


# After a verb played to a caller on hold: the next verb, or wait there (for the keys a
# Gather asks for), or the caller has left the queue (hung up, or to the Enqueue's action).
_NEXT, _WAIT, _LEFT = "next", "wait", "left"


@dataclass
class _Hold:
    """What a document played on hold leaves the caller waiting for, and how long."""

    waiting: dict[str, Any]
    # Seconds before the wait URL is fetched again (or the Gather times out).
    pause: int = 5


def _events(target: ET.Element, base: str) -> tuple[str, list[str]]:
    """Where a <Conference> reports its events, and which (statusCallbackEvent)."""
    url = target.get("statusCallback", "")
    return (urljoin(base, url) if url else "", target.get("statusCallbackEvent", "").split())


class CallNotInProgress(Exception):
    """The REST API was asked to move a call that is not (or no longer) in progress."""


def default_transport() -> Transport:
    """The transport ``SIMULATOR_TRANSPORT`` names: in-process unless it says http."""
    if settings.SIMULATOR_TRANSPORT == "http":
        return HttpTransport()
    return InProcessTransport()


def new_sid() -> str:
    return "CA" + secrets.token_hex(16)


def default_base_url() -> str:
    return settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000"


class PhoneNetwork:
    def __init__(
        self,
        *,
        transport: Transport | None = None,
        base_url: str | None = None,
        clock: Callable[[], datetime] = timezone.now,
        dialect: Dialect | None = None,
    ) -> None:
        self.transport = transport or default_transport()
        self.dialect = dialect or configured_dialect()
        self.base_url = (base_url or default_base_url()).rstrip("/")
        self.clock = clock

    # --- What people do ---------------------------------------------------------------

    def dial(self, *, from_number: str, to_number: str) -> SimCall:
        """A caller dials one of the hotline's numbers."""
        call = SimCall.objects.create(
            sid=new_sid(),
            direction="inbound",
            from_number=from_number,
            to_number=to_number,
            status=SimCall.Status.RINGING,
            created_at=self.clock(),
            url=self.dialect.url(self.base_url, "voice"),
            status_callback=self.dialect.url(self.base_url, "status"),
        )
        self._note(call, "system", f"Calling {to_number}")
        call.status = SimCall.Status.IN_PROGRESS
        call.answered_at = self.clock()
        self._fetch_and_run(call, call.url)
        return self.refresh(call)

    def press(self, sid: str, keys: str) -> SimCall:
        call = SimCall.objects.get(sid=sid)
        for key in keys:
            if call.ended:
                break
            waiting = call.waiting or {}
            self._note(call, "keypad", key)
            if waiting.get("kind") == "gather":
                if key == waiting.get("finish_on_key", "#"):
                    self._gather_done(call)
                    continue
                call.digits += key
                call.save(update_fields=["digits", "transcript"])
                if len(call.digits) >= int(waiting.get("num_digits") or 99):
                    self._gather_done(call)
            elif waiting.get("kind") == "queue" and waiting.get("gather"):
                call.digits += key
                call.save(update_fields=["digits", "transcript"])
                if len(call.digits) >= int(waiting["gather"].get("num_digits") or 1):
                    self._queue_gather_done(call)
            elif waiting.get("kind") == "record" and key in "#*":
                self._record_done(call)
            else:
                call.save(update_fields=["transcript"])
            call = self.refresh(call)
        return call

    def hang_up(self, sid: str) -> SimCall:
        """The person on this call puts the phone down (or declines it while it rings)."""
        call = SimCall.objects.get(sid=sid)
        if call.ended:
            return call
        if call.status == SimCall.Status.RINGING:
            self._end(call, SimCall.Status.BUSY)
        else:
            if (call.waiting or {}).get("kind") == "record":
                self._record_done(call, hung_up=True)
                call = self.refresh(call)
            self._end(call, SimCall.Status.COMPLETED)
        return self.refresh(call)

    def answer(self, sid: str) -> SimCall:
        """The volunteer picks up a ringing outbound call."""
        call = SimCall.objects.get(sid=sid)
        if call.status != SimCall.Status.RINGING:
            return call
        dialer_sid = (call.waiting or {}).get("dialer")
        call.status = SimCall.Status.IN_PROGRESS
        call.answered_at = self.clock()
        call.waiting = None
        call.deadline = None
        self._note(call, "system", "Answered")
        if dialer_sid:
            self._bridge_dialled(call, dialer_sid)
        else:
            self._fetch_and_run(call, call.url)
        return self.refresh(call)

    def _bridge_dialled(self, leg: SimCall, dialer_sid: str) -> None:
        dialer = SimCall.objects.get(sid=dialer_sid)
        dialing = dialer.waiting or {}
        if dialing.get("reached"):
            self._request(leg, dialing["reached"], ParentCallSid=dialer.sid)
            dialer = self.refresh(dialer)
            if dialer.ended:
                return
        since = self.clock().isoformat()
        dialer.waiting = {**dialing, "kind": "bridged", "with": leg.sid, "since": since}
        self._note(dialer, "system", "Connected")
        dialer.save()
        leg.waiting = {"kind": "bridged", "with": dialer.sid, "action": "", "since": since}
        self._note(leg, "system", "Connected")
        leg.save()

    def tick(self) -> int:
        """Let time pass: time-outs fire and callers on hold hear the wait URL again."""
        now = self.clock()
        fired = 0
        for call in SimCall.objects.filter(deadline__lte=now).exclude(status__in=SimCall.ENDED):
            fired += 1
            self._timeout(self.refresh(call))
        return fired

    # --- The provider's REST API ------------------------------------------------------

    def create_call(
        self, *, to: str, from_: str, url: str, status_callback: str, timeout: int
    ) -> SimCall:
        call = SimCall.objects.create(
            sid=new_sid(),
            direction="outbound-api",
            from_number=from_,
            to_number=to,
            status=SimCall.Status.RINGING,
            created_at=self.clock(),
            url=url,
            status_callback=status_callback,
            waiting={"kind": "ringing"},
            deadline=self.clock() + timedelta(seconds=timeout),
        )
        self._note(call, "system", f"Ringing {to}")
        call.save(update_fields=["transcript"])
        return call

    def redirect_call(self, sid: str, url: str) -> SimCall:
        """A live call leaves whatever it plays (a queue, a bridge, a conference) and asks
        ``url`` what next, as Twilio's ``calls(sid).update(url=...)`` does. A bridge's
        other side carries on to its own Dial's action (or its Enqueue's)."""
        call = SimCall.objects.get(sid=sid)
        if call.ended or call.status != SimCall.Status.IN_PROGRESS:
            raise CallNotInProgress(sid)
        waiting = call.waiting or {}
        call.queue_name = ""
        call.enqueued_at = None
        call.waiting = None
        call.deadline = None
        self._note(call, "system", "Moved")
        call.save()
        if waiting.get("kind") == "bridged":
            self._bridge_ended(waiting["with"], since=waiting.get("since"))
        elif waiting.get("kind") == "dialing":
            self.end_call(waiting["with"])
        elif waiting.get("kind") == "conference":
            self._conference_event(call, waiting, "participant-leave")
        call = self.refresh(call)
        if not call.ended:
            self._fetch_and_run(call, url)
        return self.refresh(call)

    def update_participant(self, room: str, sid: str, *, muted: bool, coach: str) -> None:
        """The REST API's participant update: mute, or let one participant (``coach``, a
        call's sid) alone hear this one, as Twilio's ``coaching`` does."""
        call = SimCall.objects.get(sid=sid)
        waiting = call.waiting or {}
        if waiting.get("kind") != "conference" or waiting.get("room") != room:
            raise CallNotInProgress(sid)
        call.waiting = {**waiting, "muted": muted, "coach": coach}
        self._note(call, "system", "Whispering" if coach else "Muted")
        call.save()

    def end_call(self, sid: str) -> None:
        call = SimCall.objects.filter(sid=sid).first()
        if call is None or call.ended:
            return
        status = (
            SimCall.Status.CANCELED
            if call.status == SimCall.Status.RINGING
            else SimCall.Status.COMPLETED
        )
        self._end(call, status)

    # --- Queries ----------------------------------------------------------------------

    @staticmethod
    def refresh(call: SimCall) -> SimCall:
        return SimCall.objects.get(pk=call.pk)

    @staticmethod
    def refresh_sid(sid: str) -> SimCall:
        return SimCall.objects.get(sid=sid)

    @staticmethod
    def calls_for(address: str) -> Any:
        """Calls ringing at or connected to ``address`` (a volunteer's client:name)."""
        return calls_for(address)

    @staticmethod
    def conference_of(sid: str) -> list[SimCall]:
        """Who is in the conference the call ``sid`` is in (itself included), oldest first."""
        waiting = SimCall.objects.get(sid=sid).waiting or {}
        if waiting.get("kind") != "conference":
            return []
        return list(
            SimCall.objects.filter(waiting__kind="conference", waiting__room=waiting["room"])
            .exclude(status__in=SimCall.ENDED)
            .order_by("pk")
        )

    @classmethod
    def hears(cls, sid: str) -> list[str]:
        """The calls whose voice reaches the call ``sid``: the other side of a bridge; in a
        conference once started (someone who starts it is there), those not muted, and a
        coach only by the one they coach. Until then, hold music and no one."""
        call = SimCall.objects.get(sid=sid)
        waiting = call.waiting or {}
        if waiting.get("kind") == "bridged":
            return [waiting["with"]]
        room = cls.conference_of(sid)
        if not any((other.waiting or {}).get("starts") for other in room):
            return []
        return [
            other.sid
            for other in room
            if other.sid != sid
            and not (other.waiting or {}).get("muted")
            and (other.waiting or {}).get("coach", "") in ("", sid)
        ]

    @classmethod
    def hears_hold_music(cls, sid: str) -> bool:
        room = cls.conference_of(sid)
        return bool(room) and not any((other.waiting or {}).get("starts") for other in room)

    @staticmethod
    def recording(sid: str) -> SimRecording:
        return SimRecording.objects.get(sid=sid)

    @staticmethod
    def queue_position(call: SimCall) -> int:
        if not call.queue_name or call.enqueued_at is None:
            return 0
        return (
            SimCall.objects.filter(queue_name=call.queue_name, enqueued_at__lte=call.enqueued_at)
            .exclude(status__in=SimCall.ENDED)
            .count()
        )

    # --- Executing TwiML --------------------------------------------------------------

    def _note(self, call: SimCall, kind: str, text: str, language: str = "") -> None:
        entry = {"at": self.clock().isoformat(), "kind": kind, "text": text}
        if language:
            entry["language"] = language
        call.transcript = [*call.transcript, entry]

    def _params(self, call: SimCall, **extra: str) -> Params:
        params = {
            "AccountSid": settings.TWILIO_ACCOUNT_SID,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to_number,
            "Caller": call.from_number,
            "Direction": call.direction,
            "From": call.from_number,
            "To": call.to_number,
            # Twilio sends the location fields even when it knows nothing: empty.
            "CalledCity": "",
            "CalledCountry": "US",
            "CalledState": "",
            "CalledZip": "",
            "CallerCity": "",
            "CallerCountry": "",
            "CallerState": "",
            "CallerZip": "",
            "FromCity": "",
            "FromCountry": "",
            "FromState": "",
            "FromZip": "",
            "ToCity": "",
            "ToCountry": "US",
            "ToState": "",
            "ToZip": "",
        }
        params.update(extra)
        return params

    def _request(self, call: SimCall, url: str, **extra: str) -> str | None:
        params = self._params(call, **extra)
        body = urlencode(params).encode()
        headers = self.dialect.sign(Webhook(url=url, params=params, body=body))
        reply = self.transport.post(url, body, headers)
        if reply.status >= 400:
            self._note(call, "error", f"Webhook {urlsplit(url).path} answered {reply.status}")
            logger.warning("Webhook %s answered %s", url, reply.status)
            return None
        return reply.body

    def _fetch_and_run(self, call: SimCall, url: str, **extra: str) -> None:
        body = self._request(call, url, **extra)
        if body is None:
            # Twilio plays "an application error has occurred" and hangs up.
            self._note(call, "system", "An application error has occurred. Goodbye.")
            self._end(call, SimCall.Status.FAILED)
            return
        call.document = body
        call.position = 0
        self._run(call, url)

    def _verbs(self, call: SimCall) -> list[ET.Element]:
        if not call.document.strip():
            return []
        root = ET.fromstring(call.document)  # noqa: S314 - our own app's TwiML # nosec B314
        return list(root)

    def _run(self, call: SimCall, base: str) -> None:
        """Execute verbs from ``call.position`` until one waits or the document ends."""
        verbs = self._verbs(call)
        while call.position < len(verbs):
            verb = verbs[call.position]
            call.position += 1
            if not self._execute(call, verb, base):
                return  # the verb saved the call and what it now waits for
            if call.ended:
                return
        # Twilio hangs up when a document runs out of verbs.
        call.save()
        self._end(call, SimCall.Status.COMPLETED)

    def _speak(self, call: SimCall, element: ET.Element) -> None:
        if element.tag == "Say":
            self._note(call, "say", (element.text or "").strip(), element.get("language", ""))
        elif element.tag == "Play":
            self._note(call, "play", f"(audio) {element.text or ''}".strip())

    def _execute(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        """Run one verb; False when the call now waits for something."""
        run = self._VERBS.get(verb.tag)
        if run is None:
            self._note(call, "error", f"Unsupported verb <{verb.tag}>")
            return True
        return run(self, call, verb, base)

    def _say(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        self._speak(call, verb)
        return True

    def _pause(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        call.waiting = {"kind": "pause", "base": base}
        call.deadline = self.clock() + timedelta(seconds=int(verb.get("length", "1")))
        call.save()
        return False

    def _gather(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        for child in verb:
            self._speak(call, child)
        call.digits = ""
        call.waiting = {
            "kind": "gather",
            "action": urljoin(base, verb.get("action", base)),
            "num_digits": verb.get("numDigits", ""),
            "finish_on_key": verb.get("finishOnKey", "#"),
            "base": base,
        }
        call.deadline = self.clock() + timedelta(seconds=int(verb.get("timeout", "5")))
        call.save()
        return False

    def _redirect(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        call.save()
        self._fetch_and_run(call, urljoin(base, (verb.text or "").strip() or base))
        return False

    def _hangup(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        call.save()
        self._end(call, SimCall.Status.COMPLETED)
        return False

    def _reject(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        call.save()
        self._end(call, SimCall.Status.BUSY)
        return False

    def _record(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        now = self.clock()
        self._note(call, "system", "(recording after the tone)")
        call.waiting = {
            "kind": "record",
            "action": urljoin(base, verb.get("action", base)),
            "started": now.isoformat(),
            "base": base,
        }
        call.deadline = now + timedelta(seconds=int(verb.get("maxLength", "3600")))
        call.save()
        return False

    def _leave(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        if not call.queue_name:
            self._note(call, "error", "Unsupported verb <Leave>")
            return True
        call.save()
        self._leave_queue(call, "leave")
        return False

    # --- Queues -----------------------------------------------------------------------

    def _enqueue(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        call.queue_name = (verb.text or "").strip()
        call.enqueued_at = self.clock()
        call.waiting = {
            "kind": "queue",
            "action": urljoin(base, verb.get("action", "")) if verb.get("action") else "",
            "wait_url": urljoin(base, verb.get("waitUrl", "")) if verb.get("waitUrl") else "",
            "base": base,
        }
        call.deadline = None
        self._note(call, "system", f"Waiting in queue {call.queue_name}")
        call.save()
        self._play_wait_url(call)
        return False

    def _play_wait_url(self, call: SimCall) -> None:
        waiting = call.waiting or {}
        url = waiting.get("wait_url")
        if not url:
            call.deadline = None
            call.save()
            return
        assert call.enqueued_at is not None
        queued_for = int((self.clock() - call.enqueued_at).total_seconds())
        body = self._request(
            call,
            url,
            QueueSid="QU" + call.queue_name.encode().hex()[:32].ljust(32, "0"),
            QueuePosition=str(self.queue_position(call)),
            QueueTime=str(queued_for),
            AvgQueueTime=str(queued_for),
            CurrentQueueSize=str(
                SimCall.objects.filter(queue_name=call.queue_name)
                .exclude(status__in=SimCall.ENDED)
                .count()
            ),
            MaxQueueSize="1000",
        )
        if not self._still_queued(call):
            return  # bridged or hung up while the wait URL was being fetched
        self._hold(call, body or "<Response/>", base=url)

    def _hold(self, call: SimCall, body: str, *, base: str) -> None:
        """Run TwiML for a caller in a queue (wait URL or a Gather's answer there)."""
        waiting = dict(call.waiting or {})
        waiting.pop("gather", None)
        hold = _Hold(waiting=waiting)
        for verb in ET.fromstring(body):  # noqa: S314 - our own app's TwiML # nosec B314
            run = self._HOLD_VERBS.get(verb.tag)
            if run is None:
                continue  # in a queue, other verbs have no effect
            after = run(self, call, verb, hold, base)
            if after == _LEFT:
                return
            if after == _WAIT:
                break
        call.waiting = hold.waiting
        call.deadline = self.clock() + timedelta(seconds=hold.pause)
        call.save()

    # What each verb does to a caller on hold; each answers what comes after it.

    def _hold_say(self, call: SimCall, verb: ET.Element, hold: _Hold, base: str) -> str:
        self._speak(call, verb)
        return _NEXT

    def _hold_pause(self, call: SimCall, verb: ET.Element, hold: _Hold, base: str) -> str:
        hold.pause = int(verb.get("length", "1"))
        return _NEXT

    def _hold_gather(self, call: SimCall, verb: ET.Element, hold: _Hold, base: str) -> str:
        for child in verb:
            self._speak(call, child)
        hold.waiting["gather"] = {
            "action": urljoin(base, verb.get("action", base)),
            "num_digits": verb.get("numDigits", "1"),
        }
        call.digits = ""
        hold.pause = int(verb.get("timeout", "5"))
        return _WAIT

    def _hold_hangup(self, call: SimCall, verb: ET.Element, hold: _Hold, base: str) -> str:
        call.save()
        self._end(call, SimCall.Status.COMPLETED)
        return _LEFT

    def _hold_leave(self, call: SimCall, verb: ET.Element, hold: _Hold, base: str) -> str:
        call.save()
        self._leave_queue(call, "leave")
        return _LEFT

    def _queue_gather_done(self, call: SimCall) -> None:
        gather = (call.waiting or {})["gather"]
        digits = call.digits
        call.digits = ""
        call.save()
        body = self._request(call, gather["action"], Digits=digits)
        if not self._still_queued(call):
            return
        self._hold(call, body or "<Response/>", base=gather["action"])

    @staticmethod
    def _still_queued(call: SimCall) -> bool:
        return (
            SimCall.objects.filter(pk=call.pk, queue_name=call.queue_name)
            .exclude(status__in=SimCall.ENDED)
            .exists()
        )

    def _leave_queue(self, call: SimCall, result: str) -> None:
        waiting = call.waiting or {}
        queued_for = int((self.clock() - (call.enqueued_at or self.clock())).total_seconds())
        call.queue_name = ""
        call.enqueued_at = None
        call.waiting = None
        call.deadline = None
        call.save()
        action = waiting.get("action")
        if action:
            self._fetch_and_run(call, action, QueueResult=result, QueueTime=str(queued_for))
        else:
            self._run(call, waiting.get("base", call.url))

    def _dial(self, call: SimCall, verb: ET.Element, base: str) -> bool:
        action = urljoin(base, verb.get("action", "")) if verb.get("action") else ""
        target = next(iter(verb), None)
        if target is not None and target.tag == "Number":
            return self._dial_number(call, verb, target, action, base)
        if target is not None and target.tag == "Conference":
            return self._join_conference(call, target, action, base)
        if target is None or target.tag != "Queue":
            self._note(
                call, "error", "The simulated network dials only <Queue>, <Number> and <Conference>"
            )
            call.save()
            self._after_dial(call, action, base, "failed", 0)
            return False
        name = (target.text or "").strip()
        # Two volunteers dialling the queue at once must not both take its front caller.
        with transaction.atomic(using=DATABASE):
            caller = (
                SimCall.objects.select_for_update()
                .filter(queue_name=name, status=SimCall.Status.IN_PROGRESS)
                .order_by("enqueued_at", "pk")
                .first()
            )
            if caller is not None:
                queued_for = int(
                    (self.clock() - (caller.enqueued_at or self.clock())).total_seconds()
                )
                caller_waiting = caller.waiting or {}
                caller.queue_name = ""
                caller.enqueued_at = None
                caller.deadline = None
                caller.waiting = {
                    "kind": "bridged",
                    "with": call.sid,
                    "action": caller_waiting.get("action", ""),
                    "base": caller_waiting.get("base", caller.url),
                    "since": self.clock().isoformat(),
                }
                caller.save()
        if caller is None:
            self._note(call, "system", f"Queue {name} is empty")
            call.save()
            self._after_dial(call, action, base, "no-answer", 0)
            return False
        if target.get("url"):
            body = self._request(
                caller,
                urljoin(base, target.get("url", "")),
                QueueSid="QU" + name.encode().hex()[:32].ljust(32, "0"),
                DequeingCallSid=call.sid,
                QueueTime=str(queued_for),
            )
            caller = self.refresh(caller)
            for element in ET.fromstring(body or "<Response/>"):  # noqa: S314 - our TwiML # nosec B314
                self._speak(caller, element)
        self._note(caller, "system", "Connected")
        caller.save()
        call.waiting = {
            "kind": "bridged",
            "with": caller.sid,
            "action": action,
            "base": base,
            "since": self.clock().isoformat(),
        }
        call.deadline = None
        self._note(call, "system", "Connected")
        call.save()
        return False

    def _join_conference(self, call: SimCall, target: ET.Element, action: str, base: str) -> bool:
        """<Dial><Conference>: the call joins the room, held there until it leaves (hangs
        up, or is moved by the REST API); the document then goes on after the Dial."""
        room = (target.text or "").strip()
        call.waiting = {
            "kind": "conference",
            "room": room,
            "starts": target.get("startConferenceOnEnter", "true") == "true",
            "muted": target.get("muted", "false") == "true",
            "coach": target.get("callSidToCoach", "") if target.get("coach") == "true" else "",
            "action": action,
            "base": base,
            "since": self.clock().isoformat(),
            "events": _events(target, base),
        }
        call.deadline = None
        self._note(call, "system", "Joined a conference")
        call.save()
        self._conference_event(call, call.waiting, "participant-join")
        if self.hears_hold_music(call.sid):
            self._note(call, "play", "(hold music)")
            call.save(update_fields=["transcript"])
        return False

    def _conference_event(self, call: SimCall, joined: dict[str, Any], event: str) -> None:
        """A conference's status callback, with the parameters Twilio sends, for the
        events its <Conference statusCallbackEvent> asked for ("join", "leave")."""
        url, wanted = joined.get("events") or ("", [])
        if not url or event.removeprefix("participant-") not in wanted:
            return
        room = joined["room"]
        self._request(
            call,
            url,
            ConferenceSid="CF" + hashlib.sha256(room.encode()).hexdigest()[:32],
            FriendlyName=room,
            StatusCallbackEvent=event,
            Muted=str(bool(joined.get("muted"))).lower(),
            Hold="false",
            Coaching=str(bool(joined.get("coach"))).lower(),
            EndConferenceOnExit="false",
            StartConferenceOnEnter=str(bool(joined.get("starts"))).lower(),
            SequenceNumber=str(call.sequence),
            Timestamp=self.clock().strftime("%a, %d %b %Y %H:%M:%S +0000"),
        )

    def _dial_number(
        self, call: SimCall, verb: ET.Element, target: ET.Element, action: str, base: str
    ) -> bool:
        """Ring a phone number; the person there may answer (answer()) or not."""
        number = (target.text or "").strip()
        leg = SimCall.objects.create(
            sid=new_sid(),
            direction="outbound-dial",
            from_number=verb.get("callerId") or call.from_number,
            to_number=number,
            status=SimCall.Status.RINGING,
            created_at=self.clock(),
            url="",
            waiting={"kind": "ringing", "dialer": call.sid},
            deadline=self.clock() + timedelta(seconds=int(verb.get("timeout", "30"))),
        )
        self._note(leg, "system", f"Incoming call from {leg.from_number}")
        leg.save(update_fields=["transcript"])
        # <Number url>: requested on the dialled leg once it answers, before the bridge.
        reached = urljoin(base, target.get("url", "")) if target.get("url") else ""
        call.waiting = {
            "kind": "dialing",
            "with": leg.sid,
            "action": action,
            "base": base,
            "reached": reached,
        }
        call.deadline = None
        # The volunteer's phone never shows the number it dials, as a real one would not.
        self._note(call, "system", "Dialling the caller")
        call.save()
        return False

    def _after_dial(
        self, call: SimCall, action: str, base: str, status: str, duration: int
    ) -> None:
        call.waiting = None
        call.deadline = None
        call.save()
        if action:
            self._fetch_and_run(call, action, DialCallStatus=status, DialCallDuration=str(duration))
        else:
            self._run(call, base)

    # --- Time-outs and endings --------------------------------------------------------

    def _gather_done(self, call: SimCall) -> None:
        waiting = call.waiting or {}
        digits = call.digits
        call.waiting = None
        call.deadline = None
        call.digits = ""
        call.save()
        self._fetch_and_run(call, waiting["action"], Digits=digits)

    def _record_done(self, call: SimCall, *, hung_up: bool = False) -> None:
        waiting = call.waiting or {}
        started = datetime.fromisoformat(waiting["started"])
        duration = int((self.clock() - started).total_seconds())
        call.waiting = None
        call.deadline = None
        call.save()
        recording = "RE" + secrets.token_hex(16)
        SimRecording.objects.create(sid=recording, call_sid=call.sid, duration_seconds=duration)
        params = {
            "RecordingSid": recording,
            "RecordingUrl": f"{self.base_url}/sim/recordings/{recording}",
            "RecordingDuration": str(duration),
            "Digits": "hangup" if hung_up else "#",
        }
        if hung_up:
            self._request(call, waiting["action"], **params)
        else:
            self._fetch_and_run(call, waiting["action"], **params)

    def _timeout(self, call: SimCall) -> None:
        waiting = call.waiting or {}
        kind = waiting.get("kind")
        call.deadline = None
        if kind == "ringing":
            self._end(call, SimCall.Status.NO_ANSWER)
        elif kind == "gather":
            if call.digits:
                self._gather_done(call)
                return
            # No input: Twilio moves on to the verb after the <Gather>.
            call.waiting = None
            self._run(call, waiting.get("base", call.url))
        elif kind == "pause":
            call.waiting = None
            self._run(call, waiting.get("base", call.url))
        elif kind == "queue":
            if waiting.get("gather") and call.digits:
                self._queue_gather_done(call)
                return
            self._play_wait_url(call)
        elif kind == "record":
            self._record_done(call)
        else:
            call.save()

    def _end(self, call: SimCall, status: str) -> None:
        if call.ended:
            return
        waiting = call.waiting or {}
        now = self.clock()
        in_queue = bool(call.queue_name)
        call.status = status
        call.ended_at = now
        call.waiting = None
        call.deadline = None
        call.queue_name = ""
        call.enqueued_at = None
        call.sequence += 1
        self._note(call, "system", f"Call {status}")
        call.save()
        if in_queue and waiting.get("action"):
            # The caller hung up in the queue: Twilio reports it to the Enqueue action.
            self._request(call, waiting["action"], QueueResult="hangup")
        if call.status_callback:
            duration = int((now - (call.answered_at or now)).total_seconds())
            self._request(
                call,
                call.status_callback,
                CallDuration=str(duration),
                Duration=str((duration + 59) // 60),
                SequenceNumber=str(call.sequence),
                CallbackSource="call-progress-events",
                Timestamp=now.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            )
        if waiting.get("kind") == "bridged":
            self._bridge_ended(waiting["with"], since=waiting.get("since"))
        elif waiting.get("kind") == "dialing":
            self.end_call(waiting["with"])
        elif waiting.get("kind") == "conference":
            self._conference_event(call, waiting, "participant-leave")
        elif waiting.get("kind") == "ringing" and waiting.get("dialer"):
            dialer = SimCall.objects.filter(sid=waiting["dialer"]).first()
            if dialer is not None and not dialer.ended:
                dialing = dialer.waiting or {}
                self._after_dial(
                    dialer, dialing.get("action", ""), dialing.get("base", ""), status, 0
                )

    def _bridge_ended(self, other_sid: str, *, since: str | None) -> None:
        other = SimCall.objects.filter(sid=other_sid).first()
        if other is None or other.ended:
            return
        waiting = other.waiting or {}
        if waiting.get("kind") != "bridged":
            return
        started = datetime.fromisoformat(since) if since else self.clock()
        duration = int((self.clock() - started).total_seconds())
        self._note(other, "system", "The other party hung up")
        other.waiting = None
        other.save()
        action = waiting.get("action", "")
        if other.direction == "inbound":
            if action:
                self._fetch_and_run(other, action, QueueResult="bridged", QueueTime="0")
            else:
                self._run(other, waiting.get("base", other.url))
        else:
            self._after_dial(other, action, waiting.get("base", other.url), "completed", duration)

    # The verbs of a TwiML document, by tag: each runs one, False when the call now waits.
    _VERBS: ClassVar[dict[str, Callable[[PhoneNetwork, SimCall, ET.Element, str], bool]]] = {
        "Say": _say,
        "Play": _say,
        "Pause": _pause,
        "Gather": _gather,
        "Redirect": _redirect,
        "Hangup": _hangup,
        "Reject": _reject,
        "Enqueue": _enqueue,
        "Dial": _dial,
        "Record": _record,
        "Leave": _leave,
    }
    # The verbs of a document played to a caller on hold (the wait URL's), by tag.
    _HOLD_VERBS: ClassVar[
        dict[str, Callable[[PhoneNetwork, SimCall, ET.Element, _Hold, str], str]]
    ] = {
        "Say": _hold_say,
        "Play": _hold_say,
        "Pause": _hold_pause,
        "Gather": _hold_gather,
        "Hangup": _hold_hangup,
        "Leave": _hold_leave,
    }


def calls_for(address: str) -> Any:
    """Calls ringing at or connected to ``address`` (a volunteer's client:name)."""
    return SimCall.objects.filter(Q(to_number=address) & ~Q(status__in=SimCall.ENDED)).order_by(
        "created_at"
    )
