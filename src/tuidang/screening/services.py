"""Writes for screening: scores, decisions, blocks, flood mode, conversions.

A caller key's nuisance score rises with signals (calling again and again, very short
calls, a volunteer's harassment flag) and halves every ``half_life_hours``. The score
picks a policy; reaching the message or reject threshold also blocks the key for a while.
Blocks expire; only coordinators lift them early; every change is a ScreeningEvent.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tuidang.calls.models import Call
from tuidang.screening.counters import HOUR, DatabaseCounter, get_counter
from tuidang.screening.models import (
    FLOOD_CACHE_KEY,
    SEVERITY,
    Block,
    CallerScore,
    FloodState,
    Policy,
    ScreeningEvent,
    ScreeningSettings,
)

logger = logging.getLogger(__name__)

HARASSMENT_POINTS = 5.0
SHORT_CALL_POINTS = 1.0
REPEAT_CALL_POINTS = 1.0
FLOOD_WINDOW = timedelta(minutes=5)
FLOOD_RECHECK = timedelta(seconds=10)


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
    """What screening knows of a caller before the call is stored."""

    config: ScreeningSettings
    flood: bool
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


def screening_read(*, caller_key: str, withheld: bool, now: datetime) -> Reading:
    """Read, and write nothing to the database (Redis' counter records the call, once).

    For a caller not seen before this costs one indexed read.
    """
    config = ScreeningSettings.current()
    flood = flood_active(now=now, config=config)
    if withheld:
        return Reading(config, flood, 0, None)
    counter = get_counter()
    counter.hit(caller_key, now)
    # The hottest path of the webhook: what the database knows in one round trip.
    if isinstance(counter, DatabaseCounter):
        found = _calls_and_score(caller_key, since=now - timedelta(seconds=HOUR))
        calls_this_hour = found.calls_since + 1  # the call being received is not stored yet
    else:
        found = _calls_and_score(caller_key, since=None)
        calls_this_hour = counter.count(caller_key, HOUR, now)
    return Reading(config, flood, calls_this_hour, found.row, first_call=not found.seen_before)


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
    *, caller_key: str, withheld: bool, now: datetime, reading: Reading | None = None
) -> Decision:
    """Choose the policy for an incoming call, before it is stored.

    When ``reading.writes(...)``, this runs inside the transaction that stores the call,
    so a retried webhook (whose insert fails) counts nothing twice; otherwise it writes
    nothing. Withheld numbers share a key per dialled number, so they are never scored or
    blocked; in flood mode they are asked to press a digit instead.
    """
    if reading is None:
        reading = screening_read(caller_key=caller_key, withheld=withheld, now=now)
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


@dataclass(frozen=True)
class _Known:
    calls_since: int
    seen_before: bool
    row: CallerScore | None


def _calls_and_score(caller_key: str, *, since: datetime | None) -> _Known:
    """How often the key called since ``since`` (when asked), whether it ever called, and
    its score row, in one query over two indexes."""
    quote = connection.ops.quote_name
    calls, scores = quote(Call._meta.db_table), quote(CallerScore._meta.db_table)
    key, started = quote("caller_key"), quote("started_at")
    fields = ["score", "updated_at", "block_policy", "block_expires_at"]
    columns = ", ".join(f"s.{quote(field)}" for field in fields)
    count, params = "0", list[str | datetime]()
    if since is not None:
        count = f"(SELECT COUNT(*) FROM {calls} WHERE {key} = %s AND {started} > %s)"  # noqa: S608
        params = [caller_key, since]
    sql = (
        f"SELECT {count}, EXISTS (SELECT 1 FROM {calls} WHERE {key} = %s),"  # noqa: S608
        f" s.{quote('id')}, {columns}"
        f" FROM (SELECT 1 AS one) AS o LEFT JOIN {scores} AS s ON s.{key} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, caller_key, caller_key])
        calls_since, seen, pk, score, updated_at, block_policy, block_expires_at = cursor.fetchone()
    row = None
    if pk is not None:
        row = CallerScore(
            pk=pk,
            caller_key=caller_key,
            score=score,
            updated_at=_as_datetime(updated_at),
            block_policy=block_policy,
            block_expires_at=_as_datetime(block_expires_at) if block_expires_at else None,
        )
    return _Known(int(calls_since), bool(seen), row)


def _as_datetime(value: datetime | str) -> datetime:
    """Raw SQLite rows hold datetimes as UTC text; PostgreSQL's are already datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(value)
    assert parsed is not None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _sync_block(caller_key: str, now: datetime) -> None:
    """Keep the strictest active block on the key's score row, where decisions read it."""
    strictest: Block | None = None
    for block in Block.objects.filter(
        caller_key=caller_key, lifted_at__isnull=True, expires_at__gt=now
    ):
        if strictest is None or _stricter(block.policy, strictest.policy) == block.policy:
            strictest = block
    row, _created = CallerScore.objects.select_for_update().get_or_create(caller_key=caller_key)
    row.block_policy = strictest.policy if strictest else ""
    row.block_expires_at = strictest.expires_at if strictest else None
    row.save(update_fields=["block_policy", "block_expires_at"])


def _block(
    caller_key: str, policy: str, config: ScreeningSettings, now: datetime, *, reason: str
) -> Block:
    if policy == Policy.REJECT:
        expires = now + timedelta(days=config.reject_block_days)
    else:
        expires = now + timedelta(hours=config.message_block_hours)
    block = Block.objects.create(
        caller_key=caller_key, policy=policy, reason=reason, created_at=now, expires_at=expires
    )
    ScreeningEvent.objects.create(
        kind=ScreeningEvent.Kind.BLOCKED,
        caller_key=caller_key,
        detail=f"{policy} until {expires:%Y-%m-%d %H:%M} ({reason})",
        at=now,
    )
    _sync_block(caller_key, now)
    return block


def screening_challenge_passed(*, call: Call, digits: str) -> bool:
    """A withheld caller in flood mode pressed ``digits``: the right one lets them in."""
    passed = bool(call.challenge_digit) and digits == call.challenge_digit
    if not passed:
        call.state = Call.State.SCREENED
        call.save(update_fields=["state"])
    return passed


def screening_call_ended(*, call: Call) -> None:
    """Very short calls that reached no one count against the key."""
    if call.withheld or call.duration_seconds is None:
        return
    config = ScreeningSettings.current()
    short = call.duration_seconds < config.short_call_seconds
    if short and call.state in (Call.State.DISCONNECTED, Call.State.ABANDONED):
        _add_points(call.caller_key, SHORT_CALL_POINTS, timezone.now(), config)


@transaction.atomic
def screening_flag(*, call: Call, actor: User | None) -> float:
    """A volunteer flagged the call in front of them as harassment (once per call)."""
    config = ScreeningSettings.current()
    now = timezone.now()
    if call.withheld or not Call.objects.filter(pk=call.pk, harassment_flagged=False).update(
        harassment_flagged=True
    ):
        return score_now(call.caller_key, now=now)  # withheld, or already flagged
    score = _add_points(call.caller_key, HARASSMENT_POINTS, now, config).score
    CallerScore.objects.filter(caller_key=call.caller_key, flagged_at__isnull=True).update(
        flagged_at=now
    )
    ScreeningEvent.objects.create(
        kind=ScreeningEvent.Kind.FLAGGED, caller_key=call.caller_key, actor=actor, at=now
    )
    return score


# What a volunteer's call types add to the key's score; harassment is a flag (above).
DISPOSITION_POINTS = {"prank": 3.0, "silent": 2.0}


@transaction.atomic
def screening_dispositions(*, call: Call, new_types: set[str], actor: User | None) -> None:
    """Call types a volunteer just recorded, as nuisance signals."""
    if call.withheld:
        return
    if "harassment" in new_types:
        screening_flag(call=call, actor=actor)
    points = sum(DISPOSITION_POINTS.get(kind, 0.0) for kind in new_types)
    if points:
        _add_points(call.caller_key, points, timezone.now(), ScreeningSettings.current())


def screening_renounced(*, call: Call) -> bool:
    """A renunciation on this call: a conversion if the caller was flagged before.

    It lifts no block by itself. Returns whether this was the key's first conversion."""
    now = timezone.now()
    converted = CallerScore.objects.filter(
        caller_key=call.caller_key, flagged_at__isnull=False, converted_at__isnull=True
    ).update(converted_at=now)
    if converted:
        ScreeningEvent.objects.create(
            kind=ScreeningEvent.Kind.CONVERTED, caller_key=call.caller_key, at=now
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


def flood_active(*, now: datetime, config: ScreeningSettings) -> bool:
    """Whether flood mode is on, re-evaluating it at most every FLOOD_RECHECK.

    On when calls arrive faster than the volunteers on duty can take them and the share of
    flagged callers among them is high; off (with hysteresis) when either falls away.
    """
    cached = cache.get(FLOOD_CACHE_KEY)
    if cached is not None and cached[1] > now - FLOOD_RECHECK:
        return bool(cached[0])
    state = FloodState.objects.order_by("pk").first()
    if state is None:
        state = FloodState.objects.create(checked_at=now - FLOOD_RECHECK * 2)
    if state.checked_at > now - FLOOD_RECHECK:
        cache.set(FLOOD_CACHE_KEY, (state.active, state.checked_at), 60)
        return state.active
    # Due for a look. It counts thousands of calls in a flood: done once this call is
    # stored, outside its transaction, so that it never holds up other calls' writes (on
    # SQLite, everyone's write lock). This call, like the others meanwhile, goes on with
    # the state as it was.
    transaction.on_commit(lambda: _flood_recheck(state, now=now, config=config), robust=True)
    return state.active


def _flood_recheck(state: FloodState, *, now: datetime, config: ScreeningSettings) -> None:
    # One request re-evaluates: whoever moves checked_at on first.
    claimed = FloodState.objects.filter(pk=state.pk, checked_at=state.checked_at).update(
        checked_at=now
    )
    if not claimed:
        return
    active = _flood_evaluate(state, now=now, config=config)
    # Other requests of this process (and every process, with Redis) reuse the answer.
    cache.set(FLOOD_CACHE_KEY, (active, now), 60)


def _flood_evaluate(state: FloodState, *, now: datetime, config: ScreeningSettings) -> bool:
    """Counted outside any transaction; only the change of state is written in one."""
    from tuidang.calls.routing import ON_DUTY
    from tuidang.volunteers.models import Volunteer

    # The calls before the one that asked (already stored when this runs), in one pass
    # over the window. Keys never heard before it are the first calls of keys: hired
    # callers on fresh SIM cards come in bursts. A flood is tens of thousands of calls;
    # this reads each once, and nothing older.
    counts = Call.objects.filter(started_at__gt=now - FLOOD_WINDOW, started_at__lt=now).aggregate(
        arrivals=Count("pk"),
        flagged=Count("pk", filter=Q(screening_score__gte=config.screening_group_at)),
        new_keys=Count("pk", filter=Q(first_call=True, withheld=False)),
    )
    arrivals, flagged, new_keys = counts["arrivals"], counts["flagged"], counts["new_keys"]
    on_duty = Volunteer.objects.filter(presence__in=ON_DUTY).count()
    overloaded = arrivals > config.flood_calls_per_volunteer * max(1, on_duty)
    share = flagged / arrivals if arrivals else 0.0
    burst = new_keys >= config.flood_new_keys
    detail = (
        f"{arrivals} calls in 5 min, {on_duty} on duty, {share:.0%} flagged, {new_keys} new keys"
    )
    if not state.active and overloaded and (share >= config.flood_flagged_share or burst):
        with transaction.atomic():
            FloodState.objects.filter(pk=state.pk).update(active=True, since=now, detail=detail)
            ScreeningEvent.objects.create(kind=ScreeningEvent.Kind.FLOOD_ON, detail=detail, at=now)
        logger.warning("Flood mode on: %s", detail)
        return True
    calm = not overloaded or (share < config.flood_flagged_share / 2 and not burst)
    if state.active and calm:
        with transaction.atomic():
            FloodState.objects.filter(pk=state.pk).update(active=False, since=now, detail=detail)
            ScreeningEvent.objects.create(kind=ScreeningEvent.Kind.FLOOD_OFF, detail=detail, at=now)
        logger.warning("Flood mode off: %s", detail)
        return False
    FloodState.objects.filter(pk=state.pk).update(detail=detail)
    return state.active
