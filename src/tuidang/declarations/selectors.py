from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from tuidang.declarations.models import Declaration
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
