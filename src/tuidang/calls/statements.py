"""The statements every webhook of a call's path runs, prepared once per process.

Written with the ORM, as the services would write them, and compiled the first time they
run (``lib/prepared.py``): a hold cycle, a menu choice or a status callback then spends
its time in the database rather than in building its SQL. Each function returns what the
queryset it stands for would have returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.db import models

from tuidang.calls.models import Call, Offer
from tuidang.lib.prepared import Prepared, PreparedCount, Slot, update_query

_call = Call._meta


def _slot(name: str, field: str) -> Slot:
    return Slot(name, cast(models.Field[Any, Any], _call.get_field(field)))


_BY_SID = Prepared(
    lambda: Call.objects.filter(provider_sid=_slot("sid", "provider_sid")).order_by("pk")[:1]
)
_BY_SID_LOCKED = Prepared(
    lambda: (
        Call.objects.select_for_update()
        .filter(provider_sid=_slot("sid", "provider_sid"))
        .order_by("pk")[:1]
    )
)


def call_by_sid(provider_sid: str, *, lock: bool = False) -> Call | None:
    """``Call.objects[.select_for_update()].filter(provider_sid=…).first()``."""
    return (_BY_SID_LOCKED if lock else _BY_SID).first(sid=provider_sid)


_PENDING_OFFERS_LOCKED = Prepared(
    lambda: Offer.objects.select_for_update().filter(
        call_id=Slot("call", cast(models.Field[Any, Any], Offer._meta.get_field("call"))),
        state=Offer.State.PENDING,
    )
)


def pending_offers_locked(call: Call) -> list[Offer]:
    """``call.offers.select_for_update().filter(state=PENDING)``."""
    offers = _PENDING_OFFERS_LOCKED.instances(call=call.pk)
    for offer in offers:
        offer.call = call  # as the related manager gives them
    return offers


_HEARD: Prepared[Call] = Prepared(
    lambda: update_query(
        Call.objects.filter(pk=_slot("pk", "id")), heard_at=_slot("heard_at", "heard_at")
    )
)


def call_heard_at(call_id: int, now: datetime) -> None:
    """``Call.objects.filter(pk=…).update(heard_at=now)``."""
    _HEARD.update(pk=call_id, heard_at=now)


_AHEAD = PreparedCount(
    lambda: Call.objects.filter(
        language=_slot("language", "language"),
        state__in=[Call.State.QUEUED, Call.State.OFFERED],
        queued_at__lt=_slot("before", "queued_at"),
    ).count()
)


def callers_ahead(language: str, before: datetime) -> int:
    """The callers of ``language`` waiting since before ``before``."""
    row = _AHEAD.row(language=language, before=before)
    return int(row[0]) if row else 0


_RECENT_WAITS = Prepared(
    lambda: Call.objects.filter(
        language=_slot("language", "language"),
        connected_at__gte=_slot("since", "connected_at"),
        queued_at__isnull=False,
    ).values_list("queued_at", "connected_at")[:50]
)


def recent_waits(language: str, since: datetime) -> list[tuple[datetime | None, datetime | None]]:
    """When the last (at most 50) callers of ``language`` connected since ``since`` had
    queued, and when they connected."""
    return [
        (queued, connected)
        for queued, connected in _RECENT_WAITS.rows(language=language, since=since)
    ]
