"""What calls tell screening, and what screening's answers change on calls.

Screening sits below calls and knows caller keys only. This module reads for it what only
calls hold (the key's calls, the calls arriving in a flood, the volunteers on duty), hands
it those facts, and records on the call what it decided: the one place where calls'
services meet screening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.dateparse import parse_datetime

from tuidang.calls.models import Call, CallType
from tuidang.calls.routing import ON_DUTY
from tuidang.screening.counters import HOUR, CallCounter, get_counter
from tuidang.screening.flood import FloodCounts, flood_active
from tuidang.screening.models import CallerScore, ScreeningSettings
from tuidang.screening.services import (
    Decision,
    Reading,
    score_now,
    screening_add_points,
    screening_challenge_passed,
    screening_decide,
    screening_flag,
    screening_renounced,
    screening_short_call,
)
from tuidang.volunteers.models import Volunteer

# What a volunteer's call types add to the key's score; harassment is a flag (below).
NUISANCE_POINTS: dict[str, float] = {CallType.PRANK: 3.0, CallType.SILENT: 2.0}


class DatabaseCounter:
    """Screening's call counter without Redis: the calls already recorded, counted by the
    (caller_key, started_at) index; ``hit`` has nothing to add."""

    records_hits = False

    def hit(self, caller_key: str, at: datetime) -> None:
        return None

    def count(self, caller_key: str, seconds: int, now: datetime) -> int:
        since = now - timedelta(seconds=seconds)
        return Call.objects.filter(caller_key=caller_key, started_at__gt=since).count()


def call_counter() -> CallCounter:
    """Redis' counter when REDIS_URL is set, else the calls table's."""
    return get_counter() or DatabaseCounter()


@dataclass(frozen=True)
class Arrival:
    """What the database knows of an arriving call: whether a call is stored under the
    provider's id already (the provider asks again when an answer was slow), and
    screening's reading of the caller."""

    stored: bool
    reading: Reading


def arrival_read(*, provider_sid: str, caller_key: str, withheld: bool, now: datetime) -> Arrival:
    """Writes nothing to the database (Redis' counter records a new call, once). For a
    caller not seen before: one indexed read."""
    config = ScreeningSettings.current()
    flood = flood_active(now=now, config=config, count=flood_counts)
    if withheld:
        stored = Call.objects.filter(provider_sid=provider_sid).exists()
        return Arrival(stored, Reading(config, flood, 0, None))
    counter = call_counter()
    # The hottest path of the webhook: what the database knows in one round trip.
    if isinstance(counter, DatabaseCounter):
        since: datetime | None = now - timedelta(seconds=HOUR)
        found = _calls_and_score(provider_sid, caller_key, since=since)
        calls_this_hour = found.calls_since + 1  # the call being received is not stored yet
    else:
        found = _calls_and_score(provider_sid, caller_key, since=None)
        if not found.stored:
            counter.hit(caller_key, now)
        calls_this_hour = counter.count(caller_key, HOUR, now)
    reading = Reading(config, flood, calls_this_hour, found.row, first_call=not found.seen_before)
    return Arrival(found.stored, reading)


def arrival_decide(*, caller_key: str, withheld: bool, now: datetime, reading: Reading) -> Decision:
    """Screening's decision on an arriving call, before it is stored (see screening_decide:
    when ``reading.writes(...)``, inside the transaction that stores the call)."""
    return screening_decide(caller_key=caller_key, withheld=withheld, now=now, reading=reading)


@dataclass(frozen=True)
class _Known:
    stored: bool
    calls_since: int
    seen_before: bool
    row: CallerScore | None


