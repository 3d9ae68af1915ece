"""`tuidang fill-history`: a year of invented history, for benchmarks."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from pytest_django.fixtures import Settings

from tuidang.calls.models import Call, Offer
from tuidang.declarations.models import Declaration
from tuidang.demo.history import history_number
from tuidang.lib.phone import caller_key
from tuidang.screening.models import CallerScore
from tuidang.tlog.models import LogEntry
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def fill(**size: int) -> str:
    out = StringIO()
    call_command("fill_history", stdout=out, **size)
    return out.getvalue()


def test_a_year_of_calls_keys_declarations_and_volunteers_is_filled() -> None:
    report = fill(calls=600, keys=120, declarations=40, volunteers=12)
    assert "600 calls" in report and "40 declarations" in report
    assert Call.objects.count() == 600
    assert CallerScore.objects.count() == 120
    assert Volunteer.objects.count() == 12
    assert Declaration.objects.count() == 40
    # Hired callers ring again and again; genuine callers reach volunteers.
    per_key = Counter(Call.objects.values_list("caller_key", flat=True))
    assert max(per_key.values()) >= 10
    assert caller_key(history_number(0)) in per_key
    assert Offer.objects.filter(state=Offer.State.ACCEPTED).exists()
    oldest = Call.objects.order_by("started_at").first()
    assert oldest is not None
    assert oldest.started_at < timezone.now() - timedelta(days=300)
    out = StringIO()
    call_command("verify_log", stdout=out)
    assert "The log verifies at size 40." in out.getvalue()


def test_filling_again_adds_calls_and_keeps_the_rest() -> None:
    fill(calls=100, keys=20, declarations=10, volunteers=3)
    fill(calls=100, keys=20, declarations=10, volunteers=3)
    assert Call.objects.count() == 200
    assert (Volunteer.objects.count(), Declaration.objects.count()) == (3, 10)
    assert CallerScore.objects.count() == 20


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(CommandError, match="--calls must be at least 1"):
        fill(calls=0)
    assert not Call.objects.exists()


def test_a_live_hotline_is_never_filled(settings: Settings) -> None:
    """Invented declarations in a real registry's log could never be taken out again."""
    settings.TELEPHONY_PROVIDER = "twilio"
    with pytest.raises(CommandError, match="never on a live hotline"):
        call_command("fill_history", calls=10, keys=5, declarations=5, volunteers=2)
    assert not Call.objects.exists() and not Declaration.objects.exists()
    assert not LogEntry.objects.exists()


def test_the_year_is_left_as_a_database_that_has_kept_it_would_be() -> None:
    """Statistics for the planner; on PostgreSQL the rows vacuumed too, as autovacuum would
    have over a year: an index-only scan then reads no table page (the visibility map)."""
    from django.db import connection

    fill(calls=600, keys=120, declarations=40, volunteers=12)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT relallvisible FROM pg_class WHERE relname = 'calls_call'")
            assert cursor.fetchone()[0] > 0
            cursor.execute("SELECT COUNT(*) FROM pg_stats WHERE tablename = 'calls_call'")
        else:
            cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'calls_call'")
        assert cursor.fetchone()[0] > 0
