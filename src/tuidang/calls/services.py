"""Writes for the life of a call: receive, menu, queue, offers, connect, end.

Provider-neutral: the telephony adapter turns provider requests into these calls and
their results into the provider's language. Each function is idempotent for the same
provider event, because providers retry webhooks and deliver them out of order.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls import prompts, routing, selectors
from tuidang.calls.case_codes import new_case_code
from tuidang.calls.models import (
    Call,
    CallbackOutcome,
    CallDisposition,
    CallNote,
    CallType,
    Channel,
    Offer,
    QueueConfig,
    Voicemail,
)
from tuidang.calls.screening import (
    arrival_decide,
    arrival_read,
    call_challenge_answered,
    call_ended,
    call_types_recorded,
)
from tuidang.lib.inserts import insert
from tuidang.lib.phone import identify_caller, normalise
from tuidang.volunteers.models import Presence, Volunteer

logger = logging.getLogger(__name__)

Token = uuid.UUID | str

# A caller who gives no valid digit hears the menu once more, then gets the default.
MENU_ATTEMPTS = 2
# Two missed offers in a row and a volunteer is set away: they have left their desk.
MISSED_OFFERS_BEFORE_AWAY = 2

_ENDING_PROVIDER_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}


class UnknownCall(Exception):
    """A provider event for a call we never received."""


def _ring_volunteer_on_commit(offer: Offer) -> None:
    from tuidang.telephony.tasks import ring_volunteer

    offer_id = offer.pk
    transaction.on_commit(lambda: ring_volunteer.enqueue(offer_id=offer_id))


def _hang_up_leg_on_commit(leg_sid: str) -> None:
    from tuidang.telephony.tasks import hang_up

    if leg_sid:
        transaction.on_commit(lambda: hang_up.enqueue(provider_sid=leg_sid))


def _set_presence(volunteer: Volunteer, presence: str) -> None:
    volunteer.presence = presence
    volunteer.presence_since = timezone.now()
    volunteer.save(update_fields=["presence", "presence_since"])


def call_receive(*, provider_sid: str, caller_from: str, dialled: str) -> Call | None:
    """Record an incoming call. None when the dialled number is not one of ours.

    ``caller_from`` is turned into a caller key and a region here and goes no further.
    """
    number = selectors.hotline_number(dialled)
    if number is None:
        logger.warning("Call %s to a number that is not a hotline number", provider_sid)
        return None
    caller = identify_caller(caller_from, dialled=number.e164)
    now = timezone.now()
    reading = arrival_read(caller_key=caller.key, withheld=caller.withheld, now=now)
    # Most callers give screening nothing to write: their call is then one INSERT, a
    # transaction of its own, with no BEGIN and COMMIT around it (two round trips fewer
    # on PostgreSQL; SQLite's write lock held for that one statement, not for this code).
    # Inside someone's transaction, a savepoint still keeps a failed INSERT from breaking it.
    atomic = reading.writes(withheld=caller.withheld, now=now) or connection.in_atomic_block
    for _attempt in range(5):
        try:
            with transaction.atomic() if atomic else contextlib.nullcontext():
                decision = arrival_decide(
                    caller_key=caller.key, withheld=caller.withheld, now=now, reading=reading
                )
                queued = bool(number.language) and not decision.diverted
                queued = queued and not decision.challenge_digit
                if decision.diverted:
                    state = Call.State.SCREENED
                else:
                    state = Call.State.QUEUED if queued else Call.State.IVR
                # The one INSERT of a new call, prepared once (lib/inserts.py).
                call = insert(
                    Call(
                        provider_sid=provider_sid,
                        hotline_number=number,
                        channel=number.channel,
                        caller_key=caller.key,
                        region=caller.region,
                        last_digits=caller.last_digits,
                        withheld=caller.withheld,
                        case_code=new_case_code(),
                        language=number.language,
                        started_at=now,
                        queued_at=now if queued else None,
                        state=state,
                        screening_policy=decision.policy,
                        screening_score=decision.score,
                        challenge_digit=decision.challenge_digit,
                        first_call=reading.first_call,
                    )
                )
                if queued:
                    _route_on_commit(call.language)
        except IntegrityError:
            # A retried webhook (the provider's id is unique), or a case code in use.
            existing = Call.objects.filter(provider_sid=provider_sid).first()
            if existing is not None:
                return existing
            continue
        logger.info("Call %s received on %s, case %s", provider_sid, number.e164, call.case_code)
        return call
    raise RuntimeError("could not allocate a case code")


def _route_on_commit(language: str) -> None:
    """Route once this transaction has committed.

    Lock order is always calls (by primary key), then offers, then volunteers. Routing
    locks every waiting call of a language; run inside a transaction that already holds
    a call and a volunteer, it would take locks out of that order and could deadlock.
    """
    transaction.on_commit(lambda: call_route(language=language))


def _enqueue(call: Call) -> None:
    call.state = Call.State.QUEUED
    call.queued_at = timezone.now()
    call.save(update_fields=["state", "queued_at", "language", "menu_attempts"])
    _route_on_commit(call.language)


@dataclass(frozen=True)
class MenuResult:
    call: Call
    retry: bool
    ask_how_heard: bool = False


@transaction.atomic
def call_choose_language(*, provider_sid: str, digits: str) -> MenuResult:
    """The caller pressed ``digits`` in the language menu (empty when they pressed nothing)."""
    call = Call.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if call is None:
        raise UnknownCall(provider_sid)
    if call.state != Call.State.IVR:  # a retried request: the choice is already made
        return MenuResult(call=call, retry=False)
    language = prompts.language_for_digit(digits)
    if language is None:
        call.menu_attempts += 1
        if call.menu_attempts < MENU_ATTEMPTS:
            call.save(update_fields=["menu_attempts"])
            return MenuResult(call=call, retry=True)
        language = prompts.DEFAULT_LANGUAGE.value
    call.language = language
    number = call.hotline_number
    if number.ask_how_heard and call.channel == Channel.UNKNOWN:
        call.menu_attempts = 0
        call.save(update_fields=["language", "menu_attempts"])
        return MenuResult(call=call, retry=False, ask_how_heard=True)
    _enqueue(call)
    return MenuResult(call=call, retry=False)


@transaction.atomic
def call_choose_channel(*, provider_sid: str, digits: str) -> Call:
    """The caller's answer to "how did you hear of this number"; no answer is fine."""
    call = Call.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if call is None:
        raise UnknownCall(provider_sid)
    if call.state != Call.State.IVR or not call.language:
        return call  # retried, or a request out of order
    call.channel = prompts.HOW_HEARD_CHANNELS.get(digits, call.channel)
    call.save(update_fields=["channel"])
    _enqueue(call)
    return call


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
    recent = list(
        Call.objects.filter(
            language=language, connected_at__gte=since, queued_at__isnull=False
        ).values_list("queued_at", "connected_at")[:50]
    )
    waits = [(c - q).total_seconds() for q, c in recent if q is not None and c is not None]
    if not waits:
        return None
    average = sum(waits) / len(waits)
    return max(1, round(average * (ahead + 1) / 60))


