"""How often a caller key called in a sliding window (minute, hour, night).

In Redis when REDIS_URL is set (a sorted set of call times per key, trimmed to a night);
otherwise from the calls table itself, whose (caller_key, started_at) index answers it:
that counter belongs to the calls domain, above screening (calls/screening.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings

MINUTE = 60
HOUR = 3600
NIGHT = 12 * 3600


class CallCounter(Protocol):
    # Whether hit() records the call; if not, count() cannot see the call being received.
    records_hits: bool

    def hit(self, caller_key: str, at: datetime) -> None: ...

    def count(self, caller_key: str, seconds: int, now: datetime) -> int: ...


class RedisCounter:
    records_hits = True

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)

    @staticmethod
    def _key(caller_key: str) -> str:
        return f"tuidang:screening:calls:{caller_key}"

    def hit(self, caller_key: str, at: datetime) -> None:
        key = self._key(caller_key)
        now = at.timestamp()
        pipeline = self.redis.pipeline()
        pipeline.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})
        pipeline.zremrangebyscore(key, "-inf", now - NIGHT)
        pipeline.expire(key, NIGHT)
        pipeline.execute()

    def count(self, caller_key: str, seconds: int, now: datetime) -> int:
        since = now.timestamp() - seconds
        return int(self.redis.zcount(self._key(caller_key), f"({since}", "+inf"))


@cache
def _redis_counter(url: str) -> RedisCounter:
    return RedisCounter(url)


def get_counter() -> RedisCounter | None:
    """Redis' counter when REDIS_URL is set; None: the calls table is the counter."""
    if settings.REDIS_URL:
        return _redis_counter(settings.REDIS_URL)
    return None
