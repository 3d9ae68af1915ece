"""Who is offered a waiting call: the provider-neutral routing policy.

Eligible volunteers are available (or past their wrap-up time), speak the call's language
and are not ringing or on a call. The chain: volunteers of the caller's language; then,
when none of them is on duty or the call has waited past the overflow time, also those of
the queue's second language; when none of either is on duty, voicemail (see
``call_wait``). A caller who rings back is offered first to the volunteer who spoke with
them last, when that volunteer is free.

The schedule (shifts) orders each pool: volunteers on shift for the call's languages come
first; those off shift follow, or are left out when the queue says so
(``shifts.selectors.off_shift_fallback``). Routing reads the on-shift assignments through
their index, worked out ahead by the shifts app's periodic job. A shift may be for one
hotline number: for a call on a number, volunteers on a shift for that number or for
every number come before those on shift for another number only, who rank as off shift.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from tuidang.calls import selectors
from tuidang.calls.models import Call, HotlineNumber, QueueConfig, Strategy
from tuidang.lib.planner import Rare
from tuidang.lib.prepared import PreparedCount, Slot
from tuidang.screening.models import Policy
from tuidang.shifts.selectors import off_shift_fallback, on_shift
from tuidang.volunteers.models import Presence, Volunteer, VolunteerLanguage

ON_DUTY = [Presence.AVAILABLE, Presence.RINGING, Presence.ON_CALL, Presence.WRAP_UP]


def ready_q(now: datetime) -> Q:
    """Available, or in wrap-up for longer than the wrap-up time."""
    return _ready_since(_wrap_up_over(now))


def _wrap_up_over(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.WRAP_UP_SECONDS)


def _ready_since(wrap_up_over: Any) -> Q:
    # Both presences named first, so that the database reads them from the presence index
    # rather than every volunteer for the OR.
    return Q(_few(Presence.AVAILABLE, Presence.WRAP_UP)) & (
        Q(presence=Presence.AVAILABLE) | Q(presence_since__lte=wrap_up_over)
    )


def _few(*presences: str) -> Rare:
    """Volunteers in ``presences``: a few of the team at any time (lib/planner.py)."""
    return Rare(Q(presence__in=presences))


def _wrap_up_slot() -> Slot:
    return Slot("wrap_up_over", Volunteer._meta.get_field("presence_since"))


def speakers(languages: list[str]) -> QuerySet[VolunteerLanguage, int]:
    return VolunteerLanguage.objects.filter(language__in=languages).values_list(
        "volunteer_id", flat=True
    )


def speaks(languages: list[str]) -> Exists:
    """Whether the row's volunteer speaks one of ``languages``: asked of each volunteer the
    rest of the filter leaves, through the index on volunteer and language. Who is on duty
    or ready is then read from the presence index, and costs what the volunteers on duty
    are, not the whole team (hundreds of volunteers, a handful of them on duty at night).
    A subquery rather than a join: PostgreSQL refuses FOR UPDATE with DISTINCT."""
    return Exists(
        VolunteerLanguage.objects.filter(volunteer=OuterRef("pk"), language__in=languages)
    )


def eligible(languages: list[str], now: datetime) -> list[Volunteer]:
    """Ready volunteers for ``languages``, on shift first, then longest idle first, locked
    for this transaction."""
    ready = (
        Volunteer.objects.select_for_update()
        .filter(ready_q(now), speaks(languages))
        .annotate(
            on_shift=Exists(on_shift(languages, now).filter(volunteer=OuterRef("pk"))),
            # On a shift for one number: whether it is the call's is asked per call.
            shift_for_a_number=Exists(
                on_shift(languages, now).exclude(number="").filter(volunteer=OuterRef("pk"))
            ),
        )
    )
    if not off_shift_fallback(languages[0]):
        ready = ready.filter(on_shift=True)
    return list(ready.order_by("-on_shift", "presence_since", "pk"))


@functools.cache
def _anyone_ready(languages: tuple[str, ...]) -> PreparedCount:
    # Prepared once per process for each queue's languages (lib/prepared.py): every
    # call that joins a queue asks it.
    return PreparedCount(
        lambda: Volunteer.objects.filter(
            _ready_since(_wrap_up_slot()), speaks(list(languages))
        ).exists()
    )


def anyone_ready(languages: list[str], now: datetime) -> bool:
    """Whether routing could offer a call of ``languages`` to anyone now: read without a
    lock, so that a hold cycle takes routing's locks (SQLite's one writer) only then."""
    return _anyone_ready(tuple(languages)).row(wrap_up_over=_wrap_up_over(now)) is not None


def on_duty(languages: list[str]) -> bool:
    return Volunteer.objects.filter(_few(*ON_DUTY), speaks(languages)).exists()


@functools.cache
def _duty(languages: tuple[str, ...]) -> PreparedCount:
    # Prepared once per process for each queue's languages: every hold cycle asks it.
    return PreparedCount(
        lambda: Volunteer.objects.filter(_few(*ON_DUTY), speaks(list(languages))).aggregate(
            on_duty=Count("pk"), ready=Count("pk", filter=_ready_since(_wrap_up_slot()))
        )
    )


def duty(languages: list[str], now: datetime) -> tuple[bool, bool]:
    """Whether anyone of ``languages`` is on duty, and whether anyone is ready now: both
    in one read without a lock (a hold cycle asks both)."""
    row = _duty(tuple(languages)).row(wrap_up_over=_wrap_up_over(now))
    on_duty, ready = row if row is not None else (0, 0)
    return bool(on_duty), bool(ready)


def last_volunteer_of(call: Call) -> int | None:
    """The volunteer who last spoke with this caller (by caller key), if any."""
    if call.withheld:
        return None  # withheld numbers share a key: it says nothing about who calls
    return (
        Call.objects.filter(caller_key=call.caller_key, volunteer__isnull=False)
        .exclude(pk=call.pk)
        .order_by("-connected_at")
        .values_list("volunteer_id", flat=True)
        .first()
    )


def _overflows(call: Call, config: QueueConfig, now: datetime, primary_on_duty: bool) -> bool:
    """Whether the queue's second language is tried for ``call`` too."""
    waited = (now - (call.queued_at or now)).total_seconds()
    return bool(config.fallback_language) and (
        not primary_on_duty or waited >= config.overflow_after_seconds
    )


