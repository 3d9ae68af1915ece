"""The coverage page's numbers: hour by hour for the next days, per language queue, the
volunteers scheduled against the shifts' minimum and target, and the calls expected.

Calls expected in an hour are the average of the same hour of the week over the last
eight weeks. They are counted by one indexed range query over ``Call.started_at`` (eight
weeks of calls, grouped by hour in the database), not from a kept count: the hourly counts
of the reports are not there to read yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour

from tuidang.calls.models import Call
from tuidang.shifts.models import Slot
from tuidang.shifts.selectors import covering_hours, short_of_minimum, slots_between

DAYS = 14
DEMAND_WEEKS = 8


@dataclass(frozen=True)
class Hour:
    language: str
    starts_at: datetime  # UTC
    scheduled: int
    minimum: int
    target: int
    expected_calls: float
    slots: tuple[Slot, ...]  # the slots overlapping the hour, to fill a gap in

    @property
    def gap(self) -> bool:
        """Fewer volunteers than the minimum, or no shift at all."""
        return short_of_minimum(self.slots)

    @property
    def short(self) -> bool:
        """At or above the minimum but under the target."""
        return not self.gap and self.scheduled < self.target


def _hour_of_week(instant: datetime) -> tuple[int, int]:
    instant = instant.astimezone(UTC)
    return instant.weekday(), instant.hour


def expected_calls(languages: list[str], now: datetime) -> dict[tuple[str, int, int], float]:
    """Calls per (language, weekday, hour) in UTC, averaged over the last eight weeks.
    (China keeps no daylight saving: an hour of the week in UTC is one in China time.)"""
    until = now.replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(weeks=DEMAND_WEEKS)
    rows = (
        Call.objects.filter(started_at__gte=since, started_at__lt=until, language__in=languages)
        .annotate(hour=TruncHour("started_at", tzinfo=UTC))
        .values("language", "hour")
        .annotate(calls=Count("pk"))
    )
    totals: dict[tuple[str, int, int], float] = defaultdict(float)
    for row in rows:
        weekday, hour = _hour_of_week(row["hour"])
        totals[(row["language"], weekday, hour)] += row["calls"] / DEMAND_WEEKS
    return totals


def coverage(languages: list[str], now: datetime, days: int = DAYS) -> dict[str, list[Hour]]:
    """Per language, the hours from this one to ``days`` ahead."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(days=days)
    slots = slots_between(start, end, languages)
    demand = expected_calls(languages, now)
    table: dict[str, list[Hour]] = {}
    for language in languages:
        own = [slot for slot in slots if slot.language == language]
        hours = []
        for at, covering in covering_hours(own, start, end):
            weekday, hour = _hour_of_week(at)
            hours.append(
                Hour(
                    language=language,
                    starts_at=at,
                    scheduled=sum(getattr(s, "heads", 0) for s in covering),
                    minimum=sum(s.shift.min_heads for s in covering),
                    target=sum(s.shift.target_heads for s in covering),
                    expected_calls=round(demand.get((language, weekday, hour), 0.0), 1),
                    slots=covering,
                )
            )
        table[language] = hours
    return table