def call_wait(*, provider_sid: str) -> QueueStatus:
    """The caller is on hold. Routing runs again so no waiting call is ever forgotten."""
    call = Call.objects.filter(provider_sid=provider_sid).first()
    if call is None:
        raise UnknownCall(provider_sid)
    if call.waiting:
        call_route(language=call.language)
        call.refresh_from_db()
    ahead = Call.objects.filter(
        language=call.language,
        state__in=[Call.State.QUEUED, Call.State.OFFERED],
        queued_at__lt=call.queued_at or timezone.now(),
    ).count()
    config = QueueConfig.for_language(call.language)
    languages = [call.language] + ([config.fallback_language] if config.fallback_language else [])
    waited = (timezone.now() - (call.queued_at or timezone.now())).total_seconds()
    return QueueStatus(
        call=call,
        ahead=ahead,
        estimated_minutes=_estimated_minutes(call.language, ahead),
        voicemail_now=call.state == Call.State.QUEUED and not routing.on_duty(languages),
        offer_voicemail=waited >= config.voicemail_after_seconds,
    )


@transaction.atomic
def call_to_voicemail(*, provider_sid: str) -> Call | None:
    """The caller left the queue to leave a message. None if they are no longer waiting."""
    call = Call.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if call is None or call.ended_at is not None:
        return None
    if call.state == Call.State.VOICEMAIL:
        return call  # retried
    if not call.waiting:
        return None
    _withdraw_pending_offers(call)
    call.state = Call.State.VOICEMAIL
    call.save(update_fields=["state"])
    logger.info("Call %s went to voicemail after %ss", call.case_code, call.wait_seconds)
    return call


