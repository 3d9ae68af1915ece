from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet, Sum

from tuidang.declarations.models import DailyTotal, HowHeardTotal, MonthlyRollup, Rollup
from tuidang.declarations.services import hotline_today


@dataclass(frozen=True)
class Totals:
    total: int
    today: int
    party: int
    youth_league: int
    young_pioneers: int


def public_totals() -> Totals:
    """Declarations minus revocations, as the log counts them (docs/counting.md): every
    declaration and every revocation is a log entry, so this is what verify-log checks.
    Summed over the daily totals, which the recording transactions keep."""
    sums = DailyTotal.objects.aggregate(
        total=Sum("people"),
        party=Sum("party"),
        youth_league=Sum("youth_league"),
        young_pioneers=Sum("young_pioneers"),
    )
    today = DailyTotal.objects.filter(day=hotline_today()).values_list("people", flat=True)
    return Totals(
        today=next(iter(today), 0), **{name: int(value or 0) for name, value in sums.items()}
    )


def counts_by_region(*, since: date, until: date, organization: str) -> dict[str, int]:
    """Counted renunciations of ``organization`` per region over a span of days, from the
    rollups alone: whole months from the monthly cells, the days of a partial month at
    either end from the daily ones, so a year reads a few thousand cells at most."""
    first_month = since if since.day == 1 else _next_month(since)
    after_months = (until + timedelta(days=1)).replace(day=1)
    if first_month >= after_months:  # no whole month in the span
        parts: list[QuerySet[Rollup] | QuerySet[MonthlyRollup]] = [
            Rollup.objects.filter(day__gte=since, day__lte=until)
        ]
    else:
        parts = [
            MonthlyRollup.objects.filter(month__gte=first_month, month__lt=after_months),
            Rollup.objects.filter(day__gte=since, day__lt=first_month),
            Rollup.objects.filter(day__gte=after_months, day__lte=until),
        ]
    totals: dict[str, int] = {}
    for cells in parts:
        rows = cells.filter(organization=organization).values("region").annotate(n=Sum("count"))
        for row in rows:
            totals[row["region"] or ""] = totals.get(row["region"] or "", 0) + int(row["n"])
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def people_by_day() -> list[tuple[date, int]]:
    """People counted on each day that counted any, oldest first: the daily totals, a row
    a day (a few thousand for the hotline's whole history)."""
    rows = DailyTotal.objects.exclude(people=0).order_by("day").values_list("day", "people")
    return [(day, int(people)) for day, people in rows]


def renunciations_by(dimension: str) -> dict[str, int]:
    """Renunciations (one per organization a person leaves) by ``organization``,
    ``region`` or ``channel``, most first, from the monthly cells: a few thousand rows
    for the whole history."""
    if dimension not in ("organization", "region", "channel"):
        raise ValueError(f"no rollup by {dimension!r}")
    rows = MonthlyRollup.objects.values(dimension).annotate(n=Sum("count")).order_by()
    counts = {str(row[dimension] or ""): int(row["n"]) for row in rows if row["n"]}
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def people_by_how_heard() -> dict[str, int]:
    """People counted by how they heard of the number they called ("" when not told, and
    for declarations not made by phone), most first."""
    rows = HowHeardTotal.objects.values("how_heard").annotate(n=Sum("people")).order_by()
    counts = {str(row["how_heard"]): int(row["n"]) for row in rows if row["n"]}
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def daily_cells() -> Iterator[tuple[date, str, str, str, int]]:
    """Every day's counted renunciations by region, organization and channel, in that
    order: what the open data's CSV holds and what `tuidang verify-log --figures`
    recomputes from the log. Cells a revocation brought back to zero are left out."""
    rows = (
        Rollup.objects.exclude(count=0)
        .order_by("day", "region", "organization", "channel")
        .values_list("day", "region", "organization", "channel", "count")
    )
    for day, region, organization, channel, count in rows.iterator(chunk_size=5000):
        yield day, region or "", organization, channel, int(count)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
