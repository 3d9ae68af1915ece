"""Keeping the counts: the cells of a span of time rebuilt from its ended calls.

A rebuild reads the calls that started in the span (through the index on their start),
counts them in Python by the definitions of docs/reports.md, and replaces the span's cells
in one transaction under ``RebuildLock``: running it twice gives the same rows, so the
periodic job, a retried job and ``tuidang backfill-reports`` all call the same functions.

The job (every ``REPORTS_INTERVAL_SECONDS``) rebuilds the last ``REBUILD_HOURS`` hours and
the hotline days they touch; on the hour it settles the last ``SETTLE_DAYS`` days, which
picks up what is recorded after a call ends (renunciations, books, call backs). It also
samples each volunteer's presence for occupancy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet

from tuidang.calls.models import Call, CallbackOutcome
from tuidang.declarations.models import Declaration
from tuidang.literature.models import BookRequest
from tuidang.reports.models import (
    MAXED,
    SUMMED,
    DayCount,
    HourCount,
    PresenceHour,
    RebuildLock,
    Sample,
    ServiceLevel,
    VolunteerHour,
)
from tuidang.volunteers.models import Presence, Volunteer

REPORTS_JOB = "reports"
REBUILD_HOURS = 3
SETTLE_DAYS = 7
# A caller who hangs up within this many seconds of joining the queue is counted apart.
SHORT_ABANDON_SECONDS = 5

HOUR = timedelta(hours=1)
DayKey = tuple[date, str, int, str, str]
HourKey = tuple[datetime, str]

# What a presence sample adds to, per presence; away adds nothing.
SAMPLED = {
    Presence.AVAILABLE: "available_seconds",
    Presence.RINGING: "ringing_seconds",
    Presence.ON_CALL: "talk_seconds",
    Presence.WRAP_UP: "wrap_up_seconds",
}


def hotline_zone() -> ZoneInfo:
    return ZoneInfo(settings.HOTLINE_TIME_ZONE)


def day_span(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants from the start of ``first`` to the end of ``last``, hotline time."""
    zone = hotline_zone()
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    return start, end


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC")).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


def thresholds() -> dict[str, int]:
    return dict(ServiceLevel.objects.values_list("language", "threshold_seconds"))


@dataclass
class Tally:
    """The counters of one cell while it is being counted."""

    offered: int = 0
    answered: int = 0
    answered_in_threshold: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    voicemails: int = 0
    callbacks_made: int = 0
    callbacks_reached: int = 0
    answer_seconds: int = 0
    longest_wait_seconds: int = 0
    talk_seconds: int = 0
    screened: int = 0
    renunciations: int = 0
    book_requests: int = 0

    def add(self, other: Tally) -> None:
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in MAXED:
            setattr(self, name, max(getattr(self, name), getattr(other, name)))

    def values(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in (*SUMMED, *MAXED)}


@dataclass(frozen=True)
class EndedCall:
    """What counting needs of one ended call."""

    started_at: datetime
    language: str
    number_id: int
    how_heard: str
    region: str
    state: str
    queued_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime
    voicemail_left: bool
    callback_outcome: str
    renunciations: int
    book_requests: int


def seconds(since: datetime, until: datetime) -> int:
    return max(0, int((until - since).total_seconds()))


def call_tally(call: EndedCall, threshold: int) -> Tally:
    """One ended call's contribution to its cells (docs/reports.md, "Definitions")."""
    tally = Tally(renunciations=call.renunciations, book_requests=call.book_requests)
    if call.state == Call.State.SCREENED:
        tally.screened = 1
    if call.voicemail_left:
        tally.voicemails = 1
        if call.callback_outcome:
            tally.callbacks_made = 1
            tally.callbacks_reached = int(call.callback_outcome == CallbackOutcome.REACHED)
    if call.queued_at is None:
        return tally  # never joined a queue: a call back, or screened or lost in the menu
    tally.offered = 1
    if call.connected_at is not None:
        wait = seconds(call.queued_at, call.connected_at)
        tally.answered = 1
        tally.answer_seconds = wait
        tally.answered_in_threshold = int(wait <= threshold)
        tally.longest_wait_seconds = wait
        tally.talk_seconds = seconds(call.connected_at, call.ended_at)
    elif call.state == Call.State.ABANDONED:
        wait = seconds(call.queued_at, call.ended_at)
        if wait < SHORT_ABANDON_SECONDS:
            tally.abandoned_short = 1
        else:
            tally.abandoned = 1
        tally.longest_wait_seconds = wait
    return tally


def ended_calls(start: datetime, end: datetime) -> Iterable[EndedCall]:
    """The calls that started in [start, end) and have ended."""
    # The span's calls first, then their rows through the index on each row's call
    # (declarations are indexed by call only where they have one: call__isnull).
    calls = Call.objects.filter(started_at__gte=start, started_at__lt=end).values("pk")
    span = {"call__isnull": False, "call_id__in": calls}
    renunciations = dict(
        Declaration.objects.filter(**span)
        .values("call_id")
        .annotate(n=Count("id"))
        .values_list("call_id", "n")
    )
    books = dict(
        BookRequest.objects.filter(**span)
        .values("call_id")
        .annotate(n=Count("id"))
        .values_list("call_id", "n")
    )
    rows = Call.objects.filter(
        started_at__gte=start, started_at__lt=end, ended_at__isnull=False
    ).values_list(
        "pk",
        "started_at",
        "language",
        "hotline_number_id",
        "how_heard",
        "region",
        "state",
        "queued_at",
        "connected_at",
        "ended_at",
        "voicemail__id",
        "voicemail__callback_outcome",
    )
    for (
        pk,
        started,
        language,
        number,
        how_heard,
        region,
        state,
        queued,
        connected,
        ended,
        vm,
        outcome,
    ) in rows.iterator(chunk_size=2000):
        yield EndedCall(
            started_at=started,
            language=language,
            number_id=number,
            how_heard=how_heard,
            region=region,
            state=state,
            queued_at=queued,
            connected_at=connected,
            ended_at=ended or started,  # never None: only ended calls are read
            voicemail_left=vm is not None,
            callback_outcome=outcome or "",
            renunciations=renunciations.get(pk, 0),
            book_requests=books.get(pk, 0),
        )


