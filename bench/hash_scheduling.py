"""What a password hash in the pool for people costs a webhook's thread, by where it runs.

A webhook-sized task (1 ms of SHA-256) runs 50 times a second in this process, at
niceness 0, beside a process at niceness 10 (the pool for people's) checking two argon2
passwords a second (the login budget's default). The hash runs either on the checking
thread itself, as Django's hasher does, or on an idle-class thread (accounts/hashers.py);
the two alternate every two seconds in one run, so that both meet the same other work on
the machine, after a few seconds with no hashing at all. Nothing is served; nothing
leaves this machine. Short: about a minute.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import time
from typing import Any

import django
from django.conf import settings

ON_REQUEST_THREAD, ON_IDLE_THREAD = 0, 1


def hashing(mode: Any, stop: Any) -> None:
    """The pool for people: two password checks a second, wherever ``mode`` says."""
    os.nice(10)
    from django.contrib.auth.hashers import Argon2PasswordHasher as DjangosHasher

    from tuidang.accounts.hashers import Argon2PasswordHasher as IdleHasher

    on_request, on_idle = DjangosHasher(), IdleHasher()
    encoded = on_request.encode("a-long-bench-password", on_request.salt())
    while not stop.is_set():
        started = time.monotonic()
        hasher = on_idle if mode.value == ON_IDLE_THREAD else on_request
        hasher.verify("a wrong guess", encoded)
        time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))


def webhook_task() -> float:
    started = time.perf_counter()
    digest = b"call"
    for _ in range(3000):
        digest = hashlib.sha256(digest).digest()
    return (time.perf_counter() - started) * 1000


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p90, p99 = ordered[int(len(ordered) * 0.9)], ordered[int(len(ordered) * 0.99)]
    return f"n={len(ordered)} p50={statistics.median(ordered):.1f} p90={p90:.1f} p99={p99:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="of alternating hashing")
    args = parser.parse_args()
    settings.configure()
    django.setup()
    alone: list[float] = []
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        alone.append(webhook_task())
        time.sleep(0.02)

    mode, stop = multiprocessing.Value("i", ON_REQUEST_THREAD), multiprocessing.Event()
    people = multiprocessing.Process(target=hashing, args=(mode, stop))
    people.start()
    time.sleep(1)
    by_mode: dict[int, list[float]] = {ON_REQUEST_THREAD: [], ON_IDLE_THREAD: []}
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < args.seconds:
            mode.value = int(elapsed // 2) % 2
            if elapsed % 2 >= 0.6:  # after the hash under way at the switch has ended
                by_mode[mode.value].append(webhook_task())
            time.sleep(0.02)
    finally:
        stop.set()
        people.join(timeout=10)
    print(f"no hashing:                         {summary(alone)}")
    print(f"hash on the request's thread:       {summary(by_mode[ON_REQUEST_THREAD])}")
    print(f"hash on an idle-class thread:       {summary(by_mode[ON_IDLE_THREAD])}")
    print(f"load average {os.getloadavg()[0]:.1f} (other work on the machine)")


if __name__ == "__main__":
    main()
