"""A day of calls from canary numbers; then no table, log line or cache entry holds them.

The simulated network is the provider and keeps its own database: it must hold the
numbers (which shows the search works); the hotline's database must not.
"""

import logging
import re

import phonenumbers
import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.test import Client
from django.urls import reverse

from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    PASSWORD,
    WEBSITE_LINE,
    Clock,
    HotlineNumbers,
    go_available,
)
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

CANARIES = ["+8613912345678", "+8618612345678", "+85291234567", "+12025550143"]


def national_digits(e164: str) -> str:
    return str(phonenumbers.parse(e164).national_number)


def every_value(alias: str) -> list[str]:
    """Every cell of every table, as text (bytes as latin-1, so digits survive)."""
    connection = connections[alias]
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for cell in row:
                    if isinstance(cell, bytes | memoryview):
                        cell = bytes(cell).decode("latin-1")
                    values.append(str(cell))
    return values


def every_cache_entry() -> list[str]:
    """Every key and value in Redis, or in the cache's files, as text."""
    cache = caches["default"]
    if settings.REDIS_URL:
        client = cache._cache.get_client()  # type: ignore[attr-defined]
        # DUMP serialises a key of any type (the counters are sorted sets).
        return [
            (key + (client.dump(key) or b"")).decode("latin-1") for key in client.scan_iter("*")
        ]
    # diskcache's files, which every process on the machine shares.
    shared = cache._cache  # type: ignore[attr-defined]
    return [f"{key}{shared.get(key)!r}" for key in shared]


def holds(texts: list[str], e164: str) -> bool:
    """Whether any text holds the number in any format: E.164, national, spaced, dashed."""
    digits = national_digits(e164)
    return any(digits in re.sub(r"\D", "", text) for text in texts)


def test_no_trace_of_a_callers_number_outside_the_phone_network(
    client: Client,
    network: PhoneNetwork,
    clock: Clock,
    numbers: HotlineNumbers,
    mei: Volunteer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    go_available(mei)
    client.login(username="mei", password=PASSWORD)
    for index, number in enumerate(CANARIES):
        caller = network.dial(from_number=number, to_number=BANKNOTES_LINE)
        network.press(caller.sid, "1")
        if index % 2 == 0:
            leg = network.answer(calls_for("client:mei").get().sid)
            network.press(leg.sid, "1")
            call_id = mei.calls.latest("connected_at").pk
            client.post(
                reverse("desk:record-declarations", args=[call_id]),
                {
                    "caller-renounces": "on",
                    "caller-alias": f"Canary {number}",
                    "caller-organizations": ["party"],
                    "family-TOTAL_FORMS": "0",
                    "family-INITIAL_FORMS": "0",
                },
            )
            client.post(reverse("desk:hang-up", args=[call_id]))
            client.post(reverse("desk:presence"), {"presence": "available"})
        else:
            clock.advance(40)
            network.tick()
            network.hang_up(caller.sid)
    network.dial(from_number=CANARIES[0], to_number=WEBSITE_LINE)
    network.dial(from_number=CANARIES[1], to_number="+15555550000")  # not ours

    hotline_db = every_value("default")
    phone_network_db = every_value("phone_network")
    cache_entries = every_cache_entry()
    assert cache_entries, "the search must find the cache's entries"
    for number in CANARIES:
        assert holds(phone_network_db, number), "the search must find what is there"
        assert not holds(hotline_db, number), f"{number} reached the hotline's database"
        assert not holds(caplog.messages, number), f"{number} reached a log line"
        assert not holds(cache_entries, number), f"{number} reached the cache"
    # The calls themselves were recorded, with what may be kept: the region's code.
    assert any("CN-BJ" in value for value in hotline_db)
