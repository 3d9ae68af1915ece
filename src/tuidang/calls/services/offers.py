"""Offers: a volunteer's phone rings with a waiting call, they accept, and are bridged."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from tuidang.calls import routing, statements
from tuidang.calls.models import Call, Offer
from tuidang.calls.ports import LegOutcome
from tuidang.calls.services._shared import (
    Token,
    UnknownCall,
    set_presence,
    withdraw_pending_offers,
)
from tuidang.calls.services.queue import route_on_commit
from tuidang.lib import prepared
from tuidang.volunteers.models import Presence, Volunteer

logger = logging.getLogger(__name__)

# Two missed offers in a row and a volunteer is set away: they have left their desk.
MISSED_OFFERS_BEFORE_AWAY = 2


class _OfferMoved(Exception):
    pass


# Each try that fails saw another bridge commit a move; more than a few means a bug.
LOCK_OFFER_ATTEMPTS = 20


def _lock_offer(
    *, token: Token | None = None, leg_sid: str = "", also: int | None = None
) -> tuple[Offer, Call]:
    """Lock an offer's call (and the call ``also``, in primary-key order), then the offer:
    the lock order (see the package). The offer is named by its token, or else by its
    accepted leg. Offer.DoesNotExist when there is none. The statements are prepared once
    per process (calls/statements.py): every offer answered, ended or bridged runs them.

    An offer moves to another call only inside call_connect, which holds both calls'
    locks. So once its call is locked and the offer still points at it, it stays there;
    if it moved while we waited, the savepoint lets go of the wrong call and we try again.
    """
    for _attempt in range(LOCK_OFFER_ATTEMPTS):
        call_id = statements.offer_call_id(token=token, leg_sid=leg_sid)
        try:
            with transaction.atomic():
                locked = {
                    call.pk: call
                    for call in statements.calls_locked(
                        {call_id} if also is None else {call_id, also}
                    )
                }
                # Not the volunteer's row: it is locked after the offers, where changed.
                offer = statements.offer_locked(token=token, leg_sid=leg_sid)
                if offer.call_id != call_id:
                    raise _OfferMoved
                offer.call = locked[call_id]
                return offer, locked[call_id] if also is None else locked[also]
        except _OfferMoved:
            continue
    raise RuntimeError(f"the offer kept moving between calls: {LOCK_OFFER_ATTEMPTS} tries")


@transaction.atomic
def offer_leg_placed(*, offer_id: int, leg_sid: str) -> bool:
    """Record the volunteer's leg of an offer. False if the offer ended meanwhile: the
    canceller found no leg to hang up then, so the caller of this must hang it up."""
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    offer.leg_sid = leg_sid
    offer.save(update_fields=["leg_sid"])
    return offer.state == Offer.State.PENDING


def offer_respond(*, token: Token, digits: str, leg_sid: str) -> Offer | None:
    """The volunteer heard the whisper and pressed ``digits``. The accepted offer, or None.

    The keypress the provider sends again, for an offer already accepted with its leg, is
    answered from what is stored, without the writers' turn (on SQLite, every writer's),
    as a bridge asked for again is (``call_connect``)."""
    stored = statements.offer_with_call(token)
    if (
        stored is not None
        and stored.state == Offer.State.ACCEPTED
        and (stored.leg_sid or not leg_sid)
    ):
        return stored  # the same keypress, retried
    return _respond_locked(token=token, digits=digits, leg_sid=leg_sid)


@transaction.atomic
def _respond_locked(*, token: Token, digits: str, leg_sid: str) -> Offer | None:
    offer, call = _lock_offer(token=token)
    if leg_sid and not offer.leg_sid:
        # The leg can be answered before the task that placed it has stored its sid.
        offer.leg_sid = leg_sid
        prepared.update(offer, ["leg_sid"])
    if offer.state == Offer.State.ACCEPTED:
        return offer  # the same keypress, retried
    if offer.state != Offer.State.PENDING:
        return None
    offer.responded_at = timezone.now()
    if digits != "1" or call.state != Call.State.OFFERED:
        offer.state = Offer.State.DECLINED
        prepared.update(offer, ["state", "responded_at"])
        _release_offer(offer, call)
        return None
    offer.state = Offer.State.ACCEPTED
    prepared.update(offer, ["state", "responded_at"])
    # In a ring group the first to accept takes the call; the others stop ringing.
    withdraw_pending_offers(call)
    offer.volunteer = statements.volunteer_locked(offer.volunteer_id)
    offer.volunteer.missed_offers = 0
    set_presence(offer.volunteer, Presence.ON_CALL, also=["missed_offers"])
    return offer


@transaction.atomic
def offer_withdrawn(*, offer_id: int) -> None:
    """A withdrawn offer's phone has stopped ringing: its volunteer is free again, keeping
    their place in the longest-idle order (the withdrawal was not theirs)."""
    offer = Offer.objects.get(pk=offer_id)
    volunteer = Volunteer.objects.select_for_update().get(pk=offer.volunteer_id)
    if (
        volunteer.presence != Presence.RINGING
        or volunteer.offers.filter(state=Offer.State.PENDING).exists()
    ):
        return
    volunteer.presence = Presence.AVAILABLE
    volunteer.save(update_fields=["presence"])
    for language in volunteer.language_codes():
        route_on_commit(language)


def _free_volunteer(volunteer_id: int, presence: str = Presence.AVAILABLE) -> None:
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer_id)
    if volunteer.presence in (Presence.RINGING, Presence.ON_CALL):
        set_presence(volunteer, presence)


def _release_offer(
    offer: Offer, call: Call, *, volunteer_presence: str = Presence.AVAILABLE
) -> None:
    """An offer ended without a conversation: the volunteer is free, and once no offer
    for the call rings any more, the call waits again."""
    _free_volunteer(offer.volunteer_id, volunteer_presence)
    still_ringing = call.offers.filter(state=Offer.State.PENDING).exists()
    if call.state == Call.State.OFFERED and not still_ringing:
        call.state = Call.State.QUEUED
        call.save(update_fields=["state"])
    if call.state == Call.State.QUEUED:
        route_on_commit(call.language)


@transaction.atomic
def offer_leg_ended(*, token: Token, outcome: LegOutcome, missed: bool = True) -> None:
    """The volunteer's leg of an offer ended (status callback), or could not be placed.
    ``missed`` False: the leg was lost on our side (the reconciler found it gone), which
    does not count against the volunteer."""
    try:
        offer, call = _lock_offer(token=token)
    except Offer.DoesNotExist:
        return
    if offer.state != Offer.State.PENDING:
        return
    volunteer = Volunteer.objects.select_for_update().get(pk=offer.volunteer_id)
    offer.state = Offer.State.MISSED
    offer.responded_at = timezone.now()
    offer.save(update_fields=["state", "responded_at"])
    if not missed:
        _release_offer(offer, call)
        return
    volunteer.missed_offers += 1
    volunteer.save(update_fields=["missed_offers"])
    away = volunteer.missed_offers >= MISSED_OFFERS_BEFORE_AWAY
    if away:
        logger.info(
            "Volunteer %s missed %s offers in a row: set away",
            volunteer.pk,
            volunteer.missed_offers,
        )
    _release_offer(offer, call, volunteer_presence=Presence.AWAY if away else Presence.AVAILABLE)


@transaction.atomic
def offer_dial_ended(*, token: Token) -> None:
    """The volunteer's bridge attempt ended. If it reached no caller (the queue's front
    caller was taken by someone else, or hung up), the offer did not happen after all."""
    try:
        offer, call = _lock_offer(token=token)
    except Offer.DoesNotExist:
        return
    if offer.state != Offer.State.ACCEPTED:
        return
    if call.volunteer_id == offer.volunteer_id and call.connected_at is not None:
        return  # a conversation took place; the call's own status callback ends it
    offer.state = Offer.State.CANCELED
    offer.save(update_fields=["state"])
    _free_volunteer(offer.volunteer_id)
    if (
        call.state == Call.State.OFFERED
        and not call.offers.filter(state__in=[Offer.State.PENDING, Offer.State.ACCEPTED]).exists()
    ):
        call.state = Call.State.QUEUED
        call.save(update_fields=["state"])
    route_on_commit(call.language)


def call_connect(*, provider_sid: str, leg_sid: str) -> Call:
    """The provider bridged the caller ``provider_sid`` to the volunteer's leg ``leg_sid``.

    The provider takes the caller at the front of the language queue, which is normally
    the call the offer was for. When it is not (another volunteer pressed 1 first, and
    took the caller this volunteer's offer was for), the record follows what really
    happened: the two calls swap places. The volunteers still ringing for the caller
    taken now ring for the caller left waiting, where routing could have rung them for
    it, so no phone is hung up mid-whisper over a race its volunteer never saw; otherwise
    they stop, and the caller left waits to be routed again.

    A bridge the provider asks for again is answered from what is stored, without the
    writers' turn (on SQLite, every writer's): a connected call never waits again. Nor
    does one that came after the call ended (the caller hung up, and its status callback
    came first) change the call's record: it ended as the status callback said.
    """
    bridged = statements.call_by_sid(provider_sid)
    if bridged is None:
        raise UnknownCall(provider_sid)
    try:
        accepted_for = statements.offer_call_id(leg_sid=leg_sid)
    except Offer.DoesNotExist:
        raise UnknownCall(leg_sid) from None
    if accepted_for == bridged.pk:
        if bridged.state == Call.State.CONNECTED:
            return bridged  # retried
        if bridged.ended_at is not None:
            return _bridged_after_the_end(bridged)
    return _connect_locked(bridged.pk, leg_sid)


def _bridged_after_the_end(call: Call) -> Call:
    logger.warning("Call %s was bridged after it ended", call.case_code)
    return call


@transaction.atomic
def _connect_locked(bridged_id: int, leg_sid: str) -> Call:
    try:
        offer, call = _lock_offer(leg_sid=leg_sid, also=bridged_id)
    except Offer.DoesNotExist:
        raise UnknownCall(leg_sid) from None
    if call.state == Call.State.CONNECTED:
        return call  # retried
    if call.ended_at is not None:
        return _bridged_after_the_end(call)
    if offer.call_id != call.pk:
        _swap_offers(taken=call, left=offer.call, offer=offer)
    call.state = Call.State.CONNECTED
    call.volunteer = offer.volunteer
    call.connected_at = timezone.now()
    prepared.update(call, ["state", "volunteer", "connected_at"])
    logger.info("Call %s connected to volunteer %s", call.case_code, offer.volunteer_id)
    return call


def _swap_offers(*, taken: Call, left: Call, offer: Offer) -> None:
    """``offer``'s volunteer was bridged to ``taken`` instead of ``left``, the caller their
    offer was for. Both calls are locked. The offers that were live for ``taken`` (ringing,
    or one accepted by a volunteer who is dialling the queue now: a call has one or the
    other) carry on for ``left``; where they cannot, ``left`` waits to be routed again."""
    live = list(
        taken.offers.select_for_update()
        .filter(state__in=[Offer.State.PENDING, Offer.State.ACCEPTED])
        .exclude(pk=offer.pk)
    )
    left_unoffered = (
        left.state == Call.State.OFFERED
        and not left.offers.filter(state__in=[Offer.State.PENDING, Offer.State.ACCEPTED])
        .exclude(pk=offer.pk)
        .exists()
    )
    # Those ringing move only where routing could have rung them; a volunteer accepted
    # and dialling takes whoever is at the front anyway.
    if (
        left_unoffered
        and live
        and (
            live[0].state == Offer.State.ACCEPTED
            or routing.may_ring(left, [other.volunteer_id for other in live], now=timezone.now())
        )
    ):
        for other in live:
            other.call = left
            other.save(update_fields=["call"])
    else:
        if left_unoffered:
            left.state = Call.State.QUEUED
            left.save(update_fields=["state"])
            route_on_commit(left.language)
        withdraw_pending_offers(taken)
    offer.call = taken
    offer.save(update_fields=["call"])
