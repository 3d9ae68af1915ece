"""Voicemail: a caller leaves a message, and a volunteer calls them back."""

from __future__ import annotations

import contextlib
import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls import statements, tasks
from tuidang.calls.case_codes import new_case_code
from tuidang.calls.metrics import count_call_ended
from tuidang.calls.models import Call, CallbackOutcome, Offer, Voicemail
from tuidang.calls.ports import LegOutcome
from tuidang.calls.services._shared import set_presence, withdraw_pending_offers
from tuidang.calls.services.queue import route_on_commit
from tuidang.lib import prepared
from tuidang.lib.phone import normalise
from tuidang.volunteers.models import Presence, Volunteer

logger = logging.getLogger(__name__)


def call_to_voicemail(*, provider_sid: str) -> Call | None:
    """The caller left the queue to leave a message. None if they are no longer waiting.

    A caller waiting with no offer ringing for them is moved by one UPDATE that holds
    only while the call is as read, and the provider's request sent again is answered
    from what is stored: neither holds a lock from its read to its write (on SQLite, the
    writers' turn). A call rung for, or changed since the read, is moved with it locked."""
    call = statements.call_by_sid(provider_sid)
    if call is None or call.ended_at is not None:
        return None
    if call.state == Call.State.VOICEMAIL:
        return call  # retried
    if call.state == Call.State.QUEUED and not statements.has_pending_offers(call):
        call.state = Call.State.VOICEMAIL
        still = {"state": Call.State.QUEUED, "ended_at": None}
        if prepared.update_while(call, ["state"], still=still):
            _went_to_voicemail(call)
            return call
    return _to_voicemail_locked(provider_sid)


@transaction.atomic
def _to_voicemail_locked(provider_sid: str) -> Call | None:
    call = statements.call_by_sid(provider_sid, lock=True)
    if call is None or call.ended_at is not None:
        return None
    if call.state == Call.State.VOICEMAIL:
        return call  # retried
    if not call.waiting:
        return None
    withdraw_pending_offers(call)
    call.state = Call.State.VOICEMAIL
    prepared.update(call, ["state"])
    _went_to_voicemail(call)
    return call


def _went_to_voicemail(call: Call) -> None:
    logger.info("Call %s went to voicemail after %ss", call.case_code, call.wait_seconds)


def voicemail_received(
    *,
    provider_sid: str,
    recording_id: str,
    recording_url: str,
    duration: int,
    caller_from: str = "",
) -> Voicemail | None:
    """The provider recorded a message. Fetching it runs as a task, after commit."""
    call = statements.call_by_sid(provider_sid, state=Call.State.VOICEMAIL)
    if call is None or not recording_id:
        return None
    voicemail = statements.voicemail_of_recording(recording_id)
    if voicemail is not None:
        return voicemail  # a retried webhook
    voicemail = Voicemail(
        call=call,
        recording_sid=recording_id,
        provider_url=recording_url,
        duration_seconds=duration,
        callback_leg_sid="",  # the column's default: lib/prepared.py's INSERT sends each one
    )
    if not call.withheld:
        # Sealed, for calling back only; deleted once the caller is reached. Sealed before
        # the INSERT (bound to the new row's public_id), so the row is stored whole at once.
        voicemail.callback_number = normalise(caller_from) or ""
    # One INSERT, a transaction of its own (as a new call's, arrival.py); inside someone's
    # transaction, a savepoint keeps a retried webhook's failed INSERT from breaking it.
    try:
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            prepared.insert(voicemail)
    except IntegrityError:  # the same recording, stored by a retry meanwhile
        return Voicemail.objects.get(recording_sid=recording_id)
    voicemail_id = voicemail.pk
    transaction.on_commit(lambda: tasks.store_voicemail.enqueue(voicemail_id=voicemail_id))
    return voicemail


class NoNumberToCall(Exception):
    """The caller withheld their number, or was reached and the number is gone."""