def voicemail_received(
    *,
    provider_sid: str,
    recording_sid: str,
    recording_url: str,
    duration: int,
    caller_from: str = "",
) -> Voicemail | None:
    """The provider recorded a message. Fetching it runs as a task, after commit."""
    from tuidang.telephony.tasks import store_voicemail

    call = Call.objects.filter(provider_sid=provider_sid, state=Call.State.VOICEMAIL).first()
    if call is None or not recording_sid:
        return None
    with transaction.atomic():
        voicemail, created = Voicemail.objects.get_or_create(
            recording_sid=recording_sid,
            defaults={"call": call, "provider_url": recording_url, "duration_seconds": duration},
        )
        if created and not call.withheld:
            # Sealed, for calling back only; deleted once the caller is reached.
            voicemail.callback_number = normalise(caller_from) or ""
            voicemail.save(update_fields=["callback_number_sealed"])
        if created:
            voicemail_id = voicemail.pk
            transaction.on_commit(lambda: store_voicemail.enqueue(voicemail_id=voicemail_id))
    return voicemail


@transaction.atomic
def call_route(*, language: str) -> list[Offer]:
    """Offer the longest-waiting calls of ``language`` to volunteers (see routing.py).

    Both sides are taken with row locks and moved out of their waiting states in the same
    transaction, so two app servers routing at once never offer one call twice or one
    volunteer two calls (the partial unique index on Offer is the last line of defence).
    """
    calls = list(
        Call.objects.select_for_update()
        .filter(state=Call.State.QUEUED, language=language)
        .order_by("pk")  # the lock order; see _route_on_commit
    )
    if not calls:
        return []
    calls.sort(key=lambda call: (call.queued_at or call.started_at, call.pk))
    now = timezone.now()
    config = QueueConfig.for_language(language)
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
            _ring_volunteer_on_commit(offer)
            offers.append(offer)
            logger.info("Offered call %s to volunteer %s", call.case_code, volunteer.pk)
        if chosen:
            call.state = Call.State.OFFERED
            call.save(update_fields=["state"])
    return offers


class _OfferMoved(Exception):
    pass


# Each try that fails saw another bridge commit a move; more than a few means a bug.
LOCK_OFFER_ATTEMPTS = 20


def _lock_offer(offers: QuerySet[Offer], *, also: int | None = None) -> tuple[Offer, Call]:
    """Lock an offer's call (and the call ``also``, in primary-key order), then the offer:
    the lock order of _route_on_commit. Offer.DoesNotExist when ``offers`` finds none.

    An offer moves to another call only inside call_connect, which holds both calls'
    locks. So once its call is locked and the offer still points at it, it stays there;
    if it moved while we waited, the savepoint lets go of the wrong call and we try again.
    """
    for _attempt in range(LOCK_OFFER_ATTEMPTS):
        call_id = offers.values_list("call_id", flat=True).get()
        try:
            with transaction.atomic():
                locked = {
                    call.pk: call
                    for call in Call.objects.select_for_update()
                    .filter(pk__in={call_id} if also is None else {call_id, also})
                    .order_by("pk")
                }
                # Not the volunteer's row: it is locked after the offers, where changed.
                offer = offers.select_for_update(of=("self",)).select_related("volunteer").get()
                if offer.call_id != call_id:
                    raise _OfferMoved
                offer.call = locked[call_id]
                return offer, locked[call_id] if also is None else locked[also]
        except _OfferMoved:
            continue
    raise RuntimeError(f"the offer kept moving between calls: {LOCK_OFFER_ATTEMPTS} tries")


@transaction.atomic
def offer_leg_placed(*, offer_id: int, leg_sid: str) -> bool:
    """Record the volunteer's leg of an offer. False if the offer ended meanwhile: the
    canceller found no leg to hang up then, so the caller of this must hang it up."""
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    offer.leg_sid = leg_sid
    offer.save(update_fields=["leg_sid"])
    return offer.state == Offer.State.PENDING


