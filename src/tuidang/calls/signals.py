"""Signals only clear caches (see selectors.py)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tuidang.calls.models import HotlineNumber, NumberPrompt


@receiver([post_save, post_delete], sender=HotlineNumber)
@receiver([post_save, post_delete], sender=NumberPrompt)
def forget_cached_configuration(**kwargs: Any) -> None:
    try:
        cache.incr("calls:config-generation")
    except ValueError:  # not cached yet: nothing to forget
        cache.set("calls:config-generation", 2, timeout=None)