class VolunteerBusy(Exception):
    """The volunteer's phone already rings (an offer, or another call back), or they are on
    a call: a call back would put two calls on one phone."""


@transaction.atomic
def voicemail_call_back(*, voicemail: Voicemail, volunteer: Volunteer) -> None:
    """Ring the volunteer's phone; when they answer, the provider dials the caller from
    the hotline's own number, so the volunteer's number is never shown to the caller.

    The volunteer is ringing from now until the call back ends, as for an offer, so that
    routing never offers them a queued call meanwhile (it takes the same row lock)."""
    if not voicemail.callback_number_sealed:
        raise NoNumberToCall(str(voicemail.public_id))
    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if locked.presence in (Presence.RINGING, Presence.ON_CALL):
        raise VolunteerBusy(locked.presence)
    locked.presence_after_callback = (
        Presence.AWAY if locked.presence == Presence.AWAY else Presence.AVAILABLE
    )
    locked.callback_leg_sid = ""  # recorded once the leg is placed (tasks.ring_for_callback)
    locked.save(update_fields=["presence_after_callback", "callback_leg_sid"])
    set_presence(locked, Presence.RINGING)
    # The sealed number is used (never shown): calling it back is an audit event.
    audit_record(actor=volunteer.user, action=Action.CALL, target=voicemail)
    voicemail_id, volunteer_id = voicemail.pk, volunteer.pk
    transaction.on_commit(
        lambda: tasks.ring_for_callback.enqueue(
            voicemail_id=voicemail_id, volunteer_id=volunteer_id
        )
    )


@transaction.atomic
def callback_volunteer_free(volunteer_id: int) -> None:
    """A call back reached no one: its volunteer, still ringing for it, returns to the
    presence they had (an available volunteer is offered waiting callers at once)."""
    volunteer = Volunteer.objects.select_for_update().filter(pk=volunteer_id).first()
    if (
        volunteer is None
        or volunteer.presence != Presence.RINGING
        or not volunteer.presence_after_callback
        or volunteer.offers.filter(state=Offer.State.PENDING).exists()
    ):
        return
    presence = volunteer.presence_after_callback
    volunteer.presence_after_callback = ""
    volunteer.save(update_fields=["presence_after_callback"])
    set_presence(volunteer, presence)
    if presence == Presence.AVAILABLE:
        for language in volunteer.language_codes():
            route_on_commit(language)


@transaction.atomic
def voicemail_callback_reached(*, voicemail_id: str, volunteer_id: int, leg_id: str) -> Call | None:
    """The caller picked up a call back: a call connected to the volunteer, on their desk
    as any call is (its own case code, the caller's key, region and language), so that
    what the caller says is recorded. ``leg_id`` is the volunteer's leg, which ends it.
    None if the request or the volunteer is gone."""
    existing = Call.objects.filter(provider_sid=leg_id).first()
    if existing is not None:
        return existing  # retried
    voicemail = (
        Voicemail.objects.select_related("call__hotline_number").filter(public_id=voicemail_id)
    ).first()
    volunteer = Volunteer.objects.select_for_update().filter(pk=volunteer_id).first()
    if voicemail is None or volunteer is None or not leg_id:
        return None
    earlier, now = voicemail.call, timezone.now()
    call = Call.objects.create(
        provider_sid=leg_id,
        hotline_number=earlier.hotline_number,
        how_heard=earlier.how_heard,
        caller_key=earlier.caller_key,
        region=earlier.region,
        last_digits=earlier.last_digits,
        case_code=new_case_code(),
        language=earlier.language,
        state=Call.State.CONNECTED,
        volunteer=volunteer,
        started_at=now,
        connected_at=now,
    )
    volunteer.presence_after_callback = ""
    volunteer.save(update_fields=["presence_after_callback"])
    set_presence(volunteer, Presence.ON_CALL)
    voicemail.callback_leg_sid = leg_id  # the reconciler ends the call through it
    voicemail.save(update_fields=["callback_leg_sid"])
    logger.info("Call back of %s connected as %s", earlier.case_code, call.case_code)
    return call


