"""A call arrives (screening decides how it is received) and the caller's leg ends."""

from __future__ import annotations

import contextlib
import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tuidang.calls import selectors, statements
from tuidang.calls.case_codes import new_case_code
from tuidang.calls.metrics import count_call_ended, count_screening_decision
from tuidang.calls.models import Call
from tuidang.calls.ports import LegOutcome
from tuidang.calls.screening import (
    arrival_decide,
    arrival_read,
    call_challenge_answered,
    call_ended,
)
from tuidang.calls.services._shared import UnknownCall, set_presence, withdraw_pending_offers
from tuidang.calls.services.listening import listen_ins_call_ended
from tuidang.calls.services.queue import enqueue_call, route_on_commit
from tuidang.calls.services.transfers import transfer_call_ended
from tuidang.lib import prepared
from tuidang.lib.logcontext import log_context_bind
from tuidang.lib.phone import identify_caller
from tuidang.volunteers.models import Presence

logger = logging.getLogger(__name__)


def call_receive(*, provider_sid: str, caller_from: str, dialled: str) -> Call | None:
    """Record an incoming call. None when the dialled number is not one of ours.

    ``caller_from`` is turned into a caller key and a region here and goes no further.
    """
    number = selectors.hotline_number(dialled)
    if number is None:
        logger.warning("Call %s to a number that is not a hotline number", provider_sid)
        return None
    caller = identify_caller(caller_from, dialled=number.e164)
    now = timezone.now()
    arrival = arrival_read(
        provider_sid=provider_sid, caller_key=caller.key, withheld=caller.withheld, now=now
    )
    if arrival.stored:
        # The provider asks again when an answer was slow to come, which is when the
        # writers' queue is long: the call is read, not refused by the unique CallSid in a
        # writer's turn, and the caller is neither screened nor counted twice.
        stored = statements.call_by_sid(provider_sid)
        if stored is not None:
            return stored
    reading = arrival.reading
    # Most callers give screening nothing to write: their call is then one INSERT, a
    # transaction of its own, with no BEGIN and COMMIT around it (two round trips fewer
    # on PostgreSQL; SQLite's write lock held for that one statement, not for this code).
    # Inside someone's transaction, a savepoint still keeps a failed INSERT from breaking it.
    atomic = reading.writes(withheld=caller.withheld, now=now) or connection.in_atomic_block
    for _attempt in range(5):
        try:
            with transaction.atomic() if atomic else contextlib.nullcontext():
                decision = arrival_decide(
                    caller_key=caller.key, withheld=caller.withheld, now=now, reading=reading
                )
                queued = bool(number.language) and not decision.diverted
                queued = queued and not decision.challenge_digit
                if decision.diverted:
                    state = Call.State.SCREENED
                else:
                    state = Call.State.QUEUED if queued else Call.State.IVR
                # The one INSERT of a new call, prepared once (lib/prepared.py).
                call = prepared.insert(
                    Call(
                        provider_sid=provider_sid,
                        hotline_number=number,
                        how_heard=number.how_heard,
                        caller_key=caller.key,
                        region=caller.region,
                        last_digits=caller.last_digits,
                        withheld=caller.withheld,
                        case_code=new_case_code(),
                        language=number.language,
                        started_at=now,
                        queued_at=now if queued else None,
                        state=state,
                        screening_policy=decision.policy,
                        screening_score=decision.score,
                        challenge_digit=decision.challenge_digit,
                        first_call=reading.first_call,
                    )
                )
                if queued:
                    route_on_commit(call.language)
        except IntegrityError:
            # A retry that came while the first was being stored, or a case code in use.
            existing = Call.objects.filter(provider_sid=provider_sid).first()
            if existing is not None:
                return existing
            continue
        log_context_bind(call_id=call.pk)
        count_screening_decision(call.screening_policy)
        logger.info("Call %s received on %s, case %s", provider_sid, number.e164, call.case_code)
        return call
    raise RuntimeError("could not allocate a case code")


@transaction.atomic
def call_pass_challenge(*, provider_sid: str, digits: str) -> Call | None:
    """A withheld caller answered flood mode's keypad challenge. None: they failed."""
    call = Call.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if call is None:
        raise UnknownCall(provider_sid)
    if call.state != Call.State.IVR or not call.challenge_digit:
        return call if call.state != Call.State.SCREENED else None  # retried
    if not call_challenge_answered(call=call, digits=digits):
        return None
    call.challenge_digit = ""
    call.save(update_fields=["challenge_digit"])
    if call.language:
        enqueue_call(call)
    return call


