"""Signals clear caches (see selectors.py) and route waiting calls to a volunteer who goes
available."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tuidang.calls.models import HotlineNumber, NumberPrompt, QueueConfig
from tuidang.lib import memo
from tuidang.volunteers.models import Volunteer
from tuidang.volunteers.signals import volunteer_available


@receiver([post_save, post_delete], sender=HotlineNumber)
@receiver([post_save, post_delete], sender=NumberPrompt)
@receiver([post_save, post_delete], sender=QueueConfig)
def forget_cached_configuration(**kwargs: Any) -> None:
    try:
        cache.incr("calls:config-generation")
    except ValueError:  # not cached yet: nothing to forget
        cache.set("calls:config-generation", 2, timeout=None)
    memo.forget()  # the public pages naming the numbers; other processes within a second


@receiver(volunteer_available)
def route_to_available_volunteer(*, volunteer: Volunteer, **kwargs: Any) -> None:
    """Offer the calls waiting in the volunteer's languages at once."""
    from tuidang.calls.services import call_route

    for language in volunteer.language_codes():
        call_route(language=language)
