"""The reconciler: calls, offers and volunteers left in a state that should have moved on.

A status callback that never came (the server it was sent to was killed), an offer whose
leg died with its worker, a volunteer left ringing with no live offer: each is settled
by asking the provider where the leg really stands (``VoiceProvider.call_state``) and
then doing what the lost callback would have done, through the same services. A leg the
provider says is live is left alone, whatever its age.

Workers run it every ``RECONCILE_INTERVAL_SECONDS`` (calls/apps.py registers it with
the scheduler); ``tuidang reconcile --dry-run`` shows what it would settle. Every step
takes its rows' locks in the package's order and checks the state again under them, so
two runs at once, or a run racing the late callback itself, settle each thing once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tuidang.calls.models import Call, Offer, Voicemail
from tuidang.calls.ports import LegOutcome, LegUnknown, VoiceProvider, voice_provider
from tuidang.calls.services._shared import set_presence
from tuidang.calls.services.arrival import call_status
from tuidang.calls.services.offers import offer_dial_ended, offer_leg_ended
from tuidang.calls.services.queue import call_heard, route_on_commit
from tuidang.calls.services.voicemail import (
    callback_volunteer_free,
    voicemail_callback_leg_ended,
)
from tuidang.volunteers.models import Presence, Volunteer

logger = logging.getLogger(__name__)

# A call's record is open (no end seen) in these states.
OPEN_STATES = [
    Call.State.IVR,
    Call.State.QUEUED,
    Call.State.OFFERED,
    Call.State.CONNECTED,
    Call.State.VOICEMAIL,
    Call.State.SCREENED,
]
RECONCILE_JOB = "reconcile"
# Each run asks the provider about this many legs at most; the next run takes the rest.
BATCH = 200


@dataclass(frozen=True)
class Settlement:
    """One thing the reconciler settled (or, in a dry run, would settle)."""

    kind: str  # "call", "offer" or "volunteer"
    name: str  # a case code, an offer's number or a volunteer's number: never a phone number
    was: str
    now: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.was} -> {self.now}"


def _grace() -> timedelta:
    return timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)


def _ask(provider: VoiceProvider, leg_id: str) -> tuple[bool, LegOutcome | None]:
    """Whether the provider answered, and the leg's outcome if it has ended (None: live)."""
    try:
        outcome = provider.call_state(leg_id=leg_id)
    except LegUnknown:
        return True, LegOutcome.FAILED  # never placed, or forgotten: not live in any case
    except Exception:
        logger.warning("Could not ask the provider where a leg stands", exc_info=True)
        return False, None
    return True, outcome if outcome is not None and outcome.ended else None


def _leg_state(provider: VoiceProvider, leg_id: str) -> LegOutcome | None:
    """The leg's outcome if it has ended, None if it is live (or cannot be told now)."""
    return _ask(provider, leg_id)[1]


def _open_calls(now: datetime) -> Iterator[Call]:
    # The routing index's leading column (state) finds the open calls, however many ended.
    # Those heard from lately (on hold, or found live by an earlier run) are not asked about.
    quiet = now - timedelta(seconds=settings.RECONCILE_QUIET_SECONDS)
    yield from Call.objects.filter(
        Q(heard_at__isnull=True) | Q(heard_at__lt=quiet),
        state__in=OPEN_STATES,
        ended_at__isnull=True,
        started_at__lt=now - _grace(),
    ).order_by("pk")[:BATCH]


def _settle_calls(provider: VoiceProvider, now: datetime, dry_run: bool) -> list[Settlement]:
    settled = []
    for call in _open_calls(now):
        answered, outcome = _ask(provider, call.provider_sid)
        if outcome is None:
            if answered and not dry_run:
                call_heard(call, now)  # live: not asked again until quiet that long
            continue
        if not dry_run:
            # What the lost status callback would have done, and no more if it came after all.
            called_back = Voicemail.objects.filter(callback_leg_sid=call.provider_sid).first()
            if called_back is not None:  # a call back's leg: the caller was reached
                voicemail_callback_leg_ended(
                    voicemail_id=str(called_back.public_id),
                    volunteer_id=call.volunteer_id or 0,
                    leg_id=call.provider_sid,
                )
            else:
                call_status(
                    provider_sid=call.provider_sid, outcome=outcome, sequence=None, duration=None
                )
        settled.append(Settlement("call", call.case_code, call.state, outcome.value))
    return settled


def _settle_offers(provider: VoiceProvider, now: datetime, dry_run: bool) -> list[Settlement]:
    """Offers still ringing, or accepted and dialling, whose leg has ended."""
    settled = []
    # Through the volunteers who ring or talk (a few, by the presence index), not the
    # offers table, which holds every offer ever made.
    ringing_before = now - _grace() - timedelta(seconds=settings.OFFER_TIMEOUT_SECONDS)
    offers = (
        Offer.objects.filter(
            Q(state=Offer.State.PENDING, created_at__lt=ringing_before)
            | Q(state=Offer.State.ACCEPTED, responded_at__lt=now - _grace()),
            volunteer__presence__in=[Presence.RINGING, Presence.ON_CALL],
        )
        .select_related("call")
        .order_by("pk")[:BATCH]
    )
    for offer in offers:
        if offer.state == Offer.State.ACCEPTED and offer.call.state == Call.State.CONNECTED:
            continue  # a conversation: the call's own end settles it (see _settle_calls)
        outcome = _leg_state(provider, offer.leg_sid) if offer.leg_sid else LegOutcome.FAILED
        if outcome is None:
            continue
        if not dry_run:
            if offer.state == Offer.State.PENDING:
                offer_leg_ended(token=offer.token, outcome=outcome, missed=bool(offer.leg_sid))
            else:
                offer_dial_ended(token=offer.token)
        becomes = Offer.State.MISSED if offer.state == Offer.State.PENDING else "canceled"
        settled.append(Settlement("offer", str(offer.pk), offer.state, becomes))
    return settled