def may_ring(call: Call, volunteer_ids: list[int], *, now: datetime) -> bool:
    """Whether ``choose`` could have picked these volunteers, ringing for another caller
    of the queue, for ``call``: a second-language volunteer only once ``call`` overflows,
    and for a caller routed to the screening group, others only while no screener is free.
    (When a bridge takes another caller than its offer's, the offers ringing for that
    caller move to the one left waiting only if so; see calls.services.offers._swap_offers.)"""
    config = selectors.queue_config(call.language)
    overflow = _overflows(call, config, now, on_duty([call.language]))
    if not overflow and set(volunteer_ids) - set(
        speakers([call.language]).filter(volunteer_id__in=volunteer_ids)
    ):
        return False
    if call.screening_policy != Policy.SCREENING_GROUP:
        return True
    if not Volunteer.objects.filter(pk__in=volunteer_ids, screener=False).exists():
        return True
    languages = [call.language] + ([config.fallback_language] if overflow else [])
    free_screeners = Volunteer.objects.filter(ready_q(now), speaks(languages), screener=True)
    return not free_screeners.exists()


def _on_shift_for_its_number_first(
    call: Call, config: QueueConfig, pool: list[Volunteer], now: datetime
) -> list[Volunteer]:
    """The pool with volunteers on shift for the call's number, or for every number,
    first; the others keep their order. Asked only when someone in the pool is on a
    shift for one number."""
    if not any(getattr(volunteer, "shift_for_a_number", False) for volunteer in pool):
        return pool
    number = (
        HotlineNumber.objects.filter(pk=call.hotline_number_id)
        .values_list("e164", flat=True)
        .first()
    )
    here = set(
        on_shift(_languages_of(config), now, number or "")
        .filter(volunteer_id__in=[volunteer.pk for volunteer in pool])
        .values_list("volunteer_id", flat=True)
    )
    return sorted(pool, key=lambda volunteer: volunteer.pk not in here)  # stable


def _languages_of(config: QueueConfig) -> list[str]:
    return [config.language] + ([config.fallback_language] if config.fallback_language else [])


def choose(
    call: Call,
    config: QueueConfig,
    pools: tuple[list[Volunteer], list[Volunteer]],
    *,
    now: datetime,
    primary_on_duty: bool,
) -> list[Volunteer]:
    """The volunteers to ring for ``call``, taken out of the pools."""
    primary, with_fallback = pools
    pool = with_fallback if _overflows(call, config, now, primary_on_duty) else primary
    if not pool:
        return []
    if call.screening_policy == Policy.SCREENING_GROUP:
        # Hostile callers go to the volunteers who talk with them, when any is free.
        screeners = [volunteer for volunteer in pool if volunteer.screener]
        pool = screeners or pool
    size = config.ring_group_size if config.strategy == Strategy.RING_GROUP else 1
    pool = _on_shift_for_its_number_first(call, config, pool, now)
    preferred = last_volunteer_of(call)
    ordered = sorted(pool, key=lambda volunteer: volunteer.pk != preferred)  # stable
    chosen = ordered[: max(size, 1)]
    for volunteer in chosen:
        for group in pools:
            if volunteer in group:
                group.remove(volunteer)
    return chosen