def _end_callback_call(leg_id: str) -> bool:
    """End the call a call back connected, if it did; the volunteer goes to wrap-up.
    True if the caller was reached on this leg."""
    call = Call.objects.select_for_update().filter(provider_sid=leg_id).first()
    if call is None:
        return False
    if call.state == Call.State.CONNECTED:
        now = timezone.now()
        call.state = Call.State.COMPLETED
        call.ended_at = now
        call.duration_seconds = int((now - (call.connected_at or now)).total_seconds())
        call.save(update_fields=["state", "ended_at", "duration_seconds"])
        count_call_ended(call.state)
        if call.volunteer_id is not None:
            volunteer = Volunteer.objects.select_for_update().get(pk=call.volunteer_id)
            if volunteer.presence == Presence.ON_CALL:
                set_presence(volunteer, Presence.WRAP_UP)
    return True


@transaction.atomic
def voicemail_callback_leg_ended(
    *, voicemail_id: str, volunteer_id: int, leg_id: str
) -> Voicemail | None:
    """The volunteer's leg of a call back ended, whoever hung up first. A caller it reached
    is recorded as reached (the provider may not report the dial's end after the
    volunteer hangs up); one it did not reach leaves the request as the dial left it, and
    frees the volunteer."""
    voicemail = Voicemail.objects.select_for_update().filter(public_id=voicemail_id).first()
    if not _end_callback_call(leg_id):
        callback_volunteer_free(volunteer_id)
        return voicemail
    if voicemail is None:
        return voicemail
    if voicemail.callback_outcome != CallbackOutcome.REACHED or voicemail.handled_at is None:
        now = timezone.now()
        voicemail.callback_outcome = CallbackOutcome.REACHED
        voicemail.callback_at = voicemail.handled_at = now
        voicemail.callback_number_sealed = b""
        voicemail.save(
            update_fields=[
                "callback_outcome",
                "callback_at",
                "handled_at",
                "callback_number_sealed",
            ]
        )
    return voicemail


@transaction.atomic
def voicemail_callback_result(
    *, voicemail_id: str, volunteer_id: int, outcome: LegOutcome, leg_id: str = ""
) -> Voicemail | None:
    """How the call back went. Reaching the caller handles the request and deletes the
    sealed number; otherwise it stays open for another try. A volunteer who no longer
    exists (deleted while calling) is not named; what happened to the caller still is."""
    voicemail = Voicemail.objects.select_for_update().filter(public_id=voicemail_id).first()
    if voicemail is None:
        return None
    if leg_id and _end_callback_call(leg_id):
        outcome = LegOutcome.COMPLETED  # the caller picked up: reached, however it ended
    now = timezone.now()
    voicemail.callback_at = now
    if Volunteer.objects.filter(pk=volunteer_id).exists():
        voicemail.callback_by_id = volunteer_id
    else:
        logger.warning("Callback result for voicemail %s by an unknown volunteer", voicemail.pk)
        voicemail.callback_by = None
    fields = ["callback_at", "callback_by", "callback_outcome"]
    if outcome == LegOutcome.COMPLETED:
        voicemail.callback_outcome = CallbackOutcome.REACHED
        voicemail.handled_at = now
        voicemail.callback_number_sealed = b""
        fields += ["handled_at", "callback_number_sealed"]
    elif outcome in (LegOutcome.NO_ANSWER, LegOutcome.BUSY):
        voicemail.callback_outcome = CallbackOutcome.NO_ANSWER
    else:
        voicemail.callback_outcome = CallbackOutcome.FAILED
    if outcome != LegOutcome.COMPLETED:
        callback_volunteer_free(volunteer_id)  # their leg is hung up now
    voicemail.save(update_fields=fields)
    return voicemail
