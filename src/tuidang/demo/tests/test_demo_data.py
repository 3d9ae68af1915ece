"""The demo hotline: `tuidang demo_data` loads it, again without duplicates."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.demo.management.commands.demo_data import HISTORY_SIZE
from tuidang.reports.selectors import occupancy, report
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
    # The demo registry's history is in the log, signed, and verifies.
    assert counts[2] == HISTORY_SIZE
    assert SignedCheckpoint.objects.get().size == HISTORY_SIZE
    out = StringIO()
    call_command("verify_log", stdout=out)
    assert f"The log verifies at size {HISTORY_SIZE}." in out.getvalue()


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
