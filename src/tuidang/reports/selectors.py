"""Reports read from the kept counts (``models.py``), never from the calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import F, Max, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from tuidang.calls.models import HotlineNumber, HowHeard
from tuidang.lib.languages import Language
from tuidang.lib.regions import region_name
from tuidang.reports.counting import day_span, hotline_zone
from tuidang.reports.models import (
    MAXED,
    SUMMED,
    DayCount,
    HourCount,
    PresenceHour,
    VolunteerHour,
)
from tuidang.volunteers.models import Volunteer

BREAKDOWNS = {
    "day": _("Day"),
    "hour": _("Hour of day"),
    "language": _("Language"),
    "number": _("Hotline number"),
    "channel": _("Channel"),
    "province": _("Province"),
}
# The cell field each breakdown groups the hour cells, or else the day cells, by.
HOUR_FIELDS = {"day": "local_day", "hour": "local_hour", "language": "language"}
DAY_FIELDS = {"number": "number_id", "channel": "how_heard", "province": "region"}


def _totals() -> dict[str, Any]:
    return {**{name: Sum(name) for name in SUMMED}, **{name: Max(name) for name in MAXED}}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Row:
    """One line of a report: its key, its label and its counters."""

    key: object
    label: str
    counts: dict[str, int]
    wrap_up_seconds: int | None = None

    def __getattr__(self, name: str) -> int:
        counts = self.__dict__.get("counts", {})
        if name in counts:
            return int(counts[name] or 0)
        raise AttributeError(name)

    @property
    def service_level(self) -> float | None:
        """Answered within the threshold, of the calls answered or abandoned after 5 s."""
        return _ratio(self.answered_in_threshold, self.answered + self.abandoned)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered - self.abandoned_short)

    @property
    def average_answer_seconds(self) -> float | None:
        return _ratio(self.answer_seconds, self.answered)

    @property
    def average_talk_seconds(self) -> float | None:
        return _ratio(self.talk_seconds, self.answered)

    @property
    def average_wrap_up_seconds(self) -> float | None:
        if self.wrap_up_seconds is None:
            return None
        return _ratio(self.wrap_up_seconds, self.answered)

    @property
    def renunciations_per_answered(self) -> float | None:
        return _ratio(self.renunciations, self.answered)


@dataclass
class Report:
    first: date
    last: date
    by: str
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    if by == "language":
        names = dict(Language.choices)
        return {key: str(names.get(key, _("No language chosen"))) for key in keys}
    if by == "number":
        numbers = dict(HotlineNumber.objects.filter(pk__in=keys).values_list("pk", "name"))
        return {key: numbers.get(key, f"#{key}") for key in keys}
    if by == "channel":
        channels = dict(HowHeard.choices)
        return {key: str(channels.get(key, key)) for key in keys}
    if by == "province":
        return {key: region_name(key) if key else str(_("Not known")) for key in keys}
    if by == "hour":
        return {key: f"{key:02d}:00" for key in keys}
    return {key: key.isoformat() for key in keys}


def _wrap_up(first: date, last: date, by: str) -> dict[Any, int]:
    """Sampled wrap-up seconds by day or hour of day, or in all (``None``): volunteers'
    time is kept by hour, not by call, so not by language, number or province."""
    hours = PresenceHour.objects.filter(local_day__gte=first, local_day__lte=last)
    if by not in HOUR_FIELDS or by == "language":
        total = hours.aggregate(total=Sum("wrap_up_seconds"))["total"] or 0
        return {None: int(total)}
    return {
        key: int(seconds or 0)
        for key, seconds in hours.values(HOUR_FIELDS[by])
        .annotate(seconds=Sum("wrap_up_seconds"))
        .values_list(HOUR_FIELDS[by], "seconds")
    }


def report(*, first: date, last: date, by: str) -> Report:
    """The counts of the hotline days ``first`` to ``last`` by ``by`` (``BREAKDOWNS``):
    by day, hour of day and language from the hour cells, by number, channel and
    province from the day cells; the total from the hour cells."""
    if by not in BREAKDOWNS:
        raise ValueError(by)
    hours = HourCount.objects.filter(local_day__gte=first, local_day__lte=last)
    cells: QuerySet[Any, dict[str, Any]]
    if by in HOUR_FIELDS:
        cells = hours.annotate(key=F(HOUR_FIELDS[by])).values("key")
    else:
        cells = (
            DayCount.objects.filter(day__gte=first, day__lte=last)
            .annotate(key=F(DAY_FIELDS[by]))
            .values("key")
        )
    grouped = list(cells.annotate(**_totals()).order_by("key"))
    keys = [row["key"] for row in grouped]
    labels = _labels(by, keys)
    timed = by in ("day", "hour")
    wrap = _wrap_up(first, last, by) if timed else {}
    rows = [
        Row(
            key=row["key"],
            label=labels[row["key"]],
            counts={name: row[name] or 0 for name in (*SUMMED, *MAXED)},
            wrap_up_seconds=wrap.get(row["key"], 0) if timed else None,
        )
        for row in grouped
    ]
    if not timed:
        rows.sort(key=lambda row: (-row.offered, row.label))
    whole = hours.aggregate(**_totals())
    total = Row(
        key=None,
        label=str(_("Total")),
        counts={name: whole[name] or 0 for name in (*SUMMED, *MAXED)},
        wrap_up_seconds=_wrap_up(first, last, "total")[None],
    )
    return Report(first=first, last=last, by=by, rows=rows, total=total)


@dataclass
class Occupancy:
    volunteer: Volunteer
    available_seconds: int
    ringing_seconds: int
    talk_seconds: int
    wrap_up_seconds: int

    @property
    def on_duty_seconds(self) -> int:
        return (
            self.available_seconds + self.ringing_seconds + self.talk_seconds + self.wrap_up_seconds
        )

    @property
    def occupancy(self) -> float | None:
        """Talk and wrap-up over all the time on duty (not away)."""
        return _ratio(self.talk_seconds + self.wrap_up_seconds, self.on_duty_seconds)


def occupancy(*, first: date, last: date, volunteer: Volunteer | None = None) -> list[Occupancy]:
    """Each volunteer's sampled time over the hotline days ``first`` to ``last``; only
    ``volunteer``'s when given."""
    start, end = day_span(first, last)
    hours = VolunteerHour.objects.filter(hour__gte=start, hour__lt=end)
    if volunteer is not None:
        hours = hours.filter(volunteer=volunteer)
    sums = {
        row["volunteer"]: row
        for row in hours.values("volunteer").annotate(
            available=Sum("available_seconds"),
            ringing=Sum("ringing_seconds"),
            talk=Sum("talk_seconds"),
            wrap=Sum("wrap_up_seconds"),
        )
    }
    people = Volunteer.objects.filter(pk__in=sums).order_by("display_name")
    return [
        Occupancy(
            volunteer=person,
            available_seconds=sums[person.pk]["available"] or 0,
            ringing_seconds=sums[person.pk]["ringing"] or 0,
            talk_seconds=sums[person.pk]["talk"] or 0,
            wrap_up_seconds=sums[person.pk]["wrap"] or 0,
        )
        for person in people
    ]


def latest_day() -> date:
    return datetime.now(hotline_zone()).date()
