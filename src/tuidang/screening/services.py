"""Writes for screening: scores, decisions, blocks, conversions (flood mode: flood.py).

A caller key's nuisance score rises with signals (calling again and again, very short
calls, a volunteer's harassment flag) and halves every ``half_life_hours``. The score
picks a policy; reaching the message or reject threshold also blocks the key for a while.
Blocks expire; only coordinators lift them early; every change is a ScreeningEvent.

Screening sits below calls and never sees a call: it is told facts about a caller key
(how often it called this hour, that a short call ended, that a volunteer flagged it) by
the calls domain (calls/screening.py), which also changes the calls themselves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.models import Case, IntegerField, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from tuidang.lib import prepared
from tuidang.lib.prepared import Prepared, Slot, update_query
from tuidang.screening.models import (
    SEVERITY,
    Block,
    CallerScore,
    Policy,
    ScreeningEvent,
    ScreeningSettings,
)

HARASSMENT_POINTS = 5.0
SHORT_CALL_POINTS = 1.0
REPEAT_CALL_POINTS = 1.0


def _decayed(score: CallerScore, now: datetime, config: ScreeningSettings) -> float:
    hours = max(0.0, (now - score.updated_at).total_seconds() / 3600)
    return float(score.score * 0.5 ** (hours / config.half_life_hours))


def score_now(caller_key: str, *, now: datetime | None = None) -> float:
    row = CallerScore.objects.filter(caller_key=caller_key).first()
    if row is None:
        return 0.0
    return _decayed(row, now or timezone.now(), ScreeningSettings.current())


def _add_points(
    caller_key: str, points: float, now: datetime, config: ScreeningSettings
) -> CallerScore:
    """The key's score row, locked, with ``points`` added to its decayed score."""
    row, _created = CallerScore.objects.select_for_update().get_or_create(caller_key=caller_key)
    row.score = _decayed(row, now, config) + points
    row.updated_at = now
    row.save(update_fields=["score", "updated_at"])
    return row


def screening_add_points(*, caller_key: str, points: float) -> float:
    """Add ``points`` to the key's (decayed) score; its new score.

    It locks the key's score row: call it inside a transaction (Django refuses otherwise).
    """
    return _add_points(caller_key, points, timezone.now(), ScreeningSettings.current()).score


def _policy_for(score: float, config: ScreeningSettings) -> str:
    if score >= config.reject_at:
        return Policy.REJECT
    if score >= config.message_at:
        return Policy.MESSAGE
    if score >= config.screening_group_at:
        return Policy.SCREENING_GROUP
    return Policy.NORMAL


def _stricter(a: str, b: str) -> str:
    return a if SEVERITY.index(Policy(a)) >= SEVERITY.index(Policy(b)) else b


@dataclass(frozen=True)
class Decision:
    policy: str
    score: float
    challenge_digit: str = ""

    @property
    def diverted(self) -> bool:
        """The caller hears the message or is rejected: no menu, no queue."""
        return self.policy in (Policy.MESSAGE, Policy.REJECT)


@dataclass(frozen=True)
class Reading:
    """What screening knows of a caller before the call is stored.

    Assembled by the calls domain (``arrival_read`` in calls/screening.py), which reads
    the key's calls and its score row in one round trip.
    """

    config: ScreeningSettings
    flood: bool
    # The calls of the key in the last hour, the one being received included.
    calls_this_hour: int
    row: CallerScore | None
    # No call from this key is stored (or kept) yet: flood mode counts new keys by it.
    first_call: bool = False

    def writes(self, *, withheld: bool, now: datetime) -> bool:
        """Whether deciding on it writes: a repeat call's point, or a new block."""
        if withheld:
            return False
        if self.calls_this_hour > self.config.calls_per_hour_allowed:
            return True
        return _new_block(self, _decayed_score(self, now), now) is not None


def _decayed_score(reading: Reading, now: datetime) -> float:
    return _decayed(reading.row, now, reading.config) if reading.row is not None else 0.0


def _active_block(row: CallerScore | None, now: datetime) -> str:
    if row is not None and row.block_expires_at is not None and row.block_expires_at > now:
        return row.block_policy
    return ""


