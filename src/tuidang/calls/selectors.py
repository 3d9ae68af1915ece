"""Cached reads for the webhook's hot path.

Numbers and prompts change rarely and are read on every call, so they are cached (in
Redis when REDIS_URL is set, else in each process) for a minute. Saving or deleting one
clears the cache at once where the cache is shared (see signals.py); with per-process
caches, other app servers see the change within CACHE_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import models
from django.db.models import Count

from tuidang.calls.models import (
    Call,
    CallDisposition,
    CallType,
    HotlineNumber,
    NumberPrompt,
    TalkingPoint,
)
from tuidang.lib.phone import normalise
from tuidang.screening.models import CallerScore

CACHE_SECONDS = 60
_MISSING = "missing"


def generation() -> int:
    """Bumped on every change to numbers or prompts; part of every cache key."""
    return int(cache.get_or_set("calls:config-generation", 1, timeout=None) or 1)


def hotline_number(dialled: str) -> HotlineNumber | None:
    """The active hotline number a caller dialled, or None."""
    key = f"calls:{generation()}:number:{dialled}"
    found = cache.get(key)
    if found is None:
        e164 = normalise(dialled) or dialled
        found = HotlineNumber.objects.filter(e164=e164, active=True).first() or _MISSING
        cache.set(key, found, CACHE_SECONDS)
    return None if found == _MISSING else found


def prompt_override(kind: str, language: str, number_id: int | None) -> NumberPrompt | None:
    """The coordinators' prompt for ``kind``: the number's own, else every number's."""
    key = f"calls:{generation()}:prompt:{number_id}:{kind}:{language}"
    found = cache.get(key)
    if found is None:
        found = (
            NumberPrompt.objects.filter(kind=kind, language=language)
            .filter(models.Q(number_id=number_id) | models.Q(number__isnull=True))
            .order_by(models.F("number").asc(nulls_last=True))
            .first()
        ) or _MISSING
        cache.set(key, found, CACHE_SECONDS)
    return None if found == _MISSING else found


@dataclass(frozen=True)
class CallerHistory:
    """What the hotline knows of the caller in front of a volunteer: never their number."""

    earlier_calls: int
    last_call_at: datetime | None
    outcomes: dict[str, int]
    call_types: dict[str, int]
    flagged_for_harassment: bool
    declarations: int


def caller_history(call: Call) -> CallerHistory | None:
    """Earlier calls with the same caller key. None for withheld numbers, whose key is
    shared by every withheld caller and so says nothing about this one."""
    from tuidang.declarations.models import Declaration

    if call.withheld:
        return None
    earlier = Call.objects.filter(caller_key=call.caller_key, started_at__lt=call.started_at)
    outcomes = dict(earlier.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    labels = dict(Call.State.choices)
    types = dict(
        CallDisposition.objects.filter(call__in=earlier)
        .values_list("call_type")
        .annotate(n=Count("pk"))
        .values_list("call_type", "n")
    )
    type_labels = dict(CallType.choices)
    return CallerHistory(
        earlier_calls=sum(outcomes.values()),
        last_call_at=earlier.order_by("-started_at").values_list("started_at", flat=True).first(),
        outcomes={str(labels.get(state, state)): n for state, n in outcomes.items()},
        call_types={str(type_labels.get(kind, kind)): n for kind, n in types.items()},
        flagged_for_harassment=CallerScore.objects.filter(
            caller_key=call.caller_key, flagged_at__isnull=False
        ).exists(),
        declarations=Declaration.objects.filter(call__in=earlier).count(),
    )


def talking_points(language: str) -> dict[str, list[TalkingPoint]]:
    """The talking points in a language, by call type label."""
    labels = dict(CallType.choices)
    grouped: dict[str, list[TalkingPoint]] = {}
    for point in TalkingPoint.objects.filter(language=language):
        grouped.setdefault(str(labels[point.call_type]), []).append(point)
    return grouped
