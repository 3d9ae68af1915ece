"""The queue: callers waiting for a volunteer of their language, and routing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tuidang.calls import routing, selectors, statements, tasks
from tuidang.calls.models import Call, Offer, QueueConfig
from tuidang.calls.services._shared import UnknownCall
from tuidang.lib import prepared
from tuidang.lib.planner import Rare
from tuidang.volunteers.models import Presence

logger = logging.getLogger(__name__)


def route_on_commit(language: str) -> None:
    """Route once this transaction has committed: routing locks every waiting call of a
    language, which inside a transaction already holding a call and a volunteer would
    break the lock order (see the package's docstring) and could deadlock."""
    transaction.on_commit(lambda: call_route(language=language))


def enqueue_call(
    call: Call, *, also: list[str] | None = None, still: Mapping[str, object] | None = None
) -> bool:
    """The call joins its language's queue (saved with the fields named in ``also``).

    With ``still``, only while its row holds those values as the caller read them
    (``prepared.update_while``): False, nothing stored and nobody routed, when another
    request changed the call first."""
    call.state = Call.State.QUEUED
    call.queued_at = timezone.now()
    fields = ["state", "queued_at", "language", "menu_attempts", *(also or [])]
    if still is None:
        prepared.update(call, fields)
    elif not prepared.update_while(call, fields, still=still):
        return False
    route_on_commit(call.language)
    return True


def _ring_on_commit(offer: Offer) -> None:
    offer_id = offer.pk
    transaction.on_commit(lambda: tasks.ring_volunteer.enqueue(offer_id=offer_id))


def call_route(*, language: str) -> list[Offer]:
    """Offer the longest-waiting calls of ``language`` to volunteers (see routing.py).

    Both sides are taken with row locks and moved out of their waiting states in the same
    transaction, so two app servers routing at once never offer one call twice or one
    volunteer two calls (the partial unique index on Offer is the last line of defence).

    Those locks cover every waiting call of the language (on SQLite, everyone's writes),
    so they are taken only when someone could be offered a call: while every volunteer
    is busy, callers join the queue and hold without them. A volunteer who goes available
    routes the waiting calls at once (calls/signals.py), one freed by an offer that ended
    routes after that commit, and one whose wrap-up ends is seen by the next hold cycle.
    """
    config = selectors.queue_config(language)
    if not routing.anyone_ready(_languages(config), timezone.now()):
        return []
    return _route_locked(language=language, config=config)


def _languages(config: QueueConfig) -> list[str]:
    """A queue's language and its second language, if it has one."""
    return [config.language] + ([config.fallback_language] if config.fallback_language else [])


@transaction.atomic
def _route_locked(*, language: str, config: QueueConfig) -> list[Offer]:
    calls = list(
        Call.objects.select_for_update()
        # A handful of the calls stored: told to SQLite's planner, which would otherwise
        # read the whole table in the lock order rather than sort the few it finds
        # through the routing index (200 ms with a year of 2,000,000 calls behind it).
        .filter(Rare(Q(state=Call.State.QUEUED)), language=language)
        .order_by("pk")  # the lock order
    )
    if not calls:
        return []
    calls.sort(key=lambda call: (call.queued_at or call.started_at, call.pk))
    now = timezone.now()
    primary = routing.eligible([language], now)
    with_fallback = (
        routing.eligible([language, config.fallback_language], now)
        if config.fallback_language
        else list(primary)
    )
    primary_on_duty = routing.on_duty([language])
    offers = []
    for call in calls:
        if not primary and not with_fallback:
            break
        chosen = routing.choose(
            call, config, (primary, with_fallback), now=now, primary_on_duty=primary_on_duty
        )
        for volunteer in chosen:
            offer = Offer.objects.create(call=call, volunteer=volunteer)
            volunteer.presence = Presence.RINGING
            volunteer.save(update_fields=["presence"])
            _ring_on_commit(offer)
            offers.append(offer)
            logger.info("Offered call %s to volunteer %s", call.case_code, volunteer.pk)
        if chosen:
            call.state = Call.State.OFFERED
            call.save(update_fields=["state"])
    return offers


@dataclass(frozen=True)
class QueueStatus:
    call: Call
    ahead: int
    # Minutes, from how long recent callers of this language waited; None without data.
    estimated_minutes: int | None
    # No volunteer of the language (nor of its second language) is on duty.
    voicemail_now: bool
    # The caller has held long enough to be offered voicemail.
    offer_voicemail: bool


def _estimated_minutes(language: str, ahead: int) -> int | None:
    since = timezone.now() - timedelta(hours=1)
    recent = statements.recent_waits(language, since)
    waits = [(c - q).total_seconds() for q, c in recent if q is not None and c is not None]
    if not waits:
        return None
    average = sum(waits) / len(waits)
    return max(1, round(average * (ahead + 1) / 60))


# A call heard from is marked at most this often: one small write a minute per caller.
HEARD_EVERY_SECONDS = 60


def call_heard(call: Call, now: datetime | None = None) -> None:
    """A webhook showed ``call``'s leg alive: the reconciler need not ask the provider."""
    now = now or timezone.now()
    if call.heard_at is None or now - call.heard_at >= timedelta(seconds=HEARD_EVERY_SECONDS):
        statements.call_heard_at(call.pk, now)
        call.heard_at = now


def call_wait(*, provider_sid: str) -> QueueStatus:
    """The caller is on hold. Routing runs again so no waiting call is ever forgotten."""
    call = statements.call_by_sid(provider_sid)
    if call is None:
        raise UnknownCall(provider_sid)
    call_heard(call)
    selectors.with_number(call)
    # The settings once, from the cache; who is on duty and who is ready in one read.
    config = selectors.queue_config(call.language)
    on_duty, ready = routing.duty(_languages(config), timezone.now())
    if call.waiting and ready and _route_locked(language=call.language, config=config):
        call.refresh_from_db(fields=["state"])
    ahead = statements.callers_ahead(call.language, call.queued_at or timezone.now())
    waited = (timezone.now() - (call.queued_at or timezone.now())).total_seconds()
    return QueueStatus(
        call=call,
        ahead=ahead,
        estimated_minutes=_estimated_minutes(call.language, ahead),
        voicemail_now=call.state == Call.State.QUEUED and not on_duty,
        offer_voicemail=waited >= config.voicemail_after_seconds,
    )
