"""The demo hotline: `tuidang demo_data` loads it, again without duplicates."""

from io import StringIO

import pytest
from django.core.management import call_command

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.demo.management.commands.demo_data import HISTORY_SIZE
from tuidang.tlog.models import SignedCheckpoint
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_demo_data_loads_twice_without_duplicates() -> None:
    call_command("demo_data", verbosity=0)
    counts = (Volunteer.objects.count(), Call.objects.count(), Declaration.objects.count())
    call_command("demo_data", verbosity=0)
    assert (Volunteer.objects.count(), Call.objects.count(), Declaration.objects.count()) == counts
    assert Volunteer.objects.filter(languages__language="yue").count() == 1
    # The demo registry's history is in the log, signed, and verifies.
    assert counts[2] == HISTORY_SIZE
    assert SignedCheckpoint.objects.get().size == HISTORY_SIZE
    out = StringIO()
    call_command("verify_log", stdout=out)
    assert f"The log verifies at size {HISTORY_SIZE}." in out.getvalue()


def test_demo_data_says_what_the_reconciler_finds() -> None:
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert "reconciler finds 0 calls, offers or volunteers left stuck" in out.getvalue()
