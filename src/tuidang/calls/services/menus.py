"""The caller's answers in the menus before the queue: language, how they heard."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from tuidang.calls import prompts, selectors, statements
from tuidang.calls.models import Call, HowHeard
from tuidang.calls.services._shared import UnknownCall
from tuidang.calls.services.queue import enqueue_call
from tuidang.lib import prepared

# A caller who gives no valid digit hears the menu once more, then gets the default.
MENU_ATTEMPTS = 2


@dataclass(frozen=True)
class MenuResult:
    call: Call
    retry: bool
    ask_how_heard: bool = False


@transaction.atomic
def call_choose_language(*, provider_sid: str, digits: str) -> MenuResult:
    """The caller pressed ``digits`` in the language menu (empty when they pressed nothing)."""
    call = statements.call_by_sid(provider_sid, lock=True)
    if call is None:
        raise UnknownCall(provider_sid)
    selectors.with_number(call)
    if call.state != Call.State.IVR:  # a retried request: the choice is already made
        return MenuResult(call=call, retry=False)
    language = prompts.language_for_digit(digits)
    if language is None:
        call.menu_attempts += 1
        if call.menu_attempts < MENU_ATTEMPTS:
            prepared.update(call, ["menu_attempts"])
            return MenuResult(call=call, retry=True)
        language = prompts.DEFAULT_LANGUAGE.value
    call.language = language
    number = call.hotline_number
    if number.ask_how_heard and call.how_heard == HowHeard.UNKNOWN:
        call.menu_attempts = 0
        prepared.update(call, ["language", "menu_attempts"])
        return MenuResult(call=call, retry=False, ask_how_heard=True)
    enqueue_call(call)
    return MenuResult(call=call, retry=False)


@transaction.atomic
def call_choose_how_heard(*, provider_sid: str, digits: str) -> Call:
    """The caller's answer to "how did you hear of this number"; no answer is fine."""
    call = statements.call_by_sid(provider_sid, lock=True)
    if call is None:
        raise UnknownCall(provider_sid)
    if call.state != Call.State.IVR or not call.language:
        return call  # retried, or a request out of order
    selectors.with_number(call)  # the greeting names it
    call.how_heard = prompts.HOW_HEARD.get(digits, call.how_heard)
    # One UPDATE: the answer, and the call joins the queue.
    enqueue_call(call, also=["how_heard"])
    return call
