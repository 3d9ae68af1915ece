"""The caller's answers in the menus before the queue: language, how they heard."""

from __future__ import annotations

from collections.abc import Mapping
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


def call_choose_language(*, provider_sid: str, digits: str) -> MenuResult:
    """The caller pressed ``digits`` in the language menu (empty when they pressed nothing).

    The call is read without a lock and the choice saved by one UPDATE that holds only
    while the call is still in the menu as read (``prepared.update_while``): on SQLite,
    where one writer writes at a time, this request's turn is that statement. A request
    that finds the call changed since its read (the provider asking again at the same
    moment, the caller hanging up) decides again with the call locked."""
    call = statements.call_by_sid(provider_sid)
    if call is None:
        raise UnknownCall(provider_sid)
    still = {"state": Call.State.IVR, "menu_attempts": call.menu_attempts}
    return _choose_language(call, digits, still) or _choose_language_locked(provider_sid, digits)


@transaction.atomic
def _choose_language_locked(provider_sid: str, digits: str) -> MenuResult:
    call = statements.call_by_sid(provider_sid, lock=True)
    if call is None:
        raise UnknownCall(provider_sid)
    result = _choose_language(call, digits, still=None)
    assert result is not None, "a save with the call locked always stores"
    return result


def _choose_language(
    call: Call, digits: str, still: Mapping[str, object] | None
) -> MenuResult | None:
    """The choice, saved with the call locked (``still`` None) or only while the call holds
    ``still``: None when another request changed it first."""
    selectors.with_number(call)
    if call.state != Call.State.IVR:  # a retried request: the choice is already made
        return MenuResult(call=call, retry=False)
    language = prompts.language_for_digit(digits)
    if language is None:
        call.menu_attempts += 1
        if call.menu_attempts < MENU_ATTEMPTS:
            saved = _save(call, ["menu_attempts"], still)
            return MenuResult(call=call, retry=True) if saved else None
        language = prompts.DEFAULT_LANGUAGE.value
    call.language = language
    number = call.hotline_number
    if number.ask_how_heard and call.how_heard == HowHeard.UNKNOWN:
        call.menu_attempts = 0
        saved = _save(call, ["language", "menu_attempts"], still)
        return MenuResult(call=call, retry=False, ask_how_heard=True) if saved else None
    return MenuResult(call=call, retry=False) if enqueue_call(call, still=still) else None


def _save(call: Call, fields: list[str], still: Mapping[str, object] | None) -> bool:
    if still is None:
        prepared.update(call, fields)
        return True
    return prepared.update_while(call, fields, still=still)


def call_choose_how_heard(*, provider_sid: str, digits: str) -> Call:
    """The caller's answer to "how did you hear of this number"; no answer is fine.

    Read without a lock and saved only while the call is still in the menu as read, as
    the language is (``call_choose_language``)."""
    call = statements.call_by_sid(provider_sid)
    if call is None:
        raise UnknownCall(provider_sid)
    still = {"state": Call.State.IVR, "language": call.language}
    if _answer_how_heard(call, digits, still):
        return call
    return _answer_how_heard_locked(provider_sid, digits)


@transaction.atomic
def _answer_how_heard_locked(provider_sid: str, digits: str) -> Call:
    call = statements.call_by_sid(provider_sid, lock=True)
    if call is None:
        raise UnknownCall(provider_sid)
    _answer_how_heard(call, digits, still=None)
    return call


def _answer_how_heard(call: Call, digits: str, still: Mapping[str, object] | None) -> bool:
    """False when another request changed the call since ``still`` was read."""
    if call.state != Call.State.IVR or not call.language:
        return True  # retried, or a request out of order: nothing to save
    selectors.with_number(call)  # the greeting names it
    call.how_heard = prompts.HOW_HEARD.get(digits, call.how_heard)
    # One UPDATE: the answer, and the call joins the queue.
    return enqueue_call(call, also=["how_heard"], still=still)