@transaction.atomic
def offer_respond(*, token: Token, digits: str, leg_sid: str) -> Offer | None:
    """The volunteer heard the whisper and pressed ``digits``. The accepted offer, or None."""
    offer, call = _lock_offer(Offer.objects.filter(token=token))
    if leg_sid and not offer.leg_sid:
        # The leg can be answered before the task that placed it has stored its sid.
        offer.leg_sid = leg_sid
        offer.save(update_fields=["leg_sid"])
    if offer.state == Offer.State.ACCEPTED:
        return offer  # the same keypress, retried
    if offer.state != Offer.State.PENDING:
        return None
    offer.responded_at = timezone.now()
    if digits != "1" or call.state != Call.State.OFFERED:
        offer.state = Offer.State.DECLINED
        offer.save(update_fields=["state", "responded_at"])
        _release_offer(offer, call)
        return None
    offer.state = Offer.State.ACCEPTED
    offer.save(update_fields=["state", "responded_at"])
    # In a ring group the first to accept takes the call; the others stop ringing.
    _withdraw_pending_offers(call)
    offer.volunteer = Volunteer.objects.select_for_update().get(pk=offer.volunteer_id)
    offer.volunteer.missed_offers = 0
    offer.volunteer.save(update_fields=["missed_offers"])
    _set_presence(offer.volunteer, Presence.ON_CALL)
    return offer


def _withdraw_pending_offers(call: Call) -> None:
    """Stop ringing volunteers for ``call`` (taken by someone else, or gone).

    The volunteers are freed once their phones have stopped ringing (see
    ``offer_withdrawn``), so no phone ever rings with two calls at once.
    """
    from tuidang.telephony.tasks import withdraw_offer

    for offer in call.offers.select_for_update().filter(state=Offer.State.PENDING):
        offer.state = Offer.State.CANCELED
        offer.save(update_fields=["state"])
        transaction.on_commit(functools.partial(withdraw_offer.enqueue, offer_id=offer.pk))


@transaction.atomic
def offer_withdrawn(*, offer_id: int) -> None:
    """A withdrawn offer's phone has stopped ringing: its volunteer is free again, keeping
    their place in the longest-idle order (the withdrawal was not theirs)."""
    offer = Offer.objects.get(pk=offer_id)
    volunteer = Volunteer.objects.select_for_update().get(pk=offer.volunteer_id)
    if (
        volunteer.presence != Presence.RINGING
        or volunteer.offers.filter(state=Offer.State.PENDING).exists()
    ):
        return
    volunteer.presence = Presence.AVAILABLE
    volunteer.save(update_fields=["presence"])
    for language in volunteer.language_codes():
        _route_on_commit(language)


def _free_volunteer(volunteer_id: int, presence: str = Presence.AVAILABLE) -> None:
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer_id)
    if volunteer.presence in (Presence.RINGING, Presence.ON_CALL):
        _set_presence(volunteer, presence)


def _release_offer(
    offer: Offer, call: Call, *, volunteer_presence: str = Presence.AVAILABLE
) -> None:
    """An offer ended without a conversation: the volunteer is free, and once no offer
    for the call rings any more, the call waits again."""
    _free_volunteer(offer.volunteer_id, volunteer_presence)
    still_ringing = call.offers.filter(state=Offer.State.PENDING).exists()
    if call.state == Call.State.OFFERED and not still_ringing:
        call.state = Call.State.QUEUED
        call.save(update_fields=["state"])
    if call.state == Call.State.QUEUED:
        _route_on_commit(call.language)


@transaction.atomic
def offer_leg_ended(*, token: Token, provider_status: str) -> None:
    """The volunteer's leg of an offer ended (status callback)."""
    try:
        offer, call = _lock_offer(Offer.objects.filter(token=token))
    except Offer.DoesNotExist:
        return
    if offer.state != Offer.State.PENDING:
        return
    volunteer = Volunteer.objects.select_for_update().get(pk=offer.volunteer_id)
    offer.state = Offer.State.MISSED
    offer.responded_at = timezone.now()
    offer.save(update_fields=["state", "responded_at"])
    volunteer.missed_offers += 1
    volunteer.save(update_fields=["missed_offers"])
    away = volunteer.missed_offers >= MISSED_OFFERS_BEFORE_AWAY
    if away:
        logger.info(
            "Volunteer %s missed %s offers in a row: set away",
            volunteer.pk,
            volunteer.missed_offers,
        )
    _release_offer(offer, call, volunteer_presence=Presence.AWAY if away else Presence.AVAILABLE)


@transaction.atomic
def offer_dial_ended(*, token: Token) -> None:
    """The volunteer's bridge attempt ended. If it reached no caller (the queue's front
    caller was taken by someone else, or hung up), the offer did not happen after all."""
    try:
        offer, call = _lock_offer(Offer.objects.filter(token=token))
    except Offer.DoesNotExist:
        return
    if offer.state != Offer.State.ACCEPTED:
        return
    if call.volunteer_id == offer.volunteer_id and call.connected_at is not None:
        return  # a conversation took place; the call's own status callback ends it
    offer.state = Offer.State.CANCELED
    offer.save(update_fields=["state"])
    _free_volunteer(offer.volunteer_id)
    if (
        call.state == Call.State.OFFERED
        and not call.offers.filter(state__in=[Offer.State.PENDING, Offer.State.ACCEPTED]).exists()
    ):
        call.state = Call.State.QUEUED
        call.save(update_fields=["state"])
    _route_on_commit(call.language)


