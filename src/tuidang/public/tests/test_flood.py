"""A scripted flood of the declaration form at rising rates, with real declarants among
it: every real declarant is recorded and counted, the flood is slowed by the limits, and
once the form is flooded its statements are held. Bounded: a fixed number of posts,
minute by minute on a hand-moved clock (bench/declare_flood.py runs it over HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.declarations.models import Declaration, Statement, StatementStatus
from tuidang.declarations.selectors import public_totals
from tuidang.testing.declaring import declare, person
from tuidang.testing.publication import publish

pytestmark = pytest.mark.django_db

BOTS = [f"192.0.2.{n}" for n in range(1, 6)]
# Posts a minute, rising, then held: a real declarant every fifth post, the flood the rest.
RATES = [5, 10, 25, 25]


def test_a_rising_flood_never_loses_a_real_declarant(client: Client, settings: Settings) -> None:
    settings.ONLINE_FLOOD_PER_MINUTE = 20
    settings.ONLINE_PER_ADDRESS_HOUR = 12
    settings.ONLINE_PER_ADDRESS_HOUR_IN_FLOOD = 3
    settings.ONLINE_WORK = settings.ONLINE_WORK_IN_FLOOD = 500
    before = public_totals().total
    real: list[str] = []
    refused = accepted = 0  # of the flood, in its last (flooded) minute
    start = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        for minute, rate in enumerate(RATES):
            clock.move_to(start + timedelta(minutes=minute))
            for n in range(rate):
                if n % 5 == 4:
                    alias = f"真人{minute}-{n}"
                    response = declare(
                        client,
                        person("you", alias, statement="我真心退出。", consent=True),
                        address=f"198.51.100.{len(real) + 1}",
                    )
                    assert response.status_code == 201, response.text
                    real.append(alias)
                    continue
                response = declare(
                    client,
                    person("you", f"机器{minute}-{n}", statement="刷屏", consent=True),
                    address=BOTS[n % len(BOTS)],
                )
                assert response.status_code in (201, 429)
                if minute == len(RATES) - 1:
                    refused += response.status_code == 429
                    accepted += response.status_code == 201
    stored = {d.alias for d in Declaration.objects.all()}
    assert set(real) <= stored
    # Flooded, the limits tightened: most of the flood's last minute was refused.
    assert accepted <= len(BOTS) * settings.ONLINE_PER_ADDRESS_HOUR_IN_FLOOD
    assert refused > accepted
    # Once flooded, statements are held, the real declarants' as much as the bots'.
    (last_real,) = [d for d in Declaration.objects.all() if d.alias == real[-1]]
    assert Statement.objects.get(declaration=last_real).status == StatementStatus.HELD
    publish()
    assert public_totals().total == before + len(stored)
