"""The fleet's budget of password hashing for logins, per second, across every process.

Each password tried costs an argon2 hash: a fraction of a second of a core and a hundred
megabytes. django-axes limits guesses per (username, address) and per address
(accounts/lockout.py), but a flood from many addresses stays below both and could keep
every core hashing. So every login that would hash a password first takes a unit of this
budget, ``LOGIN_HASHES_PER_SECOND`` for the whole hotline, kept in Redis when
``REDIS_URL`` is set, else in a small file of its own beside SQLite (``FileBudget``), else
in PostgreSQL (``LoginHashWindow``); past it the login answers 429 at once, without
hashing. Never in SQLite: its one writer is the webhooks' too, and a flood's counting
would queue with the callers' writes behind a process the flood keeps busy.

The real volunteer still gets in during a flood: a browser that has logged in to an
account before carries a signed device cookie for it (OWASP's "device cookie"), and its
attempts at that account skip the fleet's budget while axes still counts them per
(username, address). See docs/security.md, "Login budget".
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import struct
import time
from collections.abc import Callable
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import F
from django.utils.crypto import constant_time_compare, salted_hmac

from tuidang.accounts.models import LoginHashWindow

logger = logging.getLogger(__name__)

DEVICE_COOKIE = "tuidang_device"
_DEVICE_SALT = "tuidang.accounts.device"
# Windows kept after their second has passed: enough for a slow clock between servers.
_KEEP_SECONDS = 60


class HashBudget(Protocol):
    def take(self, second: int, limit: int) -> bool:
        """Whether a hash may be spent in ``second``; if so, it is counted."""
        ...


class DatabaseBudget:
    """One row per second; ``used`` rises only while it is below the limit.

    The UPDATE's condition is checked under the row's lock (PostgreSQL re-reads the row
    after waiting for a concurrent update; SQLite's writers queue on one lock), so racing
    processes never pass the limit. A spent second is refused by a read alone: a flood of
    refused logins writes nothing.
    """

    def take(self, second: int, limit: int) -> bool:
        window = LoginHashWindow.objects.filter(second=second)
        used = window.values_list("used", flat=True).first()
        if used is not None and used >= limit:
            return False
        if used is None:
            # Whoever inserts the second's row first wins; the others' inserts do nothing.
            LoginHashWindow.objects.bulk_create(
                [LoginHashWindow(second=second, used=0)], ignore_conflicts=True
            )
            LoginHashWindow.objects.filter(second__lt=second - _KEEP_SECONDS).delete()
        return bool(window.filter(used__lt=limit).update(used=F("used") + 1))


class RedisBudget:
    """A counter per second, raised atomically (INCR) and gone a few seconds later."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)

    @staticmethod
    def key(second: int) -> str:
        return f"tuidang:accounts:login-hashes:{second}"

    def take(self, second: int, limit: int) -> bool:
        pipeline = self.redis.pipeline()
        pipeline.incr(self.key(second))
        pipeline.expire(self.key(second), _KEEP_SECONDS)
        used, _ = pipeline.execute()
        return int(used) <= limit


class FileBudget:
    """The embedded store beside SQLite: a file of a few counters, one per second in a
    ring of ``_KEEP_SECONDS``, read and raised under an advisory lock on the file.

    Every process of one machine (where a SQLite database is served from) counts in the
    same file, and the lock makes each take a read and a write that no other interleaves,
    so racing processes never pass the limit. It writes nothing to the database: a flood
    of logins never queues with the webhooks on SQLite's single writer. The file is
    opened for each take, so a forked process never shares another's lock, and the
    kernel drops the lock of a process that dies.
    """

    _SLOT = struct.Struct("<qq")  # the second (Unix time) and the hashes spent in it

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def take(self, second: int, limit: int) -> bool:
        offset = (second % _KEEP_SECONDS) * self._SLOT.size
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            slot = os.pread(fd, self._SLOT.size, offset)
            counted, used = self._SLOT.unpack(slot) if len(slot) == self._SLOT.size else (0, 0)
            if counted > second:
                return False  # the slot holds a later second: this one is long past
            if counted < second:
                used = 0  # a second a minute or more ago: forgotten
            if used >= limit:
                return False
            os.pwrite(fd, self._SLOT.pack(second, used + 1), offset)
            return True
        finally:
            os.close(fd)  # and with it the lock

    def spent(self) -> dict[int, int]:
        """The hashes spent in each second the file still remembers."""
        try:
            with open(self.path, "rb") as ring:
                data = ring.read()
        except FileNotFoundError:
            return {}
        usable = len(data) - len(data) % self._SLOT.size
        return {
            second: used
            for second, used in self._SLOT.iter_unpack(data[:usable])
            if used  # an empty slot, or one a sparse file left as zeros
        }


@cache
def _redis_budget(url: str) -> RedisBudget:
    return RedisBudget(url)


def hash_budget() -> HashBudget:
    """Redis' counter when REDIS_URL is set; else a file beside SQLite, or PostgreSQL's
    windows (which has no single writer, and may serve app servers on several machines)."""
    if settings.REDIS_URL:
        return _redis_budget(settings.REDIS_URL)
    if connection.vendor == "sqlite":
        return FileBudget(settings.LOGIN_BUDGET_FILE)
    return DatabaseBudget()


# What the budget's seconds are read from (tests set it).
clock: Callable[[], float] = time.time

# The last second this process logged a refusal in: one line per second at most, however
# many attempts a flood makes (a log line per attempt would be the flood's echo).
_last_logged = 0


def login_hash_take(*, now: float | None = None) -> bool:
    """Spend one password hash of this second's budget; False when it is spent."""
    global _last_logged
    second = int(clock() if now is None else now)
    if hash_budget().take(second, settings.LOGIN_HASHES_PER_SECOND):
        return True
    if second != _last_logged:
        _last_logged = second
        # No address, no username: the line says only that the budget held.
        logger.warning(
            "Login refused without hashing: the budget of %d password hashes a second is spent",
            settings.LOGIN_HASHES_PER_SECOND,
        )
    return False


def _account_tag(username: str) -> str:
    """A keyed digest of the username: the cookie names its account without saying it."""
    normalised = username.strip().casefold().encode()
    return salted_hmac(_DEVICE_SALT, hashlib.sha256(normalised).hexdigest()).hexdigest()[:32]


def device_cookie_value(username: str) -> str:
    """The signed, dated value of the device cookie for ``username``'s account."""
    return signing.dumps({"a": _account_tag(username)}, salt=_DEVICE_SALT, compress=False)


def device_cookie_admits(cookie: str | None, username: str) -> bool:
    """Whether ``cookie`` was given to a browser that logged in to ``username`` and is not
    older than ``LOGIN_DEVICE_COOKIE_DAYS``."""
    if not cookie or not username:
        return False
    try:
        value = signing.loads(
            cookie, salt=_DEVICE_SALT, max_age=settings.LOGIN_DEVICE_COOKIE_DAYS * 24 * 3600
        )
    except signing.BadSignature:
        return False
    tag = value.get("a") if isinstance(value, dict) else None
    return isinstance(tag, str) and constant_time_compare(tag, _account_tag(username))