@transaction.atomic
def call_connect(*, provider_sid: str, leg_sid: str) -> Call:
    """The provider bridged the caller ``provider_sid`` to the volunteer's leg ``leg_sid``.

    The provider takes the caller at the front of the language queue, which is normally
    the call the offer was for. When it is not (another volunteer pressed 1 first, and
    took the caller this volunteer's offer was for), the record follows what really
    happened: the two calls swap places. The volunteers still ringing for the caller
    taken now ring for the caller left waiting, where routing could have rung them for
    it, so no phone is hung up mid-whisper over a race its volunteer never saw; otherwise
    they stop, and the caller left waits to be routed again.
    """
    bridged_id = Call.objects.filter(provider_sid=provider_sid).values_list("pk", flat=True).first()
    if bridged_id is None:
        raise UnknownCall(provider_sid)
    try:
        offer, call = _lock_offer(
            Offer.objects.filter(leg_sid=leg_sid, state=Offer.State.ACCEPTED), also=bridged_id
        )
    except Offer.DoesNotExist:
        raise UnknownCall(leg_sid) from None
    if call.state == Call.State.CONNECTED:
        return call  # retried
    if offer.call_id != call.pk:
        _swap_offers(taken=call, left=offer.call, offer=offer)
    call.state = Call.State.CONNECTED
    call.volunteer = offer.volunteer
    call.connected_at = timezone.now()
    call.save(update_fields=["state", "volunteer", "connected_at"])
    logger.info("Call %s connected to volunteer %s", call.case_code, offer.volunteer_id)
    return call


def _swap_offers(*, taken: Call, left: Call, offer: Offer) -> None:
    """``offer``'s volunteer was bridged to ``taken`` instead of ``left``, the caller their
    offer was for. Both calls are locked. The offers that were live for ``taken`` (ringing,
    or one accepted by a volunteer who is dialling the queue now: a call has one or the
    other) carry on for ``left``; where they cannot, ``left`` waits to be routed again."""
    live = list(
        taken.offers.select_for_update()
        .filter(state__in=[Offer.State.PENDING, Offer.State.ACCEPTED])
        .exclude(pk=offer.pk)
    )
    left_unoffered = (
        left.state == Call.State.OFFERED
        and not left.offers.filter(state__in=[Offer.State.PENDING, Offer.State.ACCEPTED])
        .exclude(pk=offer.pk)
        .exists()
    )
    # Those ringing move only where routing could have rung them; a volunteer accepted
    # and dialling takes whoever is at the front anyway.
    if (
        left_unoffered
        and live
        and (
            live[0].state == Offer.State.ACCEPTED
            or routing.may_ring(left, [other.volunteer_id for other in live], now=timezone.now())
        )
    ):
        for other in live:
            other.call = left
            other.save(update_fields=["call"])
    else:
        if left_unoffered:
            left.state = Call.State.QUEUED
            left.save(update_fields=["state"])
            _route_on_commit(left.language)
        _withdraw_pending_offers(taken)
    offer.call = taken
    offer.save(update_fields=["call"])


@transaction.atomic
def call_status(
    *, provider_sid: str, status: str, sequence: int | None, duration: int | None
) -> Call | None:
    """A status callback for the caller's leg. Old and repeated callbacks change nothing."""
    call = Call.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if call is None:
        return None
    if sequence is not None:
        if sequence <= call.provider_sequence:
            return call
        call.provider_sequence = sequence
    if call.ended_at is not None:
        call.save(update_fields=["provider_sequence"])
        return call
    call.provider_status = status
    fields = ["provider_status", "provider_sequence"]
    if status in _ENDING_PROVIDER_STATUSES:
        call.ended_at = timezone.now()
        call.duration_seconds = duration
        fields += ["ended_at", "duration_seconds", "state"]
        if call.state == Call.State.IVR:
            call.state = Call.State.DISCONNECTED
        elif call.state in (Call.State.QUEUED, Call.State.OFFERED):
            call.state = Call.State.ABANDONED
            _withdraw_pending_offers(call)
            logger.info("Call %s abandoned after %ss in queue", call.case_code, call.wait_seconds)
        elif call.state == Call.State.CONNECTED:
            call.state = Call.State.COMPLETED
            if call.volunteer_id is not None:
                volunteer = Volunteer.objects.select_for_update().get(pk=call.volunteer_id)
                _set_presence(volunteer, Presence.WRAP_UP)
    call.save(update_fields=fields)
    if call.ended_at is not None:
        call_ended(call=call)
    return call


