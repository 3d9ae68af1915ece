"""The time zones the machine knows, read once per process.

``zoneinfo.available_timezones()`` walks the whole time-zone database on disk (some six
hundred files) each time it is called: it is a question for a form's choices, never for
every request. The names are read on first use and kept; a zone is loaded by
``ZoneInfo``, which keeps its own cache.
"""

from __future__ import annotations

import zoneinfo
from functools import cache


@cache
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's time-zone database holds."""
    return frozenset(zoneinfo.available_timezones())


def time_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that name, or None for an empty or unknown name."""
    if not name or name not in time_zone_names():
        return None
    return zoneinfo.ZoneInfo(name)