# What the caller's leg ending changes, where it changes the call's own row alone: in the
# menu or the queue (with no offer ringing), screened, or leaving a message.
_ENDED_ALONE = {
    Call.State.IVR: Call.State.DISCONNECTED,
    Call.State.QUEUED: Call.State.ABANDONED,
    Call.State.SCREENED: Call.State.SCREENED,
    Call.State.VOICEMAIL: Call.State.VOICEMAIL,
}


def call_status(
    *, provider_sid: str, outcome: LegOutcome | None, sequence: int | None, duration: int | None
) -> Call | None:
    """A status callback for the caller's leg (``outcome`` None: a status the provider
    added that the domain does not know). Old and repeated callbacks change nothing.

    Where the status changes the call's own row alone (a leg still going, or one ending
    with no volunteer, offer or transfer tied to the call) it is saved by one UPDATE
    while the call is as read, with no lock held from the read to the write: on SQLite,
    where one writer writes at a time, this request's turn is that statement. Anything
    else, and a call changed by another request since the read, is decided with the call
    locked."""
    call = statements.call_by_sid(provider_sid)
    if call is None:
        return None
    if sequence is not None and sequence <= call.provider_sequence:
        return call  # old or repeated: the locked path would change nothing either
    ended = outcome is not None and outcome.ended
    if call.ended_at is None and (not ended or _ends_alone(call)):
        still = {"state": call.state, "provider_sequence": call.provider_sequence, "ended_at": None}
        fields = _status_changed(call, outcome, sequence, duration)
        if ended:
            call.state = _ENDED_ALONE[Call.State(call.state)]
        if prepared.update_while(call, fields, still=still):
            if ended:
                _call_ended(call)
            return call
    return _call_status_locked(
        provider_sid=provider_sid, outcome=outcome, sequence=sequence, duration=duration
    )


def _ends_alone(call: Call) -> bool:
    """Whether the caller's leg ending changes ``call``'s own row and nothing else."""
    if call.state == Call.State.QUEUED:
        return not statements.has_pending_offers(call)
    return call.state in _ENDED_ALONE


def _status_changed(
    call: Call, outcome: LegOutcome | None, sequence: int | None, duration: int | None
) -> list[str]:
    """The status, its sequence and, if the leg ended, its end set on ``call``: the fields
    set (the state, where it changes, is the caller's to set)."""
    if sequence is not None:
        call.provider_sequence = sequence
    call.provider_status = outcome.value if outcome is not None else ""
    fields = ["provider_status", "provider_sequence"]
    if outcome is not None and outcome.ended:
        call.ended_at = timezone.now()
        call.duration_seconds = duration
        fields += ["ended_at", "duration_seconds", "state"]
    return fields


def _call_ended(call: Call) -> None:
    if call.state == Call.State.ABANDONED:
        logger.info("Call %s abandoned after %ss in queue", call.case_code, call.wait_seconds)
    call_ended(call=call)
    count_call_ended(call.state)


@transaction.atomic
def _call_status_locked(
    *, provider_sid: str, outcome: LegOutcome | None, sequence: int | None, duration: int | None
) -> Call | None:
    call = statements.call_by_sid(provider_sid, lock=True)
    if call is None:
        return None
    if sequence is not None and sequence <= call.provider_sequence:
        return call
    if call.ended_at is not None:
        if sequence is not None:
            call.provider_sequence = sequence
        call.save(update_fields=["provider_sequence"])
        return call
    fields = _status_changed(call, outcome, sequence, duration)
    if call.ended_at is not None:
        if call.state == Call.State.IVR:
            call.state = Call.State.DISCONNECTED
        elif call.state in (Call.State.QUEUED, Call.State.OFFERED):
            call.state = Call.State.ABANDONED
            withdraw_pending_offers(call)
        elif call.state == Call.State.CONNECTED:
            call.state = Call.State.COMPLETED
            transfer_call_ended(call)
            listen_ins_call_ended(call)
            if call.volunteer_id is not None:
                volunteer = statements.volunteer_locked(call.volunteer_id)
                set_presence(volunteer, Presence.WRAP_UP)
    prepared.update(call, fields)
    if call.ended_at is not None:
        _call_ended(call)
    return call