@transaction.atomic
def call_pass_challenge(*, provider_sid: str, digits: str) -> Call | None:
    """A withheld caller answered flood mode's keypad challenge. None: they failed."""
    call = Call.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if call is None:
        raise UnknownCall(provider_sid)
    if call.state != Call.State.IVR or not call.challenge_digit:
        return call if call.state != Call.State.SCREENED else None  # retried
    if not call_challenge_answered(call=call, digits=digits):
        return None
    call.challenge_digit = ""
    call.save(update_fields=["challenge_digit"])
    if call.language:
        _enqueue(call)
    return call


def call_hang_up(*, call: Call) -> None:
    """Ask the provider to end a connected call (the volunteer pressed "End call")."""
    if call.ended_at is None:
        _hang_up_leg_on_commit(call.provider_sid)


@transaction.atomic
def call_record(
    *, call: Call, types: list[str], note: str, volunteer: Volunteer
) -> list[CallDisposition]:
    """What the call was (several types at once) and, optionally, a note sealed at rest.

    Types recorded earlier and no longer ticked are removed: the form shows the call's
    current types, so what is submitted is the whole answer.
    """
    unknown = set(types) - set(CallType.values)
    if unknown:
        raise ValueError(f"unknown call types: {sorted(unknown)}")
    call.dispositions.exclude(call_type__in=types).delete()
    existing = set(call.dispositions.values_list("call_type", flat=True))
    for call_type in types:
        if call_type not in existing:
            CallDisposition.objects.create(call=call, call_type=call_type, recorded_by=volunteer)
    # Harassment, pranks and silence count against the caller key (screening).
    call_types_recorded(call=call, new_types=set(types) - existing, actor=volunteer.user)
    if note.strip():
        note_row = CallNote(call=call, author=volunteer)
        note_row.text = note.strip()
        note_row.save()
        audit_record(actor=volunteer.user, action=Action.CREATE, target=note_row)
    return list(call.dispositions.all())


class NoNumberToCall(Exception):
    """The caller withheld their number, or was reached and the number is gone."""


def voicemail_call_back(*, voicemail: Voicemail, volunteer: Volunteer) -> None:
    """Ring the volunteer's phone; when they answer, the provider dials the caller from
    the hotline's own number, so the volunteer's number is never shown to the caller."""
    from tuidang.telephony.tasks import ring_for_callback

    if not voicemail.callback_number_sealed:
        raise NoNumberToCall(str(voicemail.public_id))
    # The sealed number is used (never shown): calling it back is an audit event.
    audit_record(actor=volunteer.user, action=Action.CALL, target=voicemail)
    voicemail_id, volunteer_id = voicemail.pk, volunteer.pk
    transaction.on_commit(
        lambda: ring_for_callback.enqueue(voicemail_id=voicemail_id, volunteer_id=volunteer_id)
    )


@transaction.atomic
def voicemail_callback_result(
    *, voicemail_id: str, volunteer_id: int, dial_status: str
) -> Voicemail | None:
    """How the call back went. Reaching the caller handles the request and deletes the
    sealed number; otherwise it stays open for another try."""
    voicemail = Voicemail.objects.select_for_update().filter(public_id=voicemail_id).first()
    if voicemail is None:
        return None
    now = timezone.now()
    voicemail.callback_at = now
    voicemail.callback_by_id = volunteer_id
    fields = ["callback_at", "callback_by", "callback_outcome"]
    if dial_status == "completed":
        voicemail.callback_outcome = CallbackOutcome.REACHED
        voicemail.handled_at = now
        voicemail.callback_number_sealed = b""
        fields += ["handled_at", "callback_number_sealed"]
    elif dial_status in ("no-answer", "busy"):
        voicemail.callback_outcome = CallbackOutcome.NO_ANSWER
    else:
        voicemail.callback_outcome = CallbackOutcome.FAILED
    voicemail.save(update_fields=fields)
    return voicemail