def _lock() -> None:
    RebuildLock.objects.select_for_update().get_or_create(pk=1)


def hours_rebuild(*, start: datetime, end: datetime) -> int:
    """Rebuild the hour cells of the whole UTC hours from ``start`` to ``end``; how many
    cells there are now."""
    start, end = floor_hour(start), ceil_hour(end)
    limits = thresholds()
    with transaction.atomic():
        _lock()
        cells: dict[HourKey, Tally] = defaultdict(Tally)
        for call in ended_calls(start, end):
            threshold = limits.get(call.language, ServiceLevel.DEFAULT_SECONDS)
            cells[(floor_hour(call.started_at), call.language)].add(call_tally(call, threshold))
        HourCount.objects.filter(hour__gte=start, hour__lt=end).delete()
        zone = hotline_zone()
        HourCount.objects.bulk_create(
            (
                HourCount(
                    hour=hour,
                    language=language,
                    local_day=hour.astimezone(zone).date(),
                    local_hour=hour.astimezone(zone).hour,
                    **tally.values(),
                )
                for (hour, language), tally in sorted(cells.items())
            ),
            batch_size=500,
        )
    return len(cells)


def days_rebuild(*, first: date, last: date) -> int:
    """Rebuild the day cells of the hotline days ``first`` to ``last``; how many cells."""
    start, end = day_span(first, last)
    zone = hotline_zone()
    limits = thresholds()
    with transaction.atomic():
        _lock()
        cells: dict[DayKey, Tally] = defaultdict(Tally)
        for call in ended_calls(start, end):
            threshold = limits.get(call.language, ServiceLevel.DEFAULT_SECONDS)
            key = (
                call.started_at.astimezone(zone).date(),
                call.language,
                call.number_id,
                call.how_heard,
                call.region,
            )
            cells[key].add(call_tally(call, threshold))
        DayCount.objects.filter(day__gte=first, day__lte=last).delete()
        DayCount.objects.bulk_create(
            (
                DayCount(
                    day=day,
                    language=language,
                    number_id=number,
                    how_heard=how_heard,
                    region=region,
                    **tally.values(),
                )
                for (day, language, number, how_heard, region), tally in sorted(cells.items())
            ),
            batch_size=500,
        )
    return len(cells)


def counts_rebuild(*, first: date, last: date) -> None:
    """Rebuild every count of the hotline days ``first`` to ``last`` (and their hours)."""
    start, end = day_span(first, last)
    hours_rebuild(start=start, end=end)
    days_rebuild(first=first, last=last)


def counts_backfill(*, first: date, last: date) -> None:
    """``counts_rebuild`` a week at a time: each a transaction of its own, none holding
    the lock long (``tuidang backfill-reports``, history)."""
    day = first
    while day <= last:
        end = min(day + timedelta(days=6), last)
        counts_rebuild(first=day, last=end)
        day = end + timedelta(days=1)


def presence_hour(hour: datetime) -> QuerySet[PresenceHour]:
    """The all-volunteers row of ``hour``, made if missing, to update."""
    local = hour.astimezone(hotline_zone())
    PresenceHour.objects.get_or_create(
        hour=hour, defaults={"local_day": local.date(), "local_hour": local.hour}
    )
    return PresenceHour.objects.filter(hour=hour)


def presence_sample(*, now: datetime, weight_seconds: int) -> bool:
    """Add ``weight_seconds`` to each volunteer's hour in the presence they are in now.
    False if a sample at ``now`` was already taken (a retried run adds nothing)."""
    hour = floor_hour(now)
    try:
        with transaction.atomic():
            Sample.objects.create(taken_at=now)
            present = Volunteer.objects.exclude(presence=Presence.AWAY).values_list(
                "pk", "presence"
            )
            for volunteer_id, presence in present:
                field = SAMPLED.get(Presence(presence))
                if field is None:
                    continue
                VolunteerHour.objects.get_or_create(hour=hour, volunteer_id=volunteer_id)
                VolunteerHour.objects.filter(hour=hour, volunteer_id=volunteer_id).update(
                    **{field: F(field) + weight_seconds}
                )
                presence_hour(hour).update(**{field: F(field) + weight_seconds})
    except IntegrityError:
        return False
    return True


def reports_run(now: datetime) -> str:
    """The periodic job: sample presence, rebuild the recent counts, settle on the hour."""
    every = int(settings.REPORTS_INTERVAL_SECONDS)
    sampled = presence_sample(now=now, weight_seconds=every)
    start = now - timedelta(hours=REBUILD_HOURS)
    zone = hotline_zone()
    first, last = start.astimezone(zone).date(), now.astimezone(zone).date()
    if int(now.timestamp()) % 3600 < every:
        first = min(first, last - timedelta(days=SETTLE_DAYS))
        counts_rebuild(first=first, last=last)
    else:
        hours_rebuild(start=start, end=now)
        days_rebuild(first=first, last=last)
    presence = "sampled" if sampled else "already sampled"
    return f"counts of {first} to {last} rebuilt; presence {presence}"
