"""The declaration form's flood defence: rate limits per address and for everyone, that
tighten by themselves when a flood starts, and the proof of work the form asks for.

An address is never kept: only its HMAC under WEB_ADDRESS_PEPPER (``address_key``), in
counters that live as long as their window (an hour). In Redis when REDIS_URL is set
(one INCR per window, expiring with it), otherwise in the ``WebHit`` table (one upsert a
count), whose old windows each new window deletes. Several app servers share either.

Flood mode: more than ONLINE_FLOOD_PER_MINUTE forms posted in the current minute or the
last. Then each address may post ONLINE_PER_ADDRESS_HOUR_IN_FLOOD forms an hour instead
of ONLINE_PER_ADDRESS_HOUR, the proof of work is harder, and statements are held: a
declaration is still accepted and counted, its words wait for moderation after the rest.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from altcha.v1 import ChallengeOptions, Payload, create_challenge, verify_solution
from django.conf import settings
from django.db import connections, router

from tuidang.screening.models import WebHit

MINUTE = 60
HOUR = 3600
EVERYONE = "*"


def address_key(address: str | None) -> str:
    """The keyed hash a rate limit counts under: never the address itself."""
    return hmac.new(
        settings.WEB_ADDRESS_PEPPER.encode(), (address or "").encode(), hashlib.sha256
    ).hexdigest()


class Counter(Protocol):
    def add(self, key: str, window: int, seconds: int) -> int:
        """Count one in ``key``'s window starting at ``window``; the window's count."""

    def get(self, key: str, window: int) -> int: ...


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)

    @staticmethod
    def _key(key: str, window: int) -> str:
        return f"tuidang:web:{key}:{window}"

    def add(self, key: str, window: int, seconds: int) -> int:
        name = self._key(key, window)
        pipeline = self.redis.pipeline()
        pipeline.incr(name)
        pipeline.expire(name, seconds * 2)
        count, _ = pipeline.execute()
        return int(count)

    def get(self, key: str, window: int) -> int:
        value = self.redis.get(self._key(key, window))
        return int(value) if value is not None else 0


class TableCounter:
    """The embedded counter: one row per key and window, added to atomically."""

    def add(self, key: str, window: int, seconds: int) -> int:
        # One statement, whoever else counts at the same moment: a flood's every post is
        # counted, so its cost is the refusal's (on SQLite, one write under the lock).
        connection = connections[router.db_for_write(WebHit)]
        table = connection.ops.quote_name(WebHit._meta.db_table)
        columns = [connection.ops.quote_name(name) for name in ("key", "window", "count")]
        key_, window_, count = columns
        sql = (  # Names from the model's metadata, quoted; values are parameters.
            f"INSERT INTO {table} ({key_}, {window_}, {count}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({key_}, {window_}) DO UPDATE SET {count} = {table}.{count} + 1 "
            f"RETURNING {count}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, window])
            (counted,) = cursor.fetchone()
        if counted == 1:
            # A new window: nothing is kept longer than the longest window needs it.
            WebHit.objects.filter(window__lt=window - HOUR).delete()
        return int(counted)

    def get(self, key: str, window: int) -> int:
        hit = WebHit.objects.filter(key=key, window=window).first()
        return hit.count if hit is not None else 0


@cache
def _redis_counter(url: str) -> RedisCounter:
    return RedisCounter(url)


def get_counter() -> Counter:
    if settings.REDIS_URL:
        return _redis_counter(settings.REDIS_URL)
    return TableCounter()


@dataclass(frozen=True)
class Admission:
    """Whether a posted form may be recorded, and in what weather."""

    allowed: bool
    flood: bool
    # When the address may post again, if refused.
    retry_at: datetime | None = None


def web_flood(*, now: datetime) -> bool:
    """Whether the declaration form is being flooded: more forms than
    ONLINE_FLOOD_PER_MINUTE in this minute or the last."""
    counter = get_counter()
    minute = int(now.timestamp()) // MINUTE * MINUTE
    limit = settings.ONLINE_FLOOD_PER_MINUTE
    return counter.get(EVERYONE, minute) > limit or counter.get(EVERYONE, minute - MINUTE) > limit


def web_admit(*, key: str, now: datetime) -> Admission:
    """Count a posted form against its address's hourly limit and everyone's minute.
    Refused: the address has posted its hour's share, tighter in a flood."""
    counter = get_counter()
    minute = int(now.timestamp()) // MINUTE * MINUTE
    hour = int(now.timestamp()) // HOUR * HOUR
    flood = web_flood(now=now)
    everyone = counter.add(EVERYONE, minute, MINUTE)
    flood = flood or everyone > settings.ONLINE_FLOOD_PER_MINUTE
    limit = settings.ONLINE_PER_ADDRESS_HOUR_IN_FLOOD if flood else settings.ONLINE_PER_ADDRESS_HOUR
    posted = counter.add(key, hour, HOUR)
    if posted > limit:
        retry_at = datetime.fromtimestamp(hour + HOUR, tz=now.tzinfo)
        return Admission(allowed=False, flood=flood, retry_at=retry_at)
    return Admission(allowed=True, flood=flood)


# --- The proof of work (ALTCHA, v1 challenges: SHA-256 of the salt and a number) ----------


def _work_key() -> bytes:
    return hmac.new(settings.WEB_ADDRESS_PEPPER.encode(), b"altcha", hashlib.sha256).digest()


def challenge_for(*, token: str, flood: bool, now: datetime) -> dict[str, object]:
    """A challenge bound to one form's token: a solution answers that form only."""
    challenge = create_challenge(
        ChallengeOptions(
            hmac_key=_work_key(),
            max_number=settings.ONLINE_WORK_IN_FLOOD if flood else settings.ONLINE_WORK,
            expires=now + timedelta(hours=settings.ONLINE_FORM_HOURS),
            params={"form": _token_digest(token)},
        )
    )
    return dict(challenge.to_dict())


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def work_verify(*, payload: str, token: str) -> bool:
    """Whether ``payload`` (the browser's answer, base64 JSON) solves a challenge this
    server signed, unexpired, for this form's token."""
    try:
        solved = Payload.from_base64(payload)
        ok, _ = verify_solution(solved, _work_key(), check_expires=True)
        _, _, params = solved.parse_salt()
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return bool(ok) and params.get("form") == [_token_digest(token)]