def _new_block(reading: Reading, score: float, now: datetime) -> str | None:
    """The block a score calls for that the key does not have yet, or None."""
    by_score = _policy_for(score, reading.config)
    blocked = _active_block(reading.row, now)
    if by_score in (Policy.MESSAGE, Policy.REJECT) and (
        not blocked or _stricter(by_score, blocked) != blocked
    ):
        return by_score
    return None


def screening_decide(
    *, caller_key: str, withheld: bool, now: datetime, reading: Reading
) -> Decision:
    """Choose the policy for an incoming call, before it is stored.

    When ``reading.writes(...)``, this runs inside the transaction that stores the call,
    so a retried webhook (whose insert fails) counts nothing twice; otherwise it writes
    nothing. Withheld numbers share a key per dialled number, so they are never scored or
    blocked; in flood mode they are asked to press a digit instead.
    """
    config = reading.config
    if withheld:
        if reading.flood:
            return Decision(Policy.CHALLENGE, 0.0, str(secrets.randbelow(9) + 1))
        return Decision(Policy.NORMAL, 0.0)
    row = reading.row
    if reading.calls_this_hour > config.calls_per_hour_allowed:
        row = _add_points(caller_key, REPEAT_CALL_POINTS, now, config)
        score = row.score
        reading = replace(reading, row=row)
    else:
        score = _decayed_score(reading, now)
    blocked = _active_block(row, now)
    by_score = _policy_for(score, config)
    new_block = _new_block(reading, score, now)
    if new_block is not None:
        _block(caller_key, new_block, config, now, reason="score")
        blocked = new_block
    policy = _stricter(by_score, blocked) if blocked else by_score
    if reading.flood and score >= config.screening_group_at:
        # Flood mode: flagged keys hear the message, so real callers keep the line.
        policy = _stricter(policy, Policy.MESSAGE)
    return Decision(policy, score)


def _slot(model: type[models.Model], name: str, field: str) -> Slot:
    return Slot(name, cast(models.Field[Any, Any], model._meta.get_field(field)))


def _active_blocks() -> models.QuerySet[Block]:
    """The key's active blocks, the strictest first (the one that expires last of those)."""
    severity = Case(
        *(When(policy=policy, then=Value(rank)) for rank, policy in enumerate(SEVERITY)),
        output_field=IntegerField(),
    )
    return Block.objects.filter(
        caller_key=_slot(Block, "key", "caller_key"),
        lifted_at__isnull=True,
        expires_at__gt=_slot(Block, "now", "expires_at"),
    ).order_by(severity.desc(), "-expires_at")


# The strictest active block copied onto the key's score row, found and written by one
# statement (lib/prepared.py): a hired caller blocked on arrival waits for no more.
_SYNC_BLOCK: Prepared[CallerScore] = Prepared(
    lambda: update_query(
        CallerScore.objects.filter(caller_key=_slot(CallerScore, "key", "caller_key")),
        block_policy=Coalesce(Subquery(_active_blocks().values("policy")[:1]), Value("")),
        block_expires_at=Subquery(_active_blocks().values("expires_at")[:1]),
    )
)
_LOCK_SCORE: Prepared[CallerScore] = Prepared(
    lambda: (
        CallerScore.objects.select_for_update()
        .filter(caller_key=_slot(CallerScore, "key", "caller_key"))
        .values_list("pk")
    )
)


def _sync_block(caller_key: str, now: datetime) -> None:
    """Keep the strictest active block on the key's score row, where decisions read it.

    Where writers run side by side (PostgreSQL), the row is locked first: the UPDATE then
    reads the key's blocks after any other transaction that blocked the key meanwhile has
    committed, and never writes a milder block over a stricter one. SQLite has one writer
    at a time. A key never scored (a coordinator's block) gets its row here."""
    if connection.features.has_select_for_update:
        _LOCK_SCORE.rows(key=caller_key)
    if not _SYNC_BLOCK.update(key=caller_key, now=now):
        CallerScore.objects.get_or_create(caller_key=caller_key)
        _SYNC_BLOCK.update(key=caller_key, now=now)


