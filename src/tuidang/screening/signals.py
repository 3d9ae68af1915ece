"""Signals only clear caches."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tuidang.lib import memo
from tuidang.screening.models import SETTINGS_CACHE_KEY, ScreeningSettings


@receiver([post_save, post_delete], sender=ScreeningSettings)
def forget_cached_settings(**kwargs: Any) -> None:
    cache.delete(SETTINGS_CACHE_KEY)
    memo.forget()  # this process's; the other processes' within memo.HOLD_SECONDS
