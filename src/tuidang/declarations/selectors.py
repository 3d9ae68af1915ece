from __future__ import annotations

from dataclasses import dataclass

from tuidang.declarations.models import Declaration
from tuidang.declarations.services import hotline_today


@dataclass(frozen=True)
class Totals:
    total: int
    today: int


def public_totals() -> Totals:
    return Totals(
        total=Declaration.objects.count(),
        today=Declaration.objects.filter(declared_on=hotline_today()).count(),
    )
