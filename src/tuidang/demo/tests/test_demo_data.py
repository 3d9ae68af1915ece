"""The demo hotline: `tuidang demo_data` loads it, again without duplicates."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from tuidang.calls.models import Call, HotlineNumber
from tuidang.declarations.models import Declaration, Statement, StatementStatus
from tuidang.demo.management.commands.demo_data import DEMO_STATEMENTS, HISTORY_SIZE
from tuidang.desk.coverage import coverage
from tuidang.reports.selectors import occupancy, report
from tuidang.shifts.models import Assignment, Shift
from tuidang.tlog.models import SignedCheckpoint
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_demo_data_loads_twice_without_duplicates() -> None:
    call_command("demo_data", verbosity=0)
    counts = (Volunteer.objects.count(), Call.objects.count(), Declaration.objects.count())
    call_command("demo_data", verbosity=0)
    assert (Volunteer.objects.count(), Call.objects.count(), Declaration.objects.count()) == counts
    # One Cantonese speaker among the demo's people (history's invented volunteers apart).
    people = Volunteer.objects.exclude(user__username__startswith="history-")
    assert people.filter(languages__language="yue").count() == 1
    # The demo registry's history and its statements made online are in the log, signed,
    # and verify; the statements are published.
    size = HISTORY_SIZE + len(DEMO_STATEMENTS)
    assert counts[2] == size
    latest = SignedCheckpoint.objects.order_by("-size").first()
    assert latest is not None
    assert latest.size == size
    out = StringIO()
    call_command("verify_log", stdout=out)
    assert f"The log verifies at size {size}." in out.getvalue()
    assert Statement.objects.filter(status=StatementStatus.PUBLISHED).count() == len(
        DEMO_STATEMENTS
    )
    # Its open data is what the log counts, and the numbers to call are on the site.
    out = StringIO()
    call_command("verify_log", figures=True, stdout=out)
    assert "are what the log counts" in out.getvalue()
    assert HotlineNumber.objects.filter(public=True).count() == 2


def test_demo_data_says_what_the_reconciler_finds() -> None:
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert "reconciler finds 0 calls, offers or volunteers left stuck" in out.getvalue()
    quiet = settings.RECONCILE_QUIET_SECONDS
    assert f"only about calls not heard from for {quiet} s" in out.getvalue()


def test_the_demo_has_shifts_in_several_zones_with_gaps_and_cover() -> None:
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert "/desk/coverage/" in out.getvalue()
    assert set(Shift.objects.values_list("time_zone", flat=True)) == {
        "Asia/Taipei",
        "America/Toronto",
        "Europe/Berlin",
    }
    assert Assignment.objects.exists()
    zones = set(Volunteer.objects.exclude(time_zone="").values_list("time_zone", flat=True))
    assert len(zones) >= 3
    hours = coverage(["cmn"], timezone.now())["cmn"]
    assert any(hour.gap for hour in hours) and any(hour.scheduled for hour in hours)
    call_command("demo_data", verbosity=0)
    assert Shift.objects.count() == 7 + 5 + 4 + 3


def test_the_demo_says_where_every_node_finds_recordings() -> None:
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert (
        "Voicemail recordings (sealed) and uploaded prompts are kept in the database, where "
        "every app server and worker reads them (STORAGE_BACKEND=database"
    ) in out.getvalue()


def test_the_demo_s_reports_show_eight_weeks_of_calls() -> None:
    out = StringIO()
    call_command("demo_data", stdout=out)
    text = out.getvalue()
    assert "/desk/reports/" in text and "/desk/wallboard/" in text
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    whole = report(first=today - timedelta(weeks=8), last=today, by="day")
    assert whole.total is not None
    answered = Call.objects.filter(
        provider_sid__startswith="HIST", queued_at__isnull=False, connected_at__isnull=False
    ).count()
    assert whole.total.answered == answered > 0
    assert len(whole.rows) >= 50  # a row for (nearly) every day of the eight weeks
    assert occupancy(first=today - timedelta(weeks=8), last=today)