def _block(
    caller_key: str, policy: str, config: ScreeningSettings, now: datetime, *, reason: str
) -> Block:
    if policy == Policy.REJECT:
        expires = now + timedelta(days=config.reject_block_days)
    else:
        expires = now + timedelta(hours=config.message_block_hours)
    # Inside the transaction that stores an arriving call, SQLite's writers wait for it:
    # three statements, each built once (lib/prepared.py).
    block = prepared.insert(
        Block(
            caller_key=caller_key, policy=policy, reason=reason, created_at=now, expires_at=expires
        )
    )
    prepared.insert(
        ScreeningEvent(
            kind=ScreeningEvent.Kind.BLOCKED,
            caller_key=caller_key,
            detail=f"{policy} until {expires:%Y-%m-%d %H:%M} ({reason})",
            at=now,
        )
    )
    _sync_block(caller_key, now)
    return block


def screening_challenge_passed(*, expected: str, digits: str) -> bool:
    """A withheld caller in flood mode pressed ``digits``: the ``expected`` one lets them in."""
    return bool(expected) and digits == expected


def screening_short_call(*, caller_key: str, seconds: int) -> None:
    """A call from the key that reached no one (hung up in the menu or the queue) ended
    after ``seconds``: a very short one counts against the key.

    Never for withheld numbers (their key is shared). In a transaction of its own (or a
    savepoint in the caller's), begun only for a call short enough to count.
    """
    config = ScreeningSettings.current()
    if seconds < config.short_call_seconds:
        with transaction.atomic():
            _add_points(caller_key, SHORT_CALL_POINTS, timezone.now(), config)


@transaction.atomic
def screening_flag(*, caller_key: str, actor: User | None) -> float:
    """A volunteer flagged a call from the key as harassment; the key's new score.

    The caller counts each call once (the calls domain marks the call flagged), and never
    flags withheld numbers.
    """
    now = timezone.now()
    score = _add_points(caller_key, HARASSMENT_POINTS, now, ScreeningSettings.current()).score
    CallerScore.objects.filter(caller_key=caller_key, flagged_at__isnull=True).update(
        flagged_at=now
    )
    ScreeningEvent.objects.create(
        kind=ScreeningEvent.Kind.FLAGGED, caller_key=caller_key, actor=actor, at=now
    )
    return score


def screening_renounced(*, caller_key: str) -> bool:
    """A caller of the key renounced: a conversion if the key was flagged before.

    It lifts no block by itself. Returns whether this was the key's first conversion."""
    now = timezone.now()
    converted = CallerScore.objects.filter(
        caller_key=caller_key, flagged_at__isnull=False, converted_at__isnull=True
    ).update(converted_at=now)
    if converted:
        ScreeningEvent.objects.create(
            kind=ScreeningEvent.Kind.CONVERTED, caller_key=caller_key, at=now
        )
    return bool(converted)


@transaction.atomic
def block_create(*, caller_key: str, policy: str, hours: int, reason: str, actor: User) -> Block:
    now = timezone.now()
    block = Block.objects.create(
        caller_key=caller_key,
        policy=policy,
        reason=reason,
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    ScreeningEvent.objects.create(
        kind=ScreeningEvent.Kind.BLOCKED,
        caller_key=caller_key,
        actor=actor,
        detail=f"{policy} for {hours} h: {reason}",
        at=now,
    )
    _sync_block(caller_key, now)
    return block


@transaction.atomic
def block_lift(*, block: Block, actor: User) -> Block:
    """Only coordinators lift blocks (the view checks); the score is left to decay."""
    locked = Block.objects.select_for_update().get(pk=block.pk)
    if locked.lifted_at is None:
        locked.lifted_at = timezone.now()
        locked.lifted_by = actor
        locked.save(update_fields=["lifted_at", "lifted_by"])
        ScreeningEvent.objects.create(
            kind=ScreeningEvent.Kind.LIFTED, caller_key=locked.caller_key, actor=actor
        )
        _sync_block(locked.caller_key, timezone.now())
    return locked
