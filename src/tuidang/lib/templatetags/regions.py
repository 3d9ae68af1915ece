"""``{% load regions %}``: a region's code (lib/regions.py) as its name, in the page's
language."""

from __future__ import annotations

from django import template

from tuidang.lib.regions import region_name

register = template.Library()


@register.filter(name="region_name")
def region_name_filter(code: str) -> str:
    return region_name(code)
