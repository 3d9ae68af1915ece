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

from tuidang.calls import recordings, statements
from tuidang.calls.models import ListenIn, Offer, Transfer, Voicemail
from tuidang.calls.ports import LegOutcome, Party, VoiceProvider, voice_provider
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
def start_transfer(*, transfer_id: int) -> None:
    """Move the caller into the call's conference (hold music), then ring the volunteer
    the call is handed to. Either failing, the transfer is not taken and the caller goes
    back (see services/transfers.py)."""
    from tuidang.calls.services import transfers

    transfer = Transfer.objects.select_related("call__hotline_number", "to_volunteer").get(
        pk=transfer_id
    )
    if transfer.state != Transfer.State.RINGING or transfer.to_volunteer is None:
        return
    token = str(transfer.token)
    provider = voice_provider()
    try:
        provider.move_to_conference(
            leg_id=transfer.call.provider_sid, transfer_token=token, party=Party.CALLER
        )
        if not transfer.warm:
            # Cold: the first volunteer's part is over. Bridged from the queue, their leg
            # has ended already with the bridge; moved into a conference before, it is
            # ended here.
            _hang_up_quietly(provider, transfer.from_leg_sid)
        else:
            provider.move_to_conference(
                leg_id=transfer.from_leg_sid, transfer_token=token, party=Party.SENDER
            )
        leg_id = provider.ring_transfer(
            to=transfer.to_volunteer.phone_address,
            from_=transfer.call.hotline_number.e164,
            transfer_token=token,
            timeout=settings.OFFER_TIMEOUT_SECONDS,
        )
    except Exception:
        logger.exception("Could not start transfer %s", transfer_id)
        transfers.transfer_leg_ended(token=token, outcome=LegOutcome.FAILED)
        return
    if not transfers.transfer_leg_placed(transfer_id=transfer.pk, leg_sid=leg_id):
        _hang_up_quietly(provider, leg_id)


@task()
def move_to_conference(*, transfer_id: int, party: str) -> None:
    """Move the leg of ``party`` (the first volunteer back to the caller, or the receiving
    one to them) into the call's conference. A leg that has gone meanwhile (its phone put
    down) leaves the caller to the head of the queue."""
    from tuidang.calls.services import transfers

    transfer = Transfer.objects.select_related("call").get(pk=transfer_id)
    leg_id = transfer.from_leg_sid if party == Party.SENDER else transfer.leg_sid
    try:
        if not leg_id:
            raise ValueError("no leg to move")
        voice_provider().move_to_conference(
            leg_id=leg_id, transfer_token=str(transfer.token), party=Party(party)
        )
    except Exception:
        logger.warning(
            "Could not move the %s of transfer %s to the caller", party, transfer_id, exc_info=True
        )
        transfers.transfer_caller_requeue(transfer_id=transfer_id)


@task()
def start_listen_in(*, listen_in_id: int, move_caller: bool) -> None:
    """Move the caller into the call's conference when they are not there yet (the
    volunteer's leg follows them: services/listening.py), then ring the coordinator."""
    from tuidang.calls.services import listening

    listen_in = ListenIn.objects.select_related("call__hotline_number", "coordinator").get(
        pk=listen_in_id
    )
    if listen_in.state != ListenIn.State.RINGING or listen_in.coordinator is None:
        return
    token = str(listen_in.token)
    provider = voice_provider()
    try:
        if move_caller:
            provider.move_to_listen_in(leg_id=listen_in.call.provider_sid, listen_token=token)
        leg_id = provider.ring_listener(
            to=listen_in.coordinator.phone_address,
            from_=listen_in.call.hotline_number.e164,
            listen_token=token,
            timeout=settings.OFFER_TIMEOUT_SECONDS,
        )
    except Exception:
        logger.exception("Could not start listen-in %s", listen_in_id)
        listening.listen_in_leg_ended(token=token)
        return
    if not listening.listen_in_leg_placed(listen_in_id=listen_in.pk, leg_sid=leg_id):
        _hang_up_quietly(provider, leg_id)


@task()
def whisper(*, room: str, leg_id: str, to_leg_id: str) -> None:
    if leg_id:
        voice_provider().set_whisper(room=room, leg_id=leg_id, to_leg_id=to_leg_id)


def _hang_up_quietly(provider: VoiceProvider, leg_id: str) -> None:
    """End a leg that may have ended already (the provider then refuses)."""
    try:
        provider.hang_up(leg_id=leg_id)
    except Exception:
        logger.warning("Could not hang up leg of a transfer", exc_info=True)


@task()
def store_voicemail(*, voicemail_id: int) -> None:
    """Fetch a recording into encrypted storage, then delete it at the provider. Twice: a
    stored message is not fetched again; one killed mid-way is fetched again into the same
    file, and a recording already deleted at the provider is not an error."""
    voicemail = statements.voicemail_by_pk(voicemail_id)
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
