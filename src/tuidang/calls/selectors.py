"""Cached reads for the webhook's hot path.

Numbers, prompts and queue settings change rarely and are read on every call, so they are
cached: in the shared cache (Redis with REDIS_URL, else files every process of the
machine reads) for a minute, under a key that names the configuration's generation, and
in front of it in each process for a second (``lib/memo.py``), so that a webhook reads
none of them from anywhere but its own memory. Saving or deleting one moves the
generation and forgets what this process holds (see signals.py): the other processes see
the change within a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import models

from tuidang.calls.models import Call, HotlineNumber, NumberPrompt, Offer, QueueConfig
from tuidang.lib import memo
from tuidang.lib.phone import normalise

CACHE_SECONDS = 60
_MISSING = "missing"


def generation() -> int:
    """Bumped on every change to numbers or prompts; part of every cache key."""
    return int(cache.get_or_set("calls:config-generation", 1, timeout=None) or 1)


def kept(name: str, build: Callable[[], Any]) -> Any:
    """``build()`` (``_MISSING`` for None) for this generation of the configuration, from
    this process's memory, else the shared cache, else the database."""

    def shared() -> Any:
        key = f"calls:{generation()}:{name}"
        found = cache.get(key)
        if found is None:
            found = build()
            found = _MISSING if found is None else found
            cache.set(key, found, CACHE_SECONDS)
        return found

    return memo.held(f"calls:config:{name}", shared)


def hotline_number(dialled: str) -> HotlineNumber | None:
    """The active hotline number a caller dialled, or None."""

    def read() -> HotlineNumber | None:
        e164 = normalise(dialled) or dialled
        return HotlineNumber.objects.filter(e164=e164, active=True).first()

    found = kept(f"number:{dialled}", read)
    return None if found == _MISSING else found


def prompt_override(kind: str, language: str, number_id: int | None) -> NumberPrompt | None:
    """The coordinators' prompt for ``kind``: the number's own, else every number's."""

    def read() -> NumberPrompt | None:
        return (
            NumberPrompt.objects.filter(kind=kind, language=language)
            .filter(models.Q(number_id=number_id) | models.Q(number__isnull=True))
            .order_by(models.F("number").asc(nulls_last=True))
            .first()
        )

    found = kept(f"prompt:{number_id}:{kind}:{language}", read)
    return None if found == _MISSING else found


def number_by_id(number_id: int) -> HotlineNumber | None:
    """A hotline number by its key (a call's own), active or not."""
    found = kept(
        f"number-id:{number_id}", lambda: HotlineNumber.objects.filter(pk=number_id).first()
    )
    return None if found == _MISSING else found


def with_number(call: Call) -> Call:
    """``call`` with its hotline number from the cache (read by every prompt it hears)."""
    number = number_by_id(call.hotline_number_id)
    if number is not None:
        call.hotline_number = number
    return call


def queue_config(language: str) -> QueueConfig:
    """The queue settings of ``language`` (the defaults when coordinators set none)."""
    found = kept(f"queue:{language}", lambda: QueueConfig.objects.filter(language=language).first())
    return QueueConfig(language=language) if found == _MISSING else found


def call_id_for_log(*, provider_sid: str = "", offer_token: object = None) -> int | None:
    """The hotline's id of the call a webhook is about (by an offer's token, or by the
    caller's leg), for its log lines; None when it names no call we hold."""
    if isinstance(offer_token, uuid.UUID | str):
        return Offer.objects.filter(token=offer_token).values_list("call_id", flat=True).first()
    if provider_sid:
        return Call.objects.filter(provider_sid=provider_sid).values_list("pk", flat=True).first()
    return None
