"""Background jobs that talk to the telephony provider (calls/ports.py).

Services enqueue these once their transaction has committed. The tasks report back to
the services, which they import where they run: the services import this module, so a
module-level import here would make the two import each other.

Every task may run twice: a worker killed mid-task has its task run again by another
(jobs/heartbeat.py). Each says at its definition why a second run does no harm.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_tasks import task

from tuidang.calls import recordings
from tuidang.calls.models import Offer, Voicemail
from tuidang.calls.ports import LegOutcome, voice_provider
from tuidang.volunteers.models import Presence, Volunteer

logger = logging.getLogger(__name__)


@task()
def ring_volunteer(*, offer_id: int) -> None:
    """Twice: a leg already recorded is not placed again. A run killed after the provider
    placed the leg and before it was recorded rings the volunteer a second time; the
    offer's webhooks name the offer, not the leg, so either answers it, and the
    reconciler settles the offer by the leg recorded."""
    from tuidang.calls.services import offers

    offer = Offer.objects.select_related("volunteer", "call__hotline_number").get(pk=offer_id)
    if offer.state != Offer.State.PENDING or offer.leg_sid:
        return
    try:
        leg_id = voice_provider().ring_offer(
            to=offer.volunteer.phone_address,
            from_=offer.call.hotline_number.e164,
            offer_token=str(offer.token),
            timeout=settings.OFFER_TIMEOUT_SECONDS,
        )
    except Exception:
        logger.exception("Could not ring volunteer %s for offer %s", offer.volunteer_id, offer.pk)
        offers.offer_leg_ended(token=str(offer.token), outcome=LegOutcome.FAILED)
        return
    if not offers.offer_leg_placed(offer_id=offer.pk, leg_sid=leg_id):
        # Withdrawn while we were placing it: nobody else knew the leg to hang it up.
        voice_provider().hang_up(leg_id=leg_id)
        offers.offer_withdrawn(offer_id=offer.pk)


@task()
def withdraw_offer(*, offer_id: int) -> None:
    """Stop a withdrawn offer's phone ringing, then free its volunteer. Twice: hanging up
    an ended leg is refused and passed over, and a volunteer already freed stays so."""
    from tuidang.calls.services import offers

    offer = Offer.objects.get(pk=offer_id)
    if not offer.leg_sid:
        return  # ring_volunteer has not placed the leg yet; it will see the withdrawal
    try:
        voice_provider().hang_up(leg_id=offer.leg_sid)
    except Exception:
        # Most often the leg had already ended; either way it rings no more.
        logger.warning("Could not hang up the leg of withdrawn offer %s", offer_id, exc_info=True)
    offers.offer_withdrawn(offer_id=offer_id)


@task()
def hang_up(*, leg_id: str) -> None:
    """Twice: the leg is already ended; ending it again changes nothing at the provider."""
    voice_provider().hang_up(leg_id=leg_id)


@task()
def store_voicemail(*, voicemail_id: int) -> None:
    """Fetch a recording into encrypted storage, then delete it at the provider. Twice: a
    stored message is not fetched again; one killed mid-way is fetched again into the same
    file, and a recording already deleted at the provider is not an error."""
    voicemail = Voicemail.objects.filter(pk=voicemail_id).first()
    if voicemail is None:
        # Retention deleted the row (only once the provider no longer held the recording).
        logger.info("Voicemail %s is gone; nothing to fetch", voicemail_id)
        return
    if voicemail.state == Voicemail.State.STORED:
        return
    provider = voice_provider()
    try:
        audio = provider.fetch_recording(url=voicemail.provider_url)
    except Exception:
        logger.exception("Could not fetch the recording of voicemail %s", voicemail.pk)
        voicemail.state = Voicemail.State.FAILED
        voicemail.save(update_fields=["state"])
        return
    voicemail.stored_name = recordings.store(voicemail, audio)
    voicemail.state = Voicemail.State.STORED
    voicemail.save(update_fields=["stored_name", "state"])
    # Only once our sealed copy is on disk does the provider's copy go.
    provider.delete_recording(recording_id=voicemail.recording_sid)
    voicemail.provider_url = ""
    voicemail.save(update_fields=["provider_url"])


@task()
def delete_recording_at_provider(*, voicemail_id: int) -> None:
    """Delete a voicemail's recording at the provider without fetching it (retention, for
    a message never fetched or not deleted there). Its row keeps the recording's sid and
    URL until this succeeds; retention deletes the row after that. Twice: a recording
    already deleted at the provider is not an error, and its row says so."""
    voicemail = Voicemail.objects.filter(pk=voicemail_id).first()
    if voicemail is None or not voicemail.provider_url:
        return
    try:
        voice_provider().delete_recording(recording_id=voicemail.recording_sid)
    except Exception:
        logger.warning(
            "Could not delete the recording of voicemail %s at the provider; retention will "
            "try again",
            voicemail.pk,
            exc_info=True,
        )
        return
    Voicemail.objects.filter(pk=voicemail.pk).update(provider_url="")


@task()
def ring_for_callback(*, voicemail_id: int, volunteer_id: int) -> None:
    """Twice: a call back that is over (the volunteer no longer ringing for it) is not
    rung again. One killed after the provider placed the leg rings the volunteer a second
    time while the first still rings: they answer either, and the other is left to ring
    out; the volunteer's record keeps the leg placed last, which the reconciler asks about."""
    from tuidang.calls.services import voicemail as voicemail_services

    voicemail = Voicemail.objects.select_related("call__hotline_number").get(pk=voicemail_id)
    volunteer = Volunteer.objects.get(pk=volunteer_id)
    if volunteer.presence != Presence.RINGING or not volunteer.presence_after_callback:
        return
    try:
        leg_id = voice_provider().ring_callback(
            to=volunteer.phone_address,
            from_=voicemail.call.hotline_number.e164,
            voicemail_id=str(voicemail.public_id),
            volunteer_id=volunteer.pk,
            timeout=settings.OFFER_TIMEOUT_SECONDS,
        )
    except Exception:
        logger.exception("Could not ring volunteer %s for a call back", volunteer_id)
        voicemail_services.callback_volunteer_free(volunteer_id)
        return
    # The reconciler asks the provider about this leg if its status callback is lost.
    Volunteer.objects.filter(
        pk=volunteer_id, presence=Presence.RINGING, presence_after_callback__gt=""
    ).update(callback_leg_sid=leg_id)
