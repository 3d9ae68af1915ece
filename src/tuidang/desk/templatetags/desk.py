"""Template filters of the desk's pages."""

from __future__ import annotations

import re

from django import template
from django.utils import timezone
from django.utils.translation import gettext

from tuidang.calls.case_codes import format_case_code
from tuidang.screening.models import Policy
from tuidang.shifts.models import Assignment
from tuidang.shifts.selectors import current_assignment
from tuidang.volunteers.models import Volunteer

register = template.Library()


@register.filter
def case_code(code: str) -> str:
    """A case code grouped for reading aloud: 482 917 305."""
    return format_case_code(code) if code else ""


@register.filter
def policy_label(value: str) -> str:
    """A screening policy's name in the reader's language, not its code."""
    labels = dict(Policy.choices)
    return str(labels.get(value, value))


# How screening/flood.py words what flood mode counted (stored, and logged, in English).
_FLOOD_COUNTS = re.compile(
    r"^(?P<arrivals>\d+) calls in 5 min, (?P<on_duty>\d+) on duty, "
    r"(?P<flagged>\d+)% flagged, (?P<new_keys>\d+) new keys$"
)


@register.filter
def flood_counts(detail: str) -> str:
    """Flood mode's counts in the reader's language; any other detail as it was written."""
    match = _FLOOD_COUNTS.match(detail or "")
    if match is None:
        return detail
    return (
        gettext(
            "%(arrivals)s calls in 5 min, %(on_duty)s on duty, %(flagged)s%% flagged, "
            "%(new_keys)s new keys"
        )
        % match.groupdict()
    )


@register.simple_tag
def shift_now(volunteer: Volunteer) -> Assignment | None:
    """The volunteer's shift going on now, if any: an away volunteer on shift is asked to
    go available."""
    return current_assignment(volunteer, timezone.now())
