"""A moment's memory in each process, in front of the shared cache.

The public pages are read thousands of times a second when a story sends readers to
them, and each is the same for every anonymous reader until the next publication. Asking
the shared cache (Redis, or files under var/cache without it) whether its generation
moved costs more than serving the page: each process keeps what it served for
``HOLD_SECONDS`` instead. A change made in this process is seen at once (``forget``);
other processes see it within ``HOLD_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver

T = TypeVar("T")

HOLD_SECONDS = 1.0
# Keys are few (a page or a file per language, a number's or a queue's settings, a
# prompt); old generations' keys make it grow, so past this many all are forgotten at once.
MAX_KEYS = 4096

_held: dict[str, tuple[float, object]] = {}
clock = time.monotonic  # tests move it


def held(key: str, build: Callable[[], T], seconds: float = HOLD_SECONDS) -> T:
    """``build()``'s result, kept in this process for ``seconds``."""
    now = clock()
    found = _held.get(key)
    if found is not None and found[0] > now:
        return found[1]  # type: ignore[return-value]
    value = build()
    keep(key, value, seconds)
    return value


def keep(key: str, value: object, seconds: float = HOLD_SECONDS) -> None:
    """Hold ``value`` under ``key`` as ``held`` would have: what this process just wrote
    to the shared cache, so that its next reads need not ask for it."""
    if len(_held) >= MAX_KEYS:
        _held.clear()
    _held[key] = (clock() + seconds, value)


def forget() -> None:
    """Forget everything held: what changed is read afresh by this process's next request."""
    _held.clear()


@receiver(setting_changed)
def _forget_on_setting_changed(**kwargs: Any) -> None:
    """A setting changed while the process runs (only tests change them): what was held
    was made under the old one."""
    forget()