def _calls_and_score(provider_sid: str, caller_key: str, *, since: datetime | None) -> _Known:
    """Whether a call is stored under ``provider_sid``; how often the key called since
    ``since`` (when asked), whether it ever called, and its score row: one query over
    three indexes."""
    quote = connection.ops.quote_name
    calls, scores = quote(Call._meta.db_table), quote(CallerScore._meta.db_table)
    key, started, sid = quote("caller_key"), quote("started_at"), quote("provider_sid")
    fields = ["score", "updated_at", "block_policy", "block_expires_at"]
    columns = ", ".join(f"s.{quote(field)}" for field in fields)
    count, params = "0", list[str | datetime]()
    if since is not None:
        count = f"(SELECT COUNT(*) FROM {calls} WHERE {key} = %s AND {started} > %s)"  # noqa: S608
        params = [caller_key, since]
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {calls} WHERE {sid} = %s), {count},"  # noqa: S608
        f" EXISTS (SELECT 1 FROM {calls} WHERE {key} = %s), s.{quote('id')}, {columns}"
        f" FROM (SELECT 1 AS one) AS o LEFT JOIN {scores} AS s ON s.{key} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [provider_sid, *params, caller_key, caller_key])
        stored, calls_since, seen, pk, score, updated_at, block_policy, block_expires_at = (
            cursor.fetchone()
        )
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
    return _Known(bool(stored), int(calls_since), bool(seen), row)


def _as_datetime(value: datetime | str) -> datetime:
    """Raw SQLite rows hold datetimes as UTC text; PostgreSQL's are already datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(value)
    assert parsed is not None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def flood_counts(since: datetime, until: datetime, flagged_at: float) -> FloodCounts:
    """The calls that arrived between ``since`` and ``until`` (one pass over the window:
    a flood is tens of thousands of calls, each read once, and nothing older), and the
    volunteers on duty. Keys never heard before are the calls stored as first calls."""
    counts = Call.objects.filter(started_at__gt=since, started_at__lt=until).aggregate(
        arrivals=Count("pk"),
        flagged=Count("pk", filter=Q(screening_score__gte=flagged_at)),
        new_keys=Count("pk", filter=Q(first_call=True, withheld=False)),
    )
    return FloodCounts(
        arrivals=counts["arrivals"],
        flagged=counts["flagged"],
        new_keys=counts["new_keys"],
        on_duty=Volunteer.objects.filter(presence__in=ON_DUTY).count(),
    )


def call_challenge_answered(*, call: Call, digits: str) -> bool:
    """A withheld caller in flood mode pressed ``digits``: whether they pass. A wrong
    digit screens the call out."""
    passed = screening_challenge_passed(expected=call.challenge_digit, digits=digits)
    if not passed:
        call.state = Call.State.SCREENED
        call.save(update_fields=["state"])
    return passed


def call_ended(*, call: Call) -> None:
    """Very short calls that reached no one count against the key."""
    if call.withheld or call.duration_seconds is None:
        return
    if call.state in (Call.State.DISCONNECTED, Call.State.ABANDONED):
        screening_short_call(caller_key=call.caller_key, seconds=call.duration_seconds)


@transaction.atomic
def call_flag_harassment(*, call: Call, actor: User | None) -> float:
    """A volunteer flagged the call in front of them as harassment (counted once per
    call); the caller key's score."""
    if call.withheld or not Call.objects.filter(pk=call.pk, harassment_flagged=False).update(
        harassment_flagged=True
    ):
        return score_now(call.caller_key)  # withheld, or already flagged
    return screening_flag(caller_key=call.caller_key, actor=actor)


@transaction.atomic
def call_types_recorded(*, call: Call, new_types: set[str], actor: User | None) -> None:
    """Call types a volunteer just recorded, as nuisance signals against the caller key."""
    if call.withheld:
        return
    if CallType.HARASSMENT in new_types:
        call_flag_harassment(call=call, actor=actor)
    points = sum(NUISANCE_POINTS.get(kind, 0.0) for kind in new_types)
    if points:
        screening_add_points(caller_key=call.caller_key, points=points)


def call_renounced(*, call: Call) -> bool:
    """A renunciation on this call: a conversion if its caller key was flagged before.
    Returns whether this was the key's first conversion."""
    return screening_renounced(caller_key=call.caller_key)
