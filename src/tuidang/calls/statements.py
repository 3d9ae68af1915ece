"""The statements every webhook of a call's path runs, prepared once per process.

Written with the ORM, as the services would write them, and compiled the first time they
run (``lib/prepared.py``): a hold cycle, a menu choice or a status callback then spends
its time in the database rather than in building its SQL. Each function returns what the
queryset it stands for would have returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast

from django.db import models
from django.db.models.query import MAX_GET_RESULTS

from tuidang.calls.models import Call, Offer, Voicemail
from tuidang.lib.prepared import Prepared, PreparedCount, Slot, update_query
from tuidang.volunteers.models import Volunteer

_call = Call._meta
T = TypeVar("T")


def _slot(name: str, field: str) -> Slot:
    return Slot(name, cast(models.Field[Any, Any], _call.get_field(field)))


_BY_SID = Prepared(
    lambda: Call.objects.filter(provider_sid=_slot("sid", "provider_sid")).order_by("pk")[:1]
)
_BY_SID_IN_STATE = Prepared(
    lambda: Call.objects.filter(
        provider_sid=_slot("sid", "provider_sid"), state=_slot("state", "state")
    ).order_by("pk")[:1]
)
_BY_SID_LOCKED = Prepared(
    lambda: (
        Call.objects.select_for_update()
        .filter(provider_sid=_slot("sid", "provider_sid"))
        .order_by("pk")[:1]
    )
)


def call_by_sid(provider_sid: str, *, lock: bool = False, state: str = "") -> Call | None:
    """``Call.objects[.select_for_update()].filter(provider_sid=…[, state=…]).first()``."""
    if state:
        if lock:
            raise ValueError("no locked read by state is prepared")
        return _BY_SID_IN_STATE.first(sid=provider_sid, state=state)
    return (_BY_SID_LOCKED if lock else _BY_SID).first(sid=provider_sid)


_PENDING_OFFERS_LOCKED = Prepared(
    lambda: Offer.objects.select_for_update().filter(
        call_id=Slot("call", cast(models.Field[Any, Any], Offer._meta.get_field("call"))),
        state=Offer.State.PENDING,
    )
)


_PENDING_OFFER = Prepared(
    lambda: Offer.objects.filter(
        call_id=Slot("call", cast(models.Field[Any, Any], Offer._meta.get_field("call"))),
        state=Offer.State.PENDING,
    ).values_list("pk", flat=True)[:1]
)


def has_pending_offers(call: Call) -> bool:
    """``call.offers.filter(state=PENDING).exists()``, without a lock."""
    return bool(_PENDING_OFFER.rows(call=call.pk))


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


# --- An offer and its call, locked (services/offers.py, ``_lock_offer``) ----------------


def _offer_slot(name: str, field: str) -> Slot:
    return Slot(name, cast(models.Field[Any, Any], Offer._meta.get_field(field)))


def _offers_by_token() -> models.QuerySet[Offer]:
    return Offer.objects.filter(token=_offer_slot("token", "token"))


def _offers_by_leg() -> models.QuerySet[Offer]:
    # The bridge names the volunteer's leg of the offer they accepted.
    return Offer.objects.filter(
        leg_sid=_offer_slot("leg_sid", "leg_sid"), state=Offer.State.ACCEPTED
    )


# As ``.get()`` reads: at most MAX_GET_RESULTS rows, to tell one from several.
_OFFER_CALL_BY_TOKEN = Prepared(
    lambda: _offers_by_token().values_list("call_id", flat=True)[:MAX_GET_RESULTS]
)
_OFFER_CALL_BY_LEG = Prepared(
    lambda: _offers_by_leg().values_list("call_id", flat=True)[:MAX_GET_RESULTS]
)
# The volunteer read with the offer, not locked: it is locked after the offers, where changed.
_OFFER_LOCKED_BY_TOKEN = Prepared(
    lambda: (
        _offers_by_token()
        .select_for_update(of=("self",))
        .select_related("volunteer")[:MAX_GET_RESULTS]
    )
)
_OFFER_LOCKED_BY_LEG = Prepared(
    lambda: (
        _offers_by_leg()
        .select_for_update(of=("self",))
        .select_related("volunteer")[:MAX_GET_RESULTS]
    )
)


def _one(found: list[T], model: type[Offer] | type[Volunteer] = Offer) -> T:
    """As ``.get()``: the one row, else the model's DoesNotExist or MultipleObjectsReturned."""
    name = model._meta.object_name
    if not found:
        raise model.DoesNotExist(f"{name} matching query does not exist.")
    if len(found) > 1:
        raise model.MultipleObjectsReturned(
            f"get() returned more than one {name} -- it returned {len(found)}!"
        )
    return found[0]


