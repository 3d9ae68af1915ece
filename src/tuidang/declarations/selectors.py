from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, Sum

from tuidang.declarations.models import Declaration, Rollup
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
    declaration and every revocation is a log entry, so this is what verify-log checks."""
    counted = Declaration.objects.filter(log_index__isnull=False, revocation__isnull=True)
    by_organization = counted.aggregate(
        party=Count("pk", filter=Q(party=True)),
        youth_league=Count("pk", filter=Q(youth_league=True)),
        young_pioneers=Count("pk", filter=Q(young_pioneers=True)),
    )
    return Totals(
        total=counted.count(),
        today=counted.filter(declared_on=hotline_today()).count(),
        **by_organization,
    )


def counts_by_region(*, since: date, until: date, organization: str) -> dict[str, int]:
    """Counted renunciations of ``organization`` per region over a span of days, from the
    rollups alone (a year of them is at most days by regions by channels rows)."""
    rows = (
        Rollup.objects.filter(day__gte=since, day__lte=until, organization=organization)
        .values("region")
        .annotate(total=Sum("count"))
        .order_by("-total")
    )
    return {row["region"] or "": int(row["total"]) for row in rows}
