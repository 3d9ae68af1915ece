"""A hired caller and a genuine one, and a caller key's score set by hand."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tuidang.calls.models import Call
from tuidang.lib.phone import caller_key
from tuidang.screening.models import CallerScore

HIRED = "+8613512345678"
GENUINE = "+8613800138000"


def score(number: str, value: float, *, hours_ago: float = 0) -> None:
    """Give ``number``'s caller key the nuisance score ``value``, as of ``hours_ago``."""
    CallerScore.objects.update_or_create(
        caller_key=caller_key(number),
        defaults={"score": value, "updated_at": timezone.now() - timedelta(hours=hours_ago)},
    )


def last_call() -> Call:
    return Call.objects.latest("pk")
