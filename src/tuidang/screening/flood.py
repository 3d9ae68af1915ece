"""Flood mode: when hired callers outnumber the volunteers on duty, keep the line open.

Screening decides; the caller of ``flood_active`` supplies the counts (the calls of the
window and the volunteers on duty), which screening cannot read itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction

from tuidang.lib import memo
from tuidang.screening.models import FLOOD_CACHE_KEY, FloodState, ScreeningEvent, ScreeningSettings

logger = logging.getLogger(__name__)

FLOOD_WINDOW = timedelta(minutes=5)
FLOOD_RECHECK = timedelta(seconds=10)


@dataclass(frozen=True)
class FloodCounts:
    """What arrived in the window: calls, those from flagged keys (score at arrival ≥ the
    screening-group threshold), first calls of keys never heard before (withheld numbers
    aside); and how many volunteers are on duty now."""

    arrivals: int
    flagged: int
    new_keys: int
    on_duty: int


# Counts the calls that arrived after ``since`` and before ``until``, flagged from
# ``flagged_at`` (the screening-group threshold) up.
FloodCounter = Callable[[datetime, datetime, float], FloodCounts]


def flood_active(*, now: datetime, config: ScreeningSettings, count: FloodCounter) -> bool:
    """Whether flood mode is on, re-evaluating it at most every FLOOD_RECHECK.

    On when calls arrive faster than the volunteers on duty can take them and the share of
    flagged callers among them is high; off (with hysteresis) when either falls away.
    ``count`` is called only when a re-evaluation is due, after this transaction commits.
    """
    # Asked on every call: held a second in each process in front of the shared cache
    # (lib/memo.py). What a recheck in another process decides is seen here within it.
    cached = memo.held(FLOOD_CACHE_KEY, _shared_state)
    if cached is not None and cached[1] > now - FLOOD_RECHECK:
        return bool(cached[0])
    state = FloodState.objects.order_by("pk").first()
    if state is None:
        state = FloodState.objects.create(checked_at=now - FLOOD_RECHECK * 2)
    if state.checked_at > now - FLOOD_RECHECK:
        _share(state.active, state.checked_at)
        return state.active
    # Due for a look. It counts thousands of calls in a flood: done once this call is
    # stored, outside its transaction, so that it never holds up other calls' writes (on
    # SQLite, everyone's write lock). This call, like the others meanwhile, goes on with
    # the state as it was.
    transaction.on_commit(
        lambda: _flood_recheck(state, now=now, config=config, count=count), robust=True
    )
    return state.active


def _flood_recheck(
    state: FloodState, *, now: datetime, config: ScreeningSettings, count: FloodCounter
) -> None:
    # One request re-evaluates: whoever moves checked_at on first.
    claimed = FloodState.objects.filter(pk=state.pk, checked_at=state.checked_at).update(
        checked_at=now
    )
    if not claimed:
        return
    active = _flood_evaluate(state, now=now, config=config, count=count)
    # Other requests of this process (and every process, with Redis) reuse the answer.
    _share(active, now)


def _shared_state() -> tuple[bool, datetime] | None:
    """Whether flood mode was on, and when that was last checked, as every process sees it."""
    return cache.get(FLOOD_CACHE_KEY)  # type: ignore[no-any-return]


def _share(active: bool, checked_at: datetime) -> None:
    cache.set(FLOOD_CACHE_KEY, (active, checked_at), 60)
    memo.keep(FLOOD_CACHE_KEY, (active, checked_at))


def _flood_evaluate(
    state: FloodState, *, now: datetime, config: ScreeningSettings, count: FloodCounter
) -> bool:
    """Counted outside any transaction; only the change of state is written in one."""
    # The calls before the one that asked (already stored when this runs), in one pass
    # over the window, and nothing older.
    counts = count(now - FLOOD_WINDOW, now, config.screening_group_at)
    arrivals, flagged, new_keys = counts.arrivals, counts.flagged, counts.new_keys
    on_duty = counts.on_duty
    overloaded = arrivals > config.flood_calls_per_volunteer * max(1, on_duty)
    share = flagged / arrivals if arrivals else 0.0
    # Hired callers on fresh SIM cards come in bursts of keys never heard before.
    burst = new_keys >= config.flood_new_keys
    detail = (
        f"{arrivals} calls in 5 min, {on_duty} on duty, {share:.0%} flagged, {new_keys} new keys"
    )
    if not state.active and overloaded and (share >= config.flood_flagged_share or burst):
        with transaction.atomic():
            FloodState.objects.filter(pk=state.pk).update(active=True, since=now, detail=detail)
            ScreeningEvent.objects.create(kind=ScreeningEvent.Kind.FLOOD_ON, detail=detail, at=now)
        logger.warning("Flood mode on: %s", detail)
        return True
    calm = not overloaded or (share < config.flood_flagged_share / 2 and not burst)
    if state.active and calm:
        with transaction.atomic():
            FloodState.objects.filter(pk=state.pk).update(active=False, since=now, detail=detail)
            ScreeningEvent.objects.create(kind=ScreeningEvent.Kind.FLOOD_OFF, detail=detail, at=now)
        logger.warning("Flood mode off: %s", detail)
        return False
    FloodState.objects.filter(pk=state.pk).update(detail=detail)
    return state.active
