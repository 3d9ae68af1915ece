"""Calls with every instant given, for counts worked out by hand."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from tuidang.calls.models import Call, HotlineNumber

_serial = itertools.count(1)


def a_call(
    number: HotlineNumber,
    *,
    started: datetime,
    state: str,
    language: str = "cmn",
    region: str = "CN-GD",
    queued_after: float | None = None,
    connected_after: float | None = None,
    ended_after: float | None = None,
) -> Call:
    """A call that started at ``started``: it joined the queue, was connected and ended
    that many seconds after it started (None: it never did)."""
    serial = next(_serial)

    def at(after: float | None) -> datetime | None:
        return None if after is None else started + timedelta(seconds=after)

    return Call.objects.create(
        provider_sid=f"CAhand{serial}",
        hotline_number=number,
        how_heard=number.how_heard,
        caller_key=f"key{serial}",
        region=region,
        case_code=f"{serial:09d}",
        language=language,
        state=state,
        started_at=started,
        queued_at=at(queued_after),
        connected_at=at(connected_after),
        ended_at=at(ended_after),
    )
