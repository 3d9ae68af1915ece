"""Keeping the counts, the reports and the wallboard read no growing table whole: over a
small year from demo/history.py, every statement they run is explained (testing/plans.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tuidang.demo.history import HistorySize, history_fill
from tuidang.reports.counting import reports_run
from tuidang.reports.selectors import BREAKDOWNS, latest_day, occupancy, report
from tuidang.reports.wallboard import board_read
from tuidang.testing.personas import HotlineNumbers
from tuidang.testing.plans import full_scans, recording, statistics_of_a_year
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

SMALL_YEAR = HistorySize(calls=4000, keys=800, declarations=400, volunteers=40)
# The calls of the year the benchmarks keep behind the hotline (docs/benchmarks.md).
YEAR_CALLS = 2_000_000


def test_the_job_the_reports_and_the_wallboard_scan_no_growing_table(
    numbers: HotlineNumbers, mei: Volunteer
) -> None:
    history_fill(size=SMALL_YEAR)
    last = latest_day()
    with recording() as recorder:
        with recorder.labelled("the reports job"):
            reports_run(timezone.now())
        for by in BREAKDOWNS:
            with recorder.labelled(f"a year by {by}"):
                report(first=last - timedelta(days=364), last=last, by=by)
        with recorder.labelled("occupancy"):
            occupancy(first=last - timedelta(days=364), last=last)
        with recorder.labelled("the wallboard"):
            board_read()
    assert {"the reports job", "the wallboard"} <= recorder.labels()
    # Asked of the planner as it would plan them with a year's calls behind it.
    with statistics_of_a_year(YEAR_CALLS / SMALL_YEAR.calls):
        scans = full_scans(recorder.statements)
    assert not scans, "\n".join(scans)
