"""Transfers: a volunteer hands a connected call to a colleague, warm or cold.

The caller moves out of the queue's bridge into the call's conference
(``Call.conference``), where they hear hold music while the colleague's phone rings.

- Warm: the first volunteer waits in a room of the transfer's own (named by its token);
  the colleague who accepts joins them there and the two talk while the caller holds.
  The first volunteer then hands the caller over (``transfer_hand_over``): the colleague
  moves to the caller's conference and the first volunteer's leg ends.
- Cold: the first volunteer's leg ends at once (they go to wrap-up); the colleague who
  accepts joins the caller directly.

A transfer not taken (declined, no answer, busy, a phone that could not be rung) loses
no caller: warm, the first volunteer returns to the caller; cold, the caller waits in
the queue again at its head (the call keeps its first queued time, which routing orders
by), offered like any call, and the volunteer who accepts joins the conference.

The colleague is ``ringing`` from the press on "Transfer", so routing never offers them
a queued call meanwhile. Locks follow the package's order: the call, then offers, then
volunteers (by primary key). Each transfer is a row: who handed what to whom, warm or
cold, and how it ended; the people's steps are in the audit log too.
"""

from __future__ import annotations

import functools
import logging
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls import tasks
from tuidang.calls.models import Call, Offer, Transfer
from tuidang.calls.ports import LegOutcome, Party
from tuidang.calls.services._shared import Token, hang_up_on_commit, set_presence
from tuidang.calls.services.queue import route_on_commit
from tuidang.volunteers.models import Presence, Volunteer

logger = logging.getLogger(__name__)

DECLINED = "declined"
LIVE = (Transfer.State.RINGING, Transfer.State.CONSULTING)


class TransferRefused(Exception):
    """A transfer that cannot start or go on; the message says why, for the desk."""


def volunteer_leg(call: Call, volunteer_id: int | None) -> str:
    """The provider's id of ``volunteer_id``'s leg on ``call``: the transfer that handed
    them the call, or the offer they accepted. Blank when they have none (a call back,
    where the caller's own leg is the volunteer's)."""
    if volunteer_id is None:
        return ""
    handed = (
        call.transfers.filter(to_volunteer_id=volunteer_id, state__in=[*LIVE, "completed"])
        .order_by("-pk")
        .values_list("leg_sid", flat=True)
        .first()
    )
    if handed:
        return handed
    accepted = (
        call.offers.filter(volunteer_id=volunteer_id, state=Offer.State.ACCEPTED)
        .order_by("-pk")
        .values_list("leg_sid", flat=True)
        .first()
    )
    return accepted or ""


def _lock_volunteers(*ids: int) -> dict[int, Volunteer]:
    return {
        volunteer.pk: volunteer
        for volunteer in Volunteer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }


def _start_on_commit(transfer: Transfer) -> None:
    transaction.on_commit(functools.partial(tasks.start_transfer.enqueue, transfer_id=transfer.pk))


def _move_on_commit(transfer: Transfer, party: Party) -> None:
    transaction.on_commit(
        functools.partial(tasks.move_to_conference.enqueue, transfer_id=transfer.pk, party=party)
    )


@transaction.atomic
def transfer_start(
    *, call: Call, volunteer: Volunteer, to_volunteer_id: int, warm: bool
) -> Transfer:
    """``volunteer`` hands ``call``, connected to them, to the volunteer ``to_volunteer_id``,
    who must be free. Their phone rings once this commits; the caller holds meanwhile."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.state != Call.State.CONNECTED or call.volunteer_id != volunteer.pk:
        raise TransferRefused(_("This call is no longer yours to transfer."))
    if call.transfers.filter(state__in=LIVE).exists():
        raise TransferRefused(_("This call is already being transferred."))
    leg = volunteer_leg(call, volunteer.pk)
    if not leg:
        raise TransferRefused(_("A call you are calling back cannot be transferred."))
    if to_volunteer_id == volunteer.pk:
        raise TransferRefused(_("Choose a colleague to transfer the call to."))
    locked = _lock_volunteers(volunteer.pk, to_volunteer_id)
    target = locked.get(to_volunteer_id)
    if (
        target is None
        or target.presence != Presence.AVAILABLE
        or target.offers.filter(state=Offer.State.PENDING).exists()
    ):
        raise TransferRefused(_("That colleague is no longer free to take a call."))
    set_presence(target, Presence.RINGING)
    if not warm:
        # Cold: the first volunteer leaves the call now and can write it up.
        set_presence(locked[volunteer.pk], Presence.WRAP_UP)
    if not call.conference:
        call.conference = "CF" + uuid.uuid4().hex
        call.save(update_fields=["conference"])
    transfer = Transfer.objects.create(
        call=call, from_volunteer=volunteer, to_volunteer=target, warm=warm, from_leg_sid=leg
    )
    audit_record(actor=volunteer.user, action=Action.CREATE, target=transfer)
    logger.info("Call %s transferred (%s)", call.case_code, "warm" if warm else "cold")
    _start_on_commit(transfer)
    return transfer


def _lock_transfer(token: Token) -> tuple[Transfer, Call] | None:
    """The transfer and its call, locked in the package's order (the call first)."""
    call_id = Transfer.objects.filter(token=token).values_list("call_id", flat=True).first()
    if call_id is None:
        return None
    call = Call.objects.select_for_update().get(pk=call_id)
    transfer = Transfer.objects.select_for_update().get(token=token)
    return transfer, call


