"""What several parts of the call's life share."""

from __future__ import annotations

import functools
import uuid

from django.db import transaction
from django.utils import timezone

from tuidang.calls import statements, tasks
from tuidang.calls.models import Call, Offer
from tuidang.lib import prepared
from tuidang.volunteers.models import Volunteer

Token = uuid.UUID | str


class UnknownCall(Exception):
    """A provider event for a call we never received."""


def hang_up_on_commit(leg_id: str) -> None:
    if leg_id:
        transaction.on_commit(lambda: tasks.hang_up.enqueue(leg_id=leg_id))


def set_presence(volunteer: Volunteer, presence: str, *, also: list[str] | None = None) -> None:
    """Save the volunteer's new presence (with the fields named in ``also``, in one UPDATE)."""
    volunteer.presence = presence
    volunteer.presence_since = timezone.now()
    prepared.update(volunteer, ["presence", "presence_since", *(also or [])])


def withdraw_pending_offers(call: Call) -> None:
    """Stop ringing volunteers for ``call`` (taken by someone else, or gone).

    The volunteers are freed once their phones have stopped ringing (see
    ``offer_withdrawn``), so no phone ever rings with two calls at once.
    """
    for offer in statements.pending_offers_locked(call):
        offer.state = Offer.State.CANCELED
        prepared.update(offer, ["state"])
        transaction.on_commit(functools.partial(tasks.withdraw_offer.enqueue, offer_id=offer.pk))
