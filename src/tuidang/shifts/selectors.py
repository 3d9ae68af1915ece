"""Reading the schedule. ``on_shift`` and ``off_shift_fallback`` are what routing asks."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, QuerySet

from tuidang.shifts.models import Assignment, CalendarFeed, QueueShifts, Slot, token_hash
from tuidang.volunteers.models import Volunteer

# A shift lasts at most a day and a DST hour: slots_between reads starts from that far back.
MAX_SHIFT = timedelta(hours=25)
FALLBACK_CACHE_SECONDS = 300


def on_shift(
    languages: list[str], now: datetime, number: str | None = None
) -> QuerySet[Assignment]:
    """Assignments of ``languages`` that cover ``now``: filter by ``volunteer`` (an
    ``OuterRef``) to ask whether one volunteer is on shift (assignment_on_shift_idx).
    With ``number``, only those of shifts for that hotline number or for every number."""
    found = Assignment.objects.filter(language__in=languages, starts_at__lte=now, ends_at__gt=now)
    return found if number is None else found.filter(number__in=["", number])


def fallback_cache_key(language: str) -> str:
    return f"shifts:off-shift-fallback:{language}"


def off_shift_fallback(language: str) -> bool:
    """Whether calls of ``language`` ring available volunteers off shift when no one on
    shift is free (the default, and the hotline's behaviour before any shift exists).
    Asked at every offer: read from the cache once known (``queue_shifts_set`` clears it)."""
    found = cache.get(fallback_cache_key(language))
    if found is None:
        setting = QueueShifts.objects.filter(language=language).values_list(
            "off_shift_fallback", flat=True
        )
        found = next(iter(setting), True)
        cache.set(fallback_cache_key(language), found, FALLBACK_CACHE_SECONDS)
    return bool(found)


def current_assignment(volunteer: Volunteer, now: datetime) -> Assignment | None:
    return (
        Assignment.objects.filter(volunteer=volunteer, ends_at__gt=now, starts_at__lte=now)
        .order_by("starts_at")
        .first()
    )


def schedule_of(volunteer: Volunteer, since: datetime) -> list[Assignment]:
    """The volunteer's own assignments that have not ended, soonest first."""
    return list(
        Assignment.objects.filter(volunteer=volunteer, ends_at__gt=since)
        .select_related("slot__shift")
        .order_by("starts_at")
    )


def slots_between(
    since: datetime, until: datetime, languages: list[str] | None = None
) -> list[Slot]:
    """Slots that overlap [since, until), not cancelled, with ``heads`` (how many are on
    each), soonest first."""
    slots = Slot.objects.filter(
        starts_at__lt=until, ends_at__gt=since, cancelled=False, starts_at__gte=since - MAX_SHIFT
    )
    if languages is not None:
        slots = slots.filter(language__in=languages)
    return list(
        slots.select_related("shift")
        .annotate(heads=Count("assignments"))
        .order_by("starts_at", "pk")
    )


def feed_owner(token: str) -> Volunteer | None:
    """The volunteer whose feed token this is, if it still is one."""
    feed = (
        CalendarFeed.objects.filter(token_sha256=token_hash(token))
        .select_related("volunteer")
        .first()
    )
    return feed.volunteer if feed is not None else None


def has_feed(volunteer: Volunteer) -> bool:
    return CalendarFeed.objects.filter(volunteer=volunteer).exists()


def assignments_for(volunteer: Volunteer, slot_ids: list[int]) -> dict[int, Assignment]:
    return {
        assignment.slot_id: assignment
        for assignment in Assignment.objects.filter(volunteer=volunteer, slot_id__in=slot_ids)
    }