@transaction.atomic
def transfer_leg_placed(*, transfer_id: int, leg_sid: str) -> bool:
    """Record the receiving volunteer's leg. False if the transfer failed or was canceled
    meanwhile: nobody else knew the leg to hang it up, so the caller of this must. (Taken
    already, the leg answered before this ran: it is the call's now.)"""
    transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
    if not transfer.leg_sid:
        transfer.leg_sid = leg_sid
        transfer.save(update_fields=["leg_sid"])
    return transfer.state not in (Transfer.State.FAILED, Transfer.State.CANCELED)


@transaction.atomic
def transfer_respond(*, token: Token, digits: str, leg_sid: str) -> Transfer | None:
    """The receiving volunteer heard the whisper and pressed ``digits`` (1 accepts). The
    transfer accepted, or None (declined, or it ended meanwhile)."""
    locked = _lock_transfer(token)
    if locked is None:
        return None
    transfer, call = locked
    if leg_sid and not transfer.leg_sid:
        transfer.leg_sid = leg_sid  # answered before the task stored it
        transfer.save(update_fields=["leg_sid"])
    if transfer.state in (Transfer.State.CONSULTING, Transfer.State.COMPLETED):
        return transfer  # the same keypress, retried
    if transfer.state != Transfer.State.RINGING:
        return None
    if digits != "1" or call.ended_at is not None:
        _fail(transfer, call, DECLINED)
        if transfer.to_volunteer is not None and transfer.to_volunteer.user_id:
            audit_record(actor=transfer.to_volunteer.user, action=Action.CHANGE, target=transfer)
        return None
    volunteers = _lock_volunteers(*_ids(transfer))
    receiver = volunteers[transfer.to_volunteer_id] if transfer.to_volunteer_id else None
    if receiver is not None:
        receiver.missed_offers = 0
        receiver.save(update_fields=["missed_offers"])
        set_presence(receiver, Presence.ON_CALL)
        audit_record(actor=receiver.user, action=Action.CHANGE, target=transfer)
    if transfer.warm:
        transfer.state = Transfer.State.CONSULTING
        transfer.save(update_fields=["state"])
    else:
        _complete(transfer, call)
    return transfer


def _ids(transfer: Transfer) -> list[int]:
    return [pk for pk in (transfer.from_volunteer_id, transfer.to_volunteer_id) if pk is not None]


def _complete(transfer: Transfer, call: Call) -> None:
    """The caller is now the receiving volunteer's: the call is on their desk."""
    transfer.state = Transfer.State.COMPLETED
    transfer.ended_at = timezone.now()
    transfer.save(update_fields=["state", "ended_at"])
    call.volunteer_id = transfer.to_volunteer_id
    call.save(update_fields=["volunteer"])


