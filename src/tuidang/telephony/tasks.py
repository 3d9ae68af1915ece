"""Background jobs that talk to the provider's REST API."""

from __future__ import annotations

import logging

from django.conf import settings
from django_tasks import task

from tuidang.calls import recordings
from tuidang.calls.models import Offer, Voicemail
from tuidang.calls.services import offer_leg_ended, offer_leg_placed, offer_withdrawn
from tuidang.telephony.providers import get_provider
from tuidang.telephony.urlbuilder import public_url
from tuidang.volunteers.models import Volunteer

logger = logging.getLogger(__name__)


@task()
def ring_volunteer(*, offer_id: int) -> None:
    offer = Offer.objects.select_related("volunteer", "call__hotline_number").get(pk=offer_id)
    if offer.state != Offer.State.PENDING:
        return
    try:
        sid = get_provider().place_call(
            to=offer.volunteer.phone_address,
            from_=offer.call.hotline_number.e164,
            url=public_url("telephony:twilio-offer", token=offer.token),
            status_callback=public_url("telephony:twilio-offer-status", token=offer.token),
            timeout=settings.OFFER_TIMEOUT_SECONDS,
        )
    except Exception:
        logger.exception("Could not ring volunteer %s for offer %s", offer.volunteer_id, offer.pk)
        offer_leg_ended(token=str(offer.token), provider_status="failed")
        return
    if not offer_leg_placed(offer_id=offer.pk, leg_sid=sid):
        # Withdrawn while we were placing it: nobody else knew the leg to hang it up.
        get_provider().hang_up(sid=sid)
        offer_withdrawn(offer_id=offer.pk)


@task()
def withdraw_offer(*, offer_id: int) -> None:
    """Stop a withdrawn offer's phone ringing, then free its volunteer."""
    offer = Offer.objects.get(pk=offer_id)
    if not offer.leg_sid:
        return  # ring_volunteer has not placed the leg yet; it will see the withdrawal
    try:
        get_provider().hang_up(sid=offer.leg_sid)
    except Exception:
        # Most often the leg had already ended; either way it rings no more.
        logger.warning("Could not hang up the leg of withdrawn offer %s", offer_id, exc_info=True)
    offer_withdrawn(offer_id=offer_id)


@task()
def hang_up(*, provider_sid: str) -> None:
    get_provider().hang_up(sid=provider_sid)


@task()
def store_voicemail(*, voicemail_id: int) -> None:
    """Fetch a recording into encrypted storage, then delete it at the provider."""
    voicemail = Voicemail.objects.filter(pk=voicemail_id).first()
    if voicemail is None:
        # Retention deleted the row (only once the provider no longer held the recording).
        logger.info("Voicemail %s is gone; nothing to fetch", voicemail_id)
        return
    if voicemail.state == Voicemail.State.STORED:
        return
    provider = get_provider()
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
    provider.delete_recording(sid=voicemail.recording_sid)
    voicemail.provider_url = ""
    voicemail.save(update_fields=["provider_url"])


@task()
def delete_recording_at_provider(*, voicemail_id: int) -> None:
    """Delete a voicemail's recording at the provider without fetching it (retention, for
    a message never fetched or not deleted there). Its row keeps the recording's sid and
    URL until this succeeds; retention deletes the row after that."""
    voicemail = Voicemail.objects.filter(pk=voicemail_id).first()
    if voicemail is None or not voicemail.provider_url:
        return
    try:
        get_provider().delete_recording(sid=voicemail.recording_sid)
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
    voicemail = Voicemail.objects.select_related("call__hotline_number").get(pk=voicemail_id)
    volunteer = Volunteer.objects.get(pk=volunteer_id)
    ids = {"public_id": voicemail.public_id, "volunteer_id": volunteer.pk}
    get_provider().place_call(
        to=volunteer.phone_address,
        from_=voicemail.call.hotline_number.e164,
        url=public_url("telephony:twilio-callback", base="", **ids),
        status_callback=public_url("telephony:twilio-callback-status", base="", **ids),
        timeout=settings.OFFER_TIMEOUT_SECONDS,
    )
