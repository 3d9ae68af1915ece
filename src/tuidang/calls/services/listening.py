"""Listen-in and whisper: a coordinator joins a connected call muted, and may speak to the
volunteer alone.

The caller moves out of the queue's bridge into the call's conference (as for a
transfer), the volunteer's leg follows them there, and the coordinator's phone rings
into it muted. While they whisper, the provider lets the volunteer alone hear them
(Twilio's coaching). The coordinator is ``ringing``, then ``on_call``, so routing offers
them nothing meanwhile. Listening in is audited: who listened to which call.
"""

from __future__ import annotations

import functools
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls import tasks
from tuidang.calls.models import Call, ListenIn, Transfer
from tuidang.calls.services._shared import hang_up_on_commit, set_presence
from tuidang.calls.services.transfers import volunteer_leg
from tuidang.volunteers.models import Presence, Volunteer

LIVE = (ListenIn.State.RINGING, ListenIn.State.LISTENING, ListenIn.State.WHISPERING)


class ListenInRefused(Exception):
    """A listen-in that cannot start or go on; the message says why, for the page."""


def _lock_volunteer(volunteer_id: int) -> Volunteer:
    return Volunteer.objects.select_for_update().get(pk=volunteer_id)


@transaction.atomic
def listen_in_start(*, call: Call, coordinator: Volunteer) -> ListenIn:
    """``coordinator`` listens to ``call``, muted; their phone rings once this commits."""
    if not coordinator.is_coordinator:
        raise ListenInRefused(_("Only coordinators listen in."))
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.state != Call.State.CONNECTED or call.volunteer_id in (None, coordinator.pk):
        raise ListenInRefused(_("This call is no longer connected to a volunteer."))
    if call.transfers.filter(
        state__in=[Transfer.State.RINGING, Transfer.State.CONSULTING]
    ).exists():
        raise ListenInRefused(_("This call is being transferred."))
    if not volunteer_leg(call, call.volunteer_id):
        raise ListenInRefused(_("A call back cannot be listened to."))
    if call.listen_ins.filter(state__in=LIVE).exists():
        raise ListenInRefused(_("A coordinator already listens to this call."))
    locked = _lock_volunteer(coordinator.pk)
    if locked.presence != Presence.AVAILABLE:
        raise ListenInRefused(_("Go available first: listening in rings your phone."))
    set_presence(locked, Presence.RINGING)
    move_caller = not call.conference
    if move_caller:
        call.conference = "CF" + uuid.uuid4().hex
        call.save(update_fields=["conference"])
    listen_in = ListenIn.objects.create(call=call, coordinator=locked)
    audit_record(actor=coordinator.user, action=Action.CREATE, target=listen_in)
    transaction.on_commit(
        functools.partial(
            tasks.start_listen_in.enqueue, listen_in_id=listen_in.pk, move_caller=move_caller
        )
    )
    return listen_in


@transaction.atomic
def listen_in_answered(*, token: str, leg_sid: str) -> ListenIn | None:
    """The coordinator picked up: they are in the call, muted. None if it ended meanwhile."""
    listen_in = ListenIn.objects.select_related("call").filter(token=token).first()
    if listen_in is None:
        return None
    call = Call.objects.select_for_update().get(pk=listen_in.call_id)
    listen_in = ListenIn.objects.select_for_update().get(pk=listen_in.pk)
    if listen_in.state != ListenIn.State.RINGING:
        return listen_in if listen_in.live else None
    if call.state != Call.State.CONNECTED:
        _end(listen_in)
        return None
    listen_in.state = ListenIn.State.LISTENING
    listen_in.leg_sid = leg_sid or listen_in.leg_sid
    listen_in.save(update_fields=["state", "leg_sid"])
    if listen_in.coordinator_id is not None:
        set_presence(_lock_volunteer(listen_in.coordinator_id), Presence.ON_CALL)
    listen_in.call = call
    return listen_in


@transaction.atomic
def listen_in_leg_placed(*, listen_in_id: int, leg_sid: str) -> bool:
    """Record the coordinator's leg. False if the listen-in ended meanwhile."""
    listen_in = ListenIn.objects.select_for_update().get(pk=listen_in_id)
    if not listen_in.leg_sid:
        listen_in.leg_sid = leg_sid
        listen_in.save(update_fields=["leg_sid"])
    return listen_in.live


@transaction.atomic
def listen_in_whisper(*, listen_in: ListenIn, coordinator: Volunteer, on: bool) -> ListenIn:
    """Start (``on``) or stop whispering to the call's volunteer."""
    call = Call.objects.select_for_update().get(pk=listen_in.call_id)
    listen_in = ListenIn.objects.select_for_update().get(pk=listen_in.pk)
    if listen_in.coordinator_id != coordinator.pk or listen_in.state not in (
        ListenIn.State.LISTENING,
        ListenIn.State.WHISPERING,
    ):
        raise ListenInRefused(_("You are not listening to this call."))
    listen_in.state = ListenIn.State.WHISPERING if on else ListenIn.State.LISTENING
    listen_in.save(update_fields=["state"])
    to_leg = volunteer_leg(call, call.volunteer_id) if on else ""
    transaction.on_commit(
        functools.partial(
            tasks.whisper.enqueue,
            room=call.conference,
            leg_id=listen_in.leg_sid,
            to_leg_id=to_leg,
        )
    )
    return listen_in


@transaction.atomic
def listen_in_stop(*, listen_in: ListenIn, coordinator: Volunteer) -> None:
    """The coordinator leaves the call (the button, or their phone put down)."""
    Call.objects.select_for_update().get(pk=listen_in.call_id)
    listen_in = ListenIn.objects.select_for_update().get(pk=listen_in.pk)
    if listen_in.coordinator_id != coordinator.pk:
        raise ListenInRefused(_("You are not listening to this call."))
    if listen_in.live:
        _end(listen_in)


@transaction.atomic
def listen_in_leg_ended(*, token: str) -> None:
    """The coordinator's leg ended: they no longer listen."""
    listen_in = ListenIn.objects.filter(token=token).first()
    if listen_in is None:
        return
    Call.objects.select_for_update().get(pk=listen_in.call_id)
    listen_in = ListenIn.objects.select_for_update().get(pk=listen_in.pk)
    if listen_in.live:
        _end(listen_in)


def _end(listen_in: ListenIn) -> None:
    listen_in.state = ListenIn.State.ENDED
    listen_in.ended_at = timezone.now()
    listen_in.save(update_fields=["state", "ended_at"])
    if listen_in.coordinator_id is not None:
        coordinator = _lock_volunteer(listen_in.coordinator_id)
        if coordinator.presence in (Presence.RINGING, Presence.ON_CALL):
            set_presence(coordinator, Presence.AVAILABLE)
    hang_up_on_commit(listen_in.leg_sid)


def listen_ins_call_ended(call: Call) -> None:
    """The caller's leg ended (inside call_status, the call locked): so do listen-ins."""
    for listen_in in call.listen_ins.select_for_update().filter(state__in=LIVE):
        _end(listen_in)