@transaction.atomic
def transfer_hand_over(*, call: Call, volunteer: Volunteer) -> Transfer:
    """Warm: the first volunteer, having talked with their colleague, hands the caller
    over. The colleague moves to the caller; the first volunteer's leg ends."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    transfer = (
        call.transfers.select_for_update()
        .filter(state=Transfer.State.CONSULTING, from_volunteer=volunteer)
        .first()
    )
    if transfer is None or call.ended_at is not None:
        raise TransferRefused(_("There is no colleague waiting to take this call."))
    _complete(transfer, call)
    sender = _lock_volunteers(volunteer.pk)[volunteer.pk]
    set_presence(sender, Presence.WRAP_UP)
    audit_record(actor=volunteer.user, action=Action.CHANGE, target=transfer)
    _move_on_commit(transfer, Party.RECEIVER)
    hang_up_on_commit(transfer.from_leg_sid)
    return transfer


@transaction.atomic
def transfer_leg_ended(*, token: Token, outcome: LegOutcome) -> None:
    """The receiving volunteer's leg ended (status callback), or could not be placed.
    Ringing, the transfer was not taken; taken, and the call theirs, the caller is hung up
    as a bridge would have ended."""
    locked = _lock_transfer(token)
    if locked is None:
        return
    transfer, call = locked
    if transfer.state == Transfer.State.RINGING:
        _fail(transfer, call, outcome.value)
    elif transfer.state == Transfer.State.CONSULTING:
        # They hung up before the hand-over: the first volunteer takes the caller back.
        _fail(transfer, call, outcome.value, receiver_presence=Presence.WRAP_UP)
    elif (
        transfer.state == Transfer.State.COMPLETED
        and call.volunteer_id == transfer.to_volunteer_id
        and call.ended_at is None
        and not call.transfers.filter(state__in=LIVE).exists()
    ):
        hang_up_on_commit(call.provider_sid)


def _fail(
    transfer: Transfer,
    call: Call,
    outcome: str,
    *,
    receiver_presence: str = Presence.AVAILABLE,
) -> None:
    """The transfer was not taken: the caller goes back to the first volunteer (warm) or
    to the head of the queue (cold)."""
    transfer.state = Transfer.State.FAILED
    transfer.outcome = outcome[:16]
    transfer.ended_at = timezone.now()
    transfer.save(update_fields=["state", "outcome", "ended_at"])
    volunteers = _lock_volunteers(*_ids(transfer))
    receiver = volunteers.get(transfer.to_volunteer_id or 0)
    if receiver is not None and receiver.presence in (Presence.RINGING, Presence.ON_CALL):
        set_presence(receiver, receiver_presence)
    hang_up_on_commit(transfer.leg_sid)
    logger.info("Transfer of call %s not taken: %s", call.case_code, outcome)
    if call.ended_at is not None:
        return
    if transfer.warm:
        _move_on_commit(transfer, Party.SENDER)
        return
    # Cold: the first volunteer has gone; the caller is first in the queue again.
    call.state = Call.State.QUEUED
    call.save(update_fields=["state"])
    route_on_commit(call.language)


@transaction.atomic
def call_conference_left(*, room: str, leg_sid: str) -> None:
    """The provider says ``leg_sid`` left the conference ``room``. When that is the
    caller's conference and the leg their volunteer's (who put the phone down), with no
    transfer under way, the caller is hung up: nobody is left to talk with them."""
    call = Call.objects.select_for_update().filter(conference=room).first() if room else None
    if (
        call is None
        or call.state != Call.State.CONNECTED
        or call.ended_at is not None
        or call.transfers.filter(state__in=LIVE).exists()
        or not leg_sid
        or volunteer_leg(call, call.volunteer_id) != leg_sid
    ):
        return
    hang_up_on_commit(call.provider_sid)


@transaction.atomic
def transfer_offer_taken(*, offer: Offer) -> Call:
    """``offer``, accepted, was for a caller waiting in their conference (a cold transfer
    not taken): the caller is the offer's volunteer's, who joins them there."""
    call = Call.objects.select_for_update().get(pk=offer.call_id)
    if call.state != Call.State.CONNECTED:
        call.state = Call.State.CONNECTED
        call.volunteer_id = offer.volunteer_id
        call.save(update_fields=["state", "volunteer"])
        logger.info("Call %s taken from its conference", call.case_code)
    return call


@transaction.atomic
def transfer_caller_requeue(*, transfer_id: int) -> None:
    """The volunteer meant to talk with the caller after a transfer could not be moved to
    them (their phone was put down): the caller goes to the head of the queue, where
    routing offers them as after a cold transfer not taken."""
    call_id = Transfer.objects.filter(pk=transfer_id).values_list("call_id", flat=True).get()
    call = Call.objects.select_for_update().get(pk=call_id)
    if call.state != Call.State.CONNECTED or call.ended_at is not None:
        return
    if call.volunteer_id is not None:
        volunteer = _lock_volunteers(call.volunteer_id)[call.volunteer_id]
        if volunteer.presence == Presence.ON_CALL:
            set_presence(volunteer, Presence.WRAP_UP)
    call.state = Call.State.QUEUED
    call.save(update_fields=["state"])
    logger.info("Call %s back at the head of the queue after a transfer", call.case_code)
    route_on_commit(call.language)


def transfer_call_ended(call: Call) -> None:
    """A connected caller's leg ended (inside call_status, the call locked): a transfer
    under way ends with it, and the legs left in the conference are hung up."""
    if not call.conference:
        return
    for transfer in call.transfers.select_for_update().filter(state__in=LIVE):
        transfer.state = Transfer.State.CANCELED
        transfer.ended_at = timezone.now()
        transfer.save(update_fields=["state", "ended_at"])
        volunteers = _lock_volunteers(*_ids(transfer))
        receiver = volunteers.get(transfer.to_volunteer_id or 0)
        if receiver is not None and receiver.presence == Presence.RINGING:
            set_presence(receiver, Presence.AVAILABLE)
        elif receiver is not None and receiver.presence == Presence.ON_CALL:
            set_presence(receiver, Presence.WRAP_UP)
        hang_up_on_commit(transfer.leg_sid)
        hang_up_on_commit(transfer.from_leg_sid)
    hang_up_on_commit(volunteer_leg(call, call.volunteer_id))
