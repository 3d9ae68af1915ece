"""Reads for coordinators: the night, hour by hour, in China time."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour

from tuidang.calls.models import Call
from tuidang.screening.models import CallerScore, Policy, ScreeningSettings

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


@dataclass
class HourRow:
    hour: datetime
    calls: int = 0
    flagged: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    @property
    def flagged_share(self) -> float:
        return self.flagged / self.calls if self.calls else 0.0


@dataclass
class NightReport:
    start: datetime
    end: datetime
    hours: list[HourRow]
    conversions: int

    @property
    def calls(self) -> int:
        return sum(row.calls for row in self.hours)

    @property
    def flagged(self) -> int:
        return sum(row.flagged for row in self.hours)

    def actions(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.hours:
            for action, count in row.actions.items():
                totals[action] = totals.get(action, 0) + count
        return totals


def night_report(night: date) -> NightReport:
    """The night beginning on ``night`` in China: 18:00 to 08:00 the next morning."""
    start = datetime.combine(night, time(18), tzinfo=CHINA)
    end = start + timedelta(hours=14)
    threshold = ScreeningSettings.current().screening_group_at
    rows = (
        Call.objects.filter(started_at__gte=start, started_at__lt=end)
        .annotate(hour=TruncHour("started_at", tzinfo=CHINA))
        .values("hour", "screening_policy")
        .annotate(calls=Count("pk"), flagged=Count("pk", filter=Q(screening_score__gte=threshold)))
    )
    hours = {
        start + timedelta(hours=offset): HourRow(start + timedelta(hours=offset))
        for offset in range(14)
    }
    for row in rows:
        hour = hours.setdefault(row["hour"], HourRow(row["hour"]))
        hour.calls += row["calls"]
        hour.flagged += row["flagged"]
        hour.actions[row["screening_policy"]] = row["calls"]
    conversions = CallerScore.objects.filter(converted_at__gte=start, converted_at__lt=end).count()
    return NightReport(
        start=start,
        end=end,
        hours=sorted(hours.values(), key=lambda r: r.hour),
        conversions=conversions,
    )


POLICY_LABELS = dict(Policy.choices)
