"""Sliding-window call counts: in the database always, in Redis when REDIS_URL is set."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tuidang.calls.models import Call, HotlineNumber
from tuidang.calls.screening import DatabaseCounter, call_counter
from tuidang.lib.phone import identify_caller
from tuidang.screening.counters import HOUR, MINUTE, CallCounter, RedisCounter, get_counter
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, HotlineNumbers

COUNTERS = ["database"] + (["redis"] if settings.REDIS_URL else [])


@pytest.fixture(params=COUNTERS)
def counter(request: pytest.FixtureRequest, db: None) -> CallCounter:
    if request.param == "redis":
        counter = RedisCounter(settings.REDIS_URL)
        counter.redis.delete(counter._key("k1"), counter._key("k2"))
        return counter
    return DatabaseCounter()


def record(counter: CallCounter, key: str, at: datetime) -> None:
    """A call arrives: stored as the webhook stores it, and hit on the counter."""
    number, _ = HotlineNumber.objects.get_or_create(
        e164="+18005550100", defaults={"name": "Line", "how_heard": "banknotes"}
    )
    Call.objects.create(
        provider_sid=f"CA{Call.objects.count():032d}", hotline_number=number,
        how_heard="banknotes", caller_key=key, case_code=f"{Call.objects.count():07d}",
        started_at=at,
    )  # fmt: skip
    counter.hit(key, at)


def test_calls_are_counted_per_key_in_sliding_windows(counter: CallCounter) -> None:
    now = timezone.now()
    for minutes_ago in (0, 0.5, 5, 50, 70):
        record(counter, "k1", now - timedelta(minutes=minutes_ago))
    record(counter, "k2", now)
    assert counter.count("k1", MINUTE, now) == 2
    assert counter.count("k1", HOUR, now) == 4
    assert counter.count("k2", HOUR, now) == 1
    assert counter.count("k3", HOUR, now) == 0


def test_the_counter_follows_the_configuration() -> None:
    expected = RedisCounter if settings.REDIS_URL else DatabaseCounter
    assert isinstance(call_counter(), expected)
    assert (get_counter() is not None) == bool(settings.REDIS_URL)


def test_a_call_the_provider_announces_twice_is_counted_once(numbers: HotlineNumbers) -> None:
    """The provider asks again for an incoming call when the answer was slow: the caller
    has called once, and screening's hourly count says so (Redis' counter included)."""
    from tuidang.calls.services import call_receive

    counter = call_counter()
    if isinstance(counter, RedisCounter):
        counter.redis.delete(counter._key(identify_caller(CALLER, dialled=BANKNOTES_LINE).key))
    sid = "CA" + "7" * 32
    first = call_receive(provider_sid=sid, caller_from=CALLER, dialled=BANKNOTES_LINE)
    again = call_receive(provider_sid=sid, caller_from=CALLER, dialled=BANKNOTES_LINE)
    assert first is not None and again is not None
    assert again.pk == first.pk
    assert counter.count(first.caller_key, HOUR, timezone.now()) == 1
