"""Reading the schedule. ``on_shift`` and ``off_shift_fallback`` are what routing asks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Protocol, TypeVar

from django.core.cache import cache
from django.db.models import Count, QuerySet

from tuidang.shifts.models import Assignment, CalendarFeed, QueueShifts, Slot, token_hash
from tuidang.volunteers.models import Volunteer

# A shift lasts at most a day and a DST hour: slots_between reads starts from that far back.
MAX_SHIFT = timedelta(hours=25)
HOUR = timedelta(hours=1)


class _Span(Protocol):
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


_Timed = TypeVar("_Timed", bound=_Span)
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


def covering_hours(
    slots: Sequence[_Timed], start: datetime, end: datetime
) -> Iterator[tuple[datetime, tuple[_Timed, ...]]]:
    """Each hour from ``start`` (on the hour) to ``end``, with the slots that overlap it.
    ``slots`` are one queue's (anything with ``starts_at`` and ``ends_at``), soonest first,
    as ``slots_between`` gives them."""
    upcoming = iter(slots)
    following = next(upcoming, None)
    active: list[_Timed] = []
    at = start
    while at < end:
        while following is not None and following.starts_at < at + HOUR:
            active.append(following)
            following = next(upcoming, None)
        active = [slot for slot in active if slot.ends_at > at]
        yield at, tuple(active)
        at += HOUR


def short_of_minimum(covering: Sequence[Slot]) -> bool:
    """A gap: no shift in the hour, or fewer volunteers on its shifts than their minimum."""
    heads = sum(getattr(slot, "heads", 0) for slot in covering)
    return not covering or heads < sum(slot.shift.min_heads for slot in covering)


class _Cover(NamedTuple):
    starts_at: datetime
    ends_at: datetime
    heads: int
    min_heads: int


def next_gaps(languages: list[str], now: datetime, days: int) -> dict[str, datetime | None]:
    """Per language, the start of the first hour from this one, ``days`` ahead at most,
    that is a gap (as on the coverage page); None if there is none. Read as plain rows:
    the wallboard asks every second."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(days=days)
    rows = (
        Slot.objects.filter(
            starts_at__lt=end,
            ends_at__gt=start,
            cancelled=False,
            starts_at__gte=start - MAX_SHIFT,
            language__in=languages,
        )
        .annotate(heads=Count("assignments"))
        .order_by("starts_at", "pk")
        .values_list("language", "starts_at", "ends_at", "heads", "shift__min_heads")
    )
    covers: dict[str, list[_Cover]] = {language: [] for language in languages}
    for language, *cover in rows:
        covers[language].append(_Cover(*cover))
    gaps: dict[str, datetime | None] = {}
    for language in languages:
        gaps[language] = next(
            (
                at
                for at, covering in covering_hours(covers[language], start, end)
                if not covering
                or sum(c.heads for c in covering) < sum(c.min_heads for c in covering)
            ),
            None,
        )
    return gaps


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
