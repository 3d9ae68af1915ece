"""Template filters of the desk's pages."""

from __future__ import annotations

from django import template

from tuidang.calls.case_codes import format_case_code
from tuidang.screening.models import Policy

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
