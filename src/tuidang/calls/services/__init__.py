"""Writes for the life of a call: receive, menu, queue, offers, connect, end.

Provider-neutral: a telephony adapter turns provider requests into these calls (most of
them through ``tuidang.calls.ivr``) and their results into the provider's language. Each
function is idempotent for the same provider event, because providers retry webhooks and
deliver them out of order.

By part of the call's life: ``arrival`` (receive, flood challenge, the caller's leg
ending), ``menus`` (language, how heard), ``queue`` (waiting and routing), ``offers``
(ringing volunteers, accepting, bridging), ``voicemail`` (messages and call backs) and
``records`` (what volunteers record of a call), ``reconcile`` (settling what a lost
status callback left open), ``cases`` (opening an earlier case by its code,
limited and audited). Work for the provider runs as tasks
(``tuidang.calls.tasks``) once the transaction has committed.

Lock order, everywhere: calls (by primary key), then offers, then volunteers. A function
that needs rows of a later kind locks them after those of an earlier kind, never before;
routing, which locks every waiting call of a language, runs only after commit.
"""

from tuidang.calls.services._shared import Token, UnknownCall
from tuidang.calls.services.arrival import call_pass_challenge, call_receive, call_status
from tuidang.calls.services.cases import CaseLookupLimited, case_look_up
from tuidang.calls.services.menus import (
    MENU_ATTEMPTS,
    MenuResult,
    call_choose_how_heard,
    call_choose_language,
)
from tuidang.calls.services.offers import (
    LOCK_OFFER_ATTEMPTS,
    MISSED_OFFERS_BEFORE_AWAY,
    call_connect,
    offer_dial_ended,
    offer_leg_ended,
    offer_leg_placed,
    offer_respond,
    offer_withdrawn,
)
from tuidang.calls.services.queue import QueueStatus, call_route, call_wait
from tuidang.calls.services.reconcile import Settlement, calls_reconcile
from tuidang.calls.services.records import call_hang_up, call_record
from tuidang.calls.services.voicemail import (
    NoNumberToCall,
    VolunteerBusy,
    call_to_voicemail,
    callback_volunteer_free,
    voicemail_call_back,
    voicemail_callback_leg_ended,
    voicemail_callback_reached,
    voicemail_callback_result,
    voicemail_received,
)

__all__ = [
    "LOCK_OFFER_ATTEMPTS",
    "MENU_ATTEMPTS",
    "MISSED_OFFERS_BEFORE_AWAY",
    "CaseLookupLimited",
    "MenuResult",
    "NoNumberToCall",
    "QueueStatus",
    "Settlement",
    "Token",
    "UnknownCall",
    "VolunteerBusy",
    "call_choose_how_heard",
    "call_choose_language",
    "call_connect",
    "call_hang_up",
    "call_pass_challenge",
    "call_receive",
    "call_record",
    "call_route",
    "call_status",
    "call_to_voicemail",
    "call_wait",
    "callback_volunteer_free",
    "calls_reconcile",
    "case_look_up",
    "offer_dial_ended",
    "offer_leg_ended",
    "offer_leg_placed",
    "offer_respond",
    "offer_withdrawn",
    "voicemail_call_back",
    "voicemail_callback_leg_ended",
    "voicemail_callback_reached",
    "voicemail_callback_result",
    "voicemail_received",
]
