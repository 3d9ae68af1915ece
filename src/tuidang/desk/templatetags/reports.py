"""Shares and durations of the reports, as a reader takes them in."""

from __future__ import annotations

from django import template

register = template.Library()

NONE = "\u2013"  # an en dash: nothing to show


@register.filter
def percent(value: float | None) -> str:
    """0.8571 as "85.7 %"; nothing to divide by as an en dash."""
    return NONE if value is None else f"{100 * value:.1f} %"


@register.filter
def seconds(value: float | None) -> str:
    """A number of seconds as "1:05" (minutes and seconds) or "2:01:05" (with hours), or
    an en dash when there is none."""
    if value is None:
        return NONE
    whole = round(value)
    hours, rest = divmod(whole, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"
