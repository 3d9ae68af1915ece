"""Where a shift's wall-clock times fall in time: the arithmetic of zones, midnight and DST.

A shift is written in the wall clock of its zone (22:00 to 02:00 in America/Toronto). Each
occurrence is resolved to UTC instants on its local date: an end at or before the start is
on the next local day. A local time that does not exist that day (the hour skipped when
clocks go forward) is taken as the instant the clock would read had it not jumped, which
the clock shows as that much later (02:30 becomes 03:30); a local time that happens twice
(the hour repeated when clocks go back) is taken the first time. Either is said to the
coordinator. An occurrence that a gap leaves empty (02:15 to 03:00 on the night the clocks
skip 02:00 to 03:00) does not happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Oddity(StrEnum):
    """What a local time is on one date in one zone."""

    GAP = "gap"  # does not exist: the clocks jump over it
    FOLD = "fold"  # exists twice: the clocks go back over it


def resolve(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, Oddity | None]:
    """The UTC instant of ``at`` on ``day`` in ``zone``, and whether that wall time is odd."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return instant, Oddity.GAP
    if local.replace(fold=1).utcoffset() != local.utcoffset():
        return instant, Oddity.FOLD
    return instant, None


@dataclass(frozen=True)
class Occurrence:
    local_date: date
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    start_oddity: Oddity | None
    end_oddity: Oddity | None


def occurrence(day: date, start: time, end: time, zone: ZoneInfo) -> Occurrence | None:
    """The occurrence of a shift from ``start`` to ``end`` that starts on ``day``; None
    when a DST gap leaves it empty."""
    starts_at, start_oddity = resolve(day, start, zone)
    end_day = day + timedelta(days=1) if end <= start else day
    ends_at, end_oddity = resolve(end_day, end, zone)
    if ends_at <= starts_at:
        return None
    return Occurrence(day, starts_at, ends_at, start_oddity, end_oddity)


def weekly_dates(first: date, last: date | None, since: date, until: date) -> Iterator[date]:
    """The dates from ``first`` every seven days (up to ``last``), within [since, until)."""
    if since > first:
        first = first + timedelta(days=-(-(since - first).days // 7) * 7)
    day = first
    while day < until and (last is None or day <= last):
        yield day
        day += timedelta(days=7)
