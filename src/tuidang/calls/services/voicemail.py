"""Voicemail: a caller leaves a message, and a volunteer calls them back."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls import tasks
from tuidang.calls.models import Call, CallbackOutcome, Voicemail
from tuidang.calls.ports import LegOutcome
from tuidang.calls.services._shared import withdraw_pending_offers
from tuidang.lib.phone import normalise
from tuidang.volunteers.models import Volunteer

logger = logging.getLogger(__name__)


@transaction.atomic
def call_to_voicemail(*, provider_sid: str) -> Call | None:
    """The caller left the queue to leave a message. None if they are no longer waiting."""
    call = Call.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if call is None or call.ended_at is not None:
        return None
    if call.state == Call.State.VOICEMAIL:
        return call  # retried
    if not call.waiting:
        return None
    withdraw_pending_offers(call)
    call.state = Call.State.VOICEMAIL
    call.save(update_fields=["state"])
    logger.info("Call %s went to voicemail after %ss", call.case_code, call.wait_seconds)
    return call


def voicemail_received(
    *,
    provider_sid: str,
    recording_id: str,
    recording_url: str,
    duration: int,
    caller_from: str = "",
) -> Voicemail | None:
    """The provider recorded a message. Fetching it runs as a task, after commit."""
    call = Call.objects.filter(provider_sid=provider_sid, state=Call.State.VOICEMAIL).first()
    if call is None or not recording_id:
        return None
    with transaction.atomic():
        voicemail, created = Voicemail.objects.get_or_create(
            recording_sid=recording_id,
            defaults={"call": call, "provider_url": recording_url, "duration_seconds": duration},
        )
        if created and not call.withheld:
            # Sealed, for calling back only; deleted once the caller is reached.
            voicemail.callback_number = normalise(caller_from) or ""
            voicemail.save(update_fields=["callback_number_sealed"])
        if created:
            voicemail_id = voicemail.pk
            transaction.on_commit(lambda: tasks.store_voicemail.enqueue(voicemail_id=voicemail_id))
    return voicemail


class NoNumberToCall(Exception):
    """The caller withheld their number, or was reached and the number is gone."""


def voicemail_call_back(*, voicemail: Voicemail, volunteer: Volunteer) -> None:
    """Ring the volunteer's phone; when they answer, the provider dials the caller from
    the hotline's own number, so the volunteer's number is never shown to the caller."""
    if not voicemail.callback_number_sealed:
        raise NoNumberToCall(str(voicemail.public_id))
    # The sealed number is used (never shown): calling it back is an audit event.
    audit_record(actor=volunteer.user, action=Action.CALL, target=voicemail)
    voicemail_id, volunteer_id = voicemail.pk, volunteer.pk
    transaction.on_commit(
        lambda: tasks.ring_for_callback.enqueue(
            voicemail_id=voicemail_id, volunteer_id=volunteer_id
        )
    )


@transaction.atomic
def voicemail_callback_result(
    *, voicemail_id: str, volunteer_id: int, outcome: LegOutcome
) -> Voicemail | None:
    """How the call back went. Reaching the caller handles the request and deletes the
    sealed number; otherwise it stays open for another try. A volunteer who no longer
    exists (deleted while calling) is not named; what happened to the caller still is."""
    voicemail = Voicemail.objects.select_for_update().filter(public_id=voicemail_id).first()
    if voicemail is None:
        return None
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
    voicemail.save(update_fields=fields)
    return voicemail
