"""Password hashing that takes a processor only when nothing else on it wants one.

An argon2 hash is a fraction of a second of up to ``parallelism`` threads (8 with
Django's parameters, one with ours: below), each spawned by the thread that asks for the
hash and inheriting its scheduling. Niceness is too weak for many: eight threads at
niceness 10 weigh nearly as much as one webhook thread at 0. So hashes run on a few
threads of their own per process, in Linux's ``SCHED_IDLE`` class (weight 3, against
1024 for a thread at niceness 0): beside any webhook, or beside the pool's own thread
that holds SQLite's write lock, they wait. The request's thread itself keeps its class
and only waits for the hash; everything it does before and after, writes included, runs
as before.

Where ``SCHED_IDLE`` cannot be had (another system, or a policy that refuses it), the
threads take the highest niceness instead. See docs/security.md, "Login budget".
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.contrib.auth import hashers

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Hashes one process may run at once. The fleet's budget (accounts/budget.py) bounds how
# many are asked for; a hash beyond these waits for a thread, not for a processor.
HASHING_THREADS = 2

_executor: ThreadPoolExecutor | None = None
_executor_guard = threading.Lock()


def at_idle_priority() -> str:
    """Put the calling thread (and the threads it will start) in the idle class; say
    which class it got."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread
        return "idle"
    except (AttributeError, OSError):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # this thread
            return "niceness 19"
        except (AttributeError, OSError):
            logger.warning("Password hashes run at the request's own priority")
            return "unchanged"


def _forget_executor_after_fork() -> None:
    """A forked process (granian's workers) has none of its parent's threads."""
    global _executor, _executor_guard
    _executor = None
    _executor_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_executor_after_fork)


def in_hashing_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on one of this process's idle-class hashing threads and wait for it."""
    global _executor
    with _executor_guard:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=HASHING_THREADS,
                thread_name_prefix="password-hash",
                initializer=at_idle_priority,
            )
        executor = _executor
    return executor.submit(work).result()


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    """Django's argon2 hasher on the idle threads, each hash on one lane.

    Django's memory and time cost are kept; its 8 lanes (``parallelism``) are not. Lanes
    make a hash finish sooner by taking more cores at once, and cost a guesser nothing
    more: on a two-core server, eight lanes filled both cores for the length of each hash
    the budget let through, and a webhook then found no core free of it. One lane leaves
    the other core to the webhooks (OWASP's recommended argon2id settings also use one).
    A stored hash keeps the lanes it was made with, and is made again with one at the
    next successful login (Django's ``must_update``).
    """

    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        return in_hashing_thread(lambda: super(Argon2PasswordHasher, self).encode(password, salt))

    def verify(self, password: str, encoded: str) -> bool:
        return in_hashing_thread(
            lambda: super(Argon2PasswordHasher, self).verify(password, encoded)
        )
