"""``{% load chinese %}``: what people wrote, shown in the reader's script (lib/chinese.py)."""

from __future__ import annotations

from django import template

from tuidang.lib.chinese import in_reader_script

register = template.Library()


@register.filter(name="reader_script")
def reader_script(text: str) -> str:
    return in_reader_script(str(text))
