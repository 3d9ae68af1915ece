from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tuidang.volunteers.models import Presence, Volunteer
from tuidang.volunteers.signals import volunteer_available

# What a volunteer may set by hand. Ringing and on-call belong to routing.
SELF_SERVICE_PRESENCE = {Presence.AVAILABLE, Presence.AWAY}


class PresenceNotAllowed(Exception):
    pass


def volunteer_set_presence(*, volunteer: Volunteer, presence: str) -> Volunteer:
    """A volunteer goes available or away. Going available takes a waiting call at once."""
    if presence not in SELF_SERVICE_PRESENCE:
        raise PresenceNotAllowed(presence)
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        if locked.presence in (Presence.RINGING, Presence.ON_CALL):
            # Routing owns these states; the offer or call ends first.
            raise PresenceNotAllowed(locked.presence)
        if locked.presence != presence:
            locked.presence = presence
            locked.presence_since = timezone.now()
            if presence == Presence.AVAILABLE:
                locked.missed_offers = 0
            locked.save(update_fields=["presence", "presence_since", "missed_offers"])
    # Routing (calls listens) in a transaction of its own: it locks calls before volunteers.
    if presence == Presence.AVAILABLE:
        volunteer_available.send(sender=Volunteer, volunteer=locked)
    locked.refresh_from_db()
    return locked


def volunteer_set_time_zone(*, volunteer: Volunteer, time_zone: str) -> Volunteer:
    """The zone the desk shows the volunteer's times in (blank: the hotline's default)."""
    volunteer.time_zone = time_zone
    volunteer.full_clean(validate_unique=False, validate_constraints=False)
    volunteer.save(update_fields=["time_zone"])
    return volunteer