def _callback_ring_limit() -> timedelta:
    # A call back's volunteer rings until they answer, then while the caller's phone
    # rings: each at most the offer timeout. Before its leg is recorded, time tells.
    return timedelta(seconds=3 * settings.OFFER_TIMEOUT_SECONDS) + _grace()


def _callback_leg_ended(provider: VoiceProvider, volunteer: Volunteer) -> bool | None:
    """Whether the leg of the call back ``volunteer`` rings for has ended, by the provider;
    None if no leg is recorded (not placed yet, or the task placing it died)."""
    if volunteer.presence != Presence.RINGING or not volunteer.presence_after_callback:
        return None
    if not volunteer.callback_leg_sid:
        return None
    return _leg_state(provider, volunteer.callback_leg_sid) is not None


def _stuck(volunteer: Volunteer, now: datetime, leg_ended: bool | None = None) -> bool:
    """Whether ``volunteer`` is ringing or on a call with nothing to ring or talk on (a
    call back's volunteer: once its leg has ended, ``leg_ended``, or, with no leg
    recorded, must have)."""
    if volunteer.presence == Presence.RINGING:
        if volunteer.offers.filter(state=Offer.State.PENDING).exists():
            return False
        if not volunteer.presence_after_callback:
            return True
        if volunteer.callback_leg_sid:
            return bool(leg_ended)
        return now - volunteer.presence_since >= _callback_ring_limit()
    if volunteer.presence != Presence.ON_CALL:
        return False
    live_call = Q(call__ended_at__isnull=True) & ~Q(call__state__in=[Call.State.VOICEMAIL])
    return not (
        Call.objects.filter(
            volunteer=volunteer, state=Call.State.CONNECTED, ended_at__isnull=True
        ).exists()
        or volunteer.offers.filter(live_call, state=Offer.State.ACCEPTED).exists()
    )


def _becomes(volunteer: Volunteer) -> str:
    if volunteer.presence == Presence.ON_CALL:
        return Presence.WRAP_UP  # as when a call ends: time to record it
    return volunteer.presence_after_callback or Presence.AVAILABLE


@transaction.atomic
def _free(volunteer_id: int, now: datetime, leg: str, leg_ended: bool | None) -> Settlement | None:
    # Only the volunteer's row is locked: the last in the package's lock order.
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer_id)
    if volunteer.callback_leg_sid != leg:
        return None  # another call back's leg since the provider was asked
    if not _stuck(volunteer, now, leg_ended):
        return None
    was, becomes = volunteer.presence, _becomes(volunteer)
    if volunteer.presence_after_callback and was == Presence.RINGING:
        callback_volunteer_free(volunteer.pk)
    elif was == Presence.RINGING:
        # Their place in the longest-idle order is kept, as when an offer is withdrawn.
        volunteer.presence = Presence.AVAILABLE
        volunteer.save(update_fields=["presence"])
        for language in volunteer.language_codes():
            route_on_commit(language)
    else:
        set_presence(volunteer, Presence.WRAP_UP)
    return Settlement("volunteer", str(volunteer.pk), was, becomes)


def _settle_volunteers(provider: VoiceProvider, now: datetime, dry_run: bool) -> list[Settlement]:
    settled = []
    stuck = Volunteer.objects.filter(
        presence__in=[Presence.RINGING, Presence.ON_CALL], presence_since__lt=now - _grace()
    ).order_by("pk")
    for volunteer in stuck[:BATCH]:
        # Asked before the row is locked: no lock is held while the provider answers.
        leg_ended = _callback_leg_ended(provider, volunteer)
        if dry_run:
            if _stuck(volunteer, now, leg_ended):
                settled.append(
                    Settlement(
                        "volunteer", str(volunteer.pk), volunteer.presence, _becomes(volunteer)
                    )
                )
            continue
        settlement = _free(volunteer.pk, now, volunteer.callback_leg_sid, leg_ended)
        if settlement is not None:
            settled.append(settlement)
    return settled


def calls_reconcile(*, now: datetime | None = None, dry_run: bool = False) -> list[Settlement]:
    """Settle what should have moved on (see the module); what was settled.

    Calls first (their end withdraws their offers and frees their volunteers), then the
    offers left, then volunteers still ringing or on a call with no call at all."""
    now = now or timezone.now()
    provider = voice_provider()
    settled = _settle_calls(provider, now, dry_run)
    settled += _settle_offers(provider, now, dry_run)
    settled += _settle_volunteers(provider, now, dry_run)
    for settlement in settled:
        logger.info("Reconciled %s %s from %s", settlement.kind, settlement.name, settlement.was)
    return settled


def reconcile_run(claimed: datetime) -> str:
    """The periodic job (jobs/scheduler.py): the reconciler as of now, not of the slot."""
    if not settings.TELEPHONY_PROVIDER_CLASS:
        return "no telephony provider to ask"
    settled = calls_reconcile()
    return f"settled {len(settled)}" + "".join(f"; {item}" for item in settled[:10])
