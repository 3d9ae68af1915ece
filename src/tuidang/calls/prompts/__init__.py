"""What the hotline says to callers and volunteers, per language.

Built-in texts for every prompt, one module per caller language (``cmn``, ``yue``,
``en``), which coordinators override per number (or for every number) with their own
text, a text-to-speech voice, or an uploaded recording: see ``NumberPrompt``. A text
may use the placeholders its built-in text uses (``{ahead}``, ``{minutes}``, ``{digit}``:
``PLACEHOLDERS``) and no others; ``check_text`` refuses any other brace where a text is
saved, and ``say`` never lets a stored text fail a call: it says the built-in one instead.

A new caller language is a module like ``en.py`` and one line in ``LANGUAGES``. The
digits of the language menu follow ``LANGUAGES``; those of the how-heard menu come from
``HOW_HEARD`` alone, so no language can renumber what callers press.
"""

from __future__ import annotations

import logging
import string
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuidang.calls.prompts import cmn, en, yue
from tuidang.calls.prompts.kinds import PromptKind
from tuidang.lib.languages import Language

if TYPE_CHECKING:
    from tuidang.calls.models import HotlineNumber

__all__ = [
    "BUILT_IN",
    "DEFAULT_LANGUAGE",
    "HOW_HEARD",
    "LANGUAGES",
    "MENU_ORDER",
    "PLACEHOLDERS",
    "Prompt",
    "PromptKind",
    "PromptTextError",
    "check_text",
    "greeting_and_menu",
    "language_for_digit",
    "not_in_service",
    "offer_gone",
    "say",
    "whisper",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prompt:
    text: str
    language: str
    voice: str = ""
    audio_url: str = ""


# The caller languages, in the order of the language menu (digit 1 first); the first is
# the default for a caller who chooses none.
LANGUAGES = (cmn, yue, en)

# The answers to "how did you hear of this number", by digit (``HowHeard`` values).
HOW_HEARD = {
    "1": "banknotes",
    "2": "flyers",
    "3": "radio",
    "4": "website",
    "5": "referral",
    "6": "other",
}

MENU_ORDER: list[Language] = [module.LANGUAGE for module in LANGUAGES]
DEFAULT_LANGUAGE = MENU_ORDER[0]

BUILT_IN: dict[str, dict[str, str]] = defaultdict(dict)
for _module in LANGUAGES:
    for _kind, _text in _module.TEXTS.items():
        BUILT_IN[_kind][_module.LANGUAGE] = _text
    BUILT_IN[PromptKind.HOW_HEARD][_module.LANGUAGE] = _module.how_heard_menu(
        [(digit, _module.HOW_HEARD_ANSWERS[value]) for digit, value in HOW_HEARD.items()]
    )
BUILT_IN = dict(BUILT_IN)
_BY_LANGUAGE = {module.LANGUAGE: module for module in LANGUAGES}
_DIGIT_TO_LANGUAGE = {str(digit): language for digit, language in enumerate(MENU_ORDER, start=1)}


class PromptTextError(ValueError):
    """A prompt text with a brace that is not one of its kind's placeholders."""


def _fields(text: str) -> list[tuple[str, str | None]]:
    """The text as (literal, placeholder name or None) pairs; ``{{`` and ``}}`` are
    literal braces. Refuses an unmatched brace, and any field that is more than a bare
    name: an index, an attribute, a conversion or a format (``{0}``, ``{a.b}``, ``{a!r}``,
    ``{a:d}``), which would read or fail where a caller is waiting."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise PromptTextError(str(error)) from None
    pairs: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (not name.isidentifier() or spec or conversion):
            field = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise PromptTextError(f"{{{field}}} is not a placeholder")
        pairs.append((literal, name))
    return pairs


def _checked(kind: str, text: str) -> list[tuple[str, str | None]]:
    pairs = _fields(text)
    allowed = PLACEHOLDERS.get(kind, frozenset())
    for _, name in pairs:
        if name is not None and name not in allowed:
            raise PromptTextError(f"{{{name}}} is not a placeholder of the {kind} prompt")
    return pairs


# The placeholders each kind of prompt may use: those its built-in texts use.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    kind: frozenset(name for text in texts.values() for _, name in _fields(text) if name)
    for kind, texts in BUILT_IN.items()
}


def check_text(kind: str, text: str) -> None:
    """Refuse (``PromptTextError``) a text of ``kind`` with a brace that is not one of
    ``PLACEHOLDERS[kind]``."""
    _checked(kind, text)


def _fill(kind: str, text: str, values: Mapping[str, object]) -> str:
    """The text with its placeholders filled (a value not given: nothing)."""
    return "".join(
        literal + (str(values.get(name, "")) if name is not None else "")
        for literal, name in _checked(kind, text)
    )


def say(
    kind: str, language: str, *, number: HotlineNumber | None = None, **values: object
) -> Prompt:
    """The prompt of ``kind`` in ``language``: the number's own, every number's, or built in.

    A coordinator's text is checked where it is saved; one stored past that check (by
    hand in the database, or before the check existed) is logged and the built-in text
    said instead, so a caller never hears an error."""
    from tuidang.calls.selectors import prompt_override

    language = language or DEFAULT_LANGUAGE
    built_in = BUILT_IN[kind][language]
    custom = prompt_override(kind, language, number.pk if number is not None else None)
    if custom is None:
        return Prompt(_fill(kind, built_in, values), language)
    try:
        text = _fill(kind, custom.text or built_in, values)
    except PromptTextError as error:
        logger.warning(
            "The %s prompt #%s (%s) cannot be said (%s): the built-in text is said instead",
            kind, custom.pk, language, error,
        )  # fmt: skip
        text = _fill(kind, built_in, values)
    return Prompt(text, language, voice=custom.voice, audio_url=custom.audio_url())


def greeting_and_menu(number: HotlineNumber | None = None) -> list[Prompt]:
    prompts = [say(PromptKind.GREETING, DEFAULT_LANGUAGE, number=number)]
    for digit, module in enumerate(LANGUAGES, start=1):
        prompts.append(Prompt(module.MENU_ENTRY.format(digit=digit), module.LANGUAGE))
    return prompts


def language_for_digit(digits: str) -> str | None:
    """The language of the menu's key ``digits`` ("1", "2"...; ASCII only), or None."""
    language = _DIGIT_TO_LANGUAGE.get(digits)
    return language.value if language is not None else None


def not_in_service() -> list[Prompt]:
    return [
        Prompt("您拨打的号码暂停服务。", Language.MANDARIN),
        Prompt("The number you have called is not in service.", Language.ENGLISH),
    ]


# Volunteers hear the whisper in English: it names the caller's language.
def whisper(language: str) -> Prompt:
    name = _BY_LANGUAGE[Language(language)].NAME
    return Prompt(f"Hotline call in {name}. Press 1 to accept.", Language.ENGLISH)


def transfer_whisper(language: str, warm: bool) -> Prompt:
    name = _BY_LANGUAGE[Language(language)].NAME
    kind = "Your colleague is on the line" if warm else "The caller is waiting"
    return Prompt(
        f"A colleague transfers a call in {name} to you. {kind}. Press 1 to accept.",
        Language.ENGLISH,
    )


def offer_gone() -> Prompt:
    return Prompt("This call has been taken or the caller has hung up.", Language.ENGLISH)
