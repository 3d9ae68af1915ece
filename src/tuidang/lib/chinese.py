"""Simplified and Traditional Chinese.

The interface speaks both (``zh-hans`` and ``zh-hant``); the Traditional catalogue is made
from the Simplified one (`tuidang hant_messages`). What people wrote (a published statement,
a number's hours typed by a coordinator) is kept as written and shown in the reader's
script, converted as the page is rendered: OpenCC's character conversion with Taiwan's
standard forms (``s2tw``), which changes the script and never the words, so a reader in
Hong Kong or Taiwan reads what the writer said.
"""

from __future__ import annotations

import functools

import opencc
from django.utils.translation import get_language

SIMPLIFIED = "zh-hans"
TRADITIONAL = "zh-hant"


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    """``text`` with Simplified characters written in Traditional ones."""
    return str(_converter("s2tw").convert(text)) if text else text


def to_simplified(text: str) -> str:
    """``text`` with Traditional characters written in Simplified ones."""
    return str(_converter("t2s").convert(text)) if text else text


def in_reader_script(text: str, language: str | None = None) -> str:
    """``text`` in the script of ``language`` (by default the page's): converted for a
    reader of Traditional or of Simplified Chinese, as written for anyone else."""
    language = (language or get_language() or "").lower()
    if language == TRADITIONAL:
        return to_traditional(text)
    if language == SIMPLIFIED:
        return to_simplified(text)
    return text
