from __future__ import annotations

from dataclasses import dataclass

from tuidang.declarations.models import Declaration
from tuidang.declarations.services import hotline_today
from tuidang.tlog.services import log_size


@dataclass(frozen=True)
class Totals:
    total: int
    today: int


def public_totals() -> Totals:
    """The total is the log's count of declarations (revocations, when they come, are
    entries that subtract); today's count is from the declarations themselves."""
    return Totals(
        total=log_size(),
        today=Declaration.objects.filter(declared_on=hotline_today()).count(),
    )
