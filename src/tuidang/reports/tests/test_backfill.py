from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tuidang.calls.models import Call
from tuidang.reports.selectors import report
from tuidang.reports.tests.helpers import a_call
from tuidang.testing.personas import HotlineNumbers


@pytest.mark.django_db
def test_backfill_counts_the_calls_kept_before_the_reports(numbers: HotlineNumbers) -> None:
    for day in (1, 15):
        a_call(
            numbers["banknotes"],
            started=datetime(2026, 1, day, 3, tzinfo=UTC),
            state=Call.State.COMPLETED,
            queued_after=4,
            connected_after=9,
            ended_after=70,
        )
    out = StringIO()
    call_command("backfill_reports", stdout=out)
    assert "2026-01-01 to 2026-01-15" in out.getvalue()
    total = report(first=date(2026, 1, 1), last=date(2026, 1, 31), by="day").total
    assert total is not None and total.answered == 2


@pytest.mark.django_db
def test_backfill_says_what_is_wrong_with_a_date() -> None:
    with pytest.raises(CommandError, match="not a date"):
        call_command("backfill_reports", since="2026-13-01", until="2026-12-31")
    with pytest.raises(CommandError, match="before"):
        call_command("backfill_reports", since="2026-03-02", until="2026-03-01")