_OFFER_WITH_CALL = Prepared(lambda: _offers_by_token().select_related("call").order_by("pk")[:1])


def offer_with_call(token: object) -> Offer | None:
    """``Offer.objects.select_related("call").filter(token=…).first()``: the whisper."""
    return _OFFER_WITH_CALL.first(token=token)


def offer_call_id(*, token: object = None, leg_sid: str = "") -> int:
    """The call of the offer named by its token, or else by its accepted leg
    (``.values_list("call_id", flat=True).get()``)."""
    if token is not None:
        return int(_one(_OFFER_CALL_BY_TOKEN.rows(token=token))[0])
    return int(_one(_OFFER_CALL_BY_LEG.rows(leg_sid=leg_sid))[0])


def offer_locked(*, token: object = None, leg_sid: str = "") -> Offer:
    """The offer, locked, with its volunteer (not locked)."""
    if token is not None:
        return _one(_OFFER_LOCKED_BY_TOKEN.instances(token=token))
    return _one(_OFFER_LOCKED_BY_LEG.instances(leg_sid=leg_sid))


def _calls_locked(count: int) -> Prepared[Call]:
    slots = [_slot(f"pk{n}", "id") for n in range(count)]
    return Prepared(lambda: Call.objects.select_for_update().filter(pk__in=slots).order_by("pk"))


_CALLS_LOCKED = {count: _calls_locked(count) for count in (1, 2)}


def calls_locked(ids: set[int]) -> list[Call]:
    """One call or two, locked in the lock order (by primary key)."""
    ordered = sorted(ids)
    values: dict[str, Any] = {f"pk{n}": pk for n, pk in enumerate(ordered)}
    return _CALLS_LOCKED[len(ordered)].instances(**values)


# --- A message recorded (services/voicemail.py, tasks.store_voicemail) -----------------


def _voicemail_slot(name: str, field: str) -> Slot:
    return Slot(name, cast(models.Field[Any, Any], Voicemail._meta.get_field(field)))


# Voicemail's own ordering (newest first) stands, as in ``.first()``.
_VOICEMAIL_BY_RECORDING = Prepared(
    lambda: Voicemail.objects.filter(recording_sid=_voicemail_slot("recording", "recording_sid"))[
        :1
    ]
)
_VOICEMAIL_BY_PK = Prepared(lambda: Voicemail.objects.filter(pk=_voicemail_slot("pk", "id"))[:1])


def voicemail_of_recording(recording_sid: str) -> Voicemail | None:
    """``Voicemail.objects.filter(recording_sid=…).first()``."""
    return _VOICEMAIL_BY_RECORDING.first(recording=recording_sid)


def voicemail_by_pk(voicemail_id: int) -> Voicemail | None:
    """``Voicemail.objects.filter(pk=…).first()``."""
    return _VOICEMAIL_BY_PK.first(pk=voicemail_id)


# --- A volunteer locked (an offer accepted, a call ended) -------------------------------

_VOLUNTEER_LOCKED = Prepared(
    lambda: Volunteer.objects.select_for_update().filter(pk=Slot("pk", Volunteer._meta.pk))[
        :MAX_GET_RESULTS
    ]
)


def volunteer_locked(volunteer_id: int) -> Volunteer:
    """``Volunteer.objects.select_for_update().get(pk=…)``."""
    return _one(_VOLUNTEER_LOCKED.instances(pk=volunteer_id), Volunteer)
