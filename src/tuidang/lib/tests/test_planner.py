"""A condition marked rare (lib/planner.py) selects what it selects unmarked, and SQLite's
planner then reads the few rows that meet it through their index."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q, QuerySet

from tuidang.lib.planner import Rare
from tuidang.testing.personas import make_volunteer
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> None:
    User.objects.bulk_create(
        User(username=f"member{n}", is_staff=n % 50 == 0, password="!") for n in range(200)
    )


def test_a_rare_condition_selects_the_rows_it_selects_unmarked(team: None) -> None:
    staff = Q(is_staff=True)
    marked = set(User.objects.filter(Rare(staff)).values_list("username", flat=True))
    assert marked == set(User.objects.filter(staff).values_list("username", flat=True))
    assert marked == {"member0", "member50", "member100", "member150"}
    assert User.objects.filter(Rare(staff) & Q(username="member50")).count() == 1
    assert User.objects.exclude(Rare(staff)).count() == 196


def test_only_sqlite_is_told_how_rare(team: None) -> None:
    sql = str(User.objects.filter(Rare(Q(is_staff=True), share=0.02)).query)
    if connection.vendor == "sqlite":
        assert "likelihood(" in sql and ", 0.02)" in sql
    else:
        assert "likelihood" not in sql


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1])
def test_a_share_is_between_none_and_all(share: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Rare(Q(is_staff=True), share=share)


def test_sqlite_reads_the_few_on_duty_through_the_presence_index() -> None:
    """Statistics taken while the whole team is away say any presence matches everyone:
    unmarked, SQLite reads the team whole; marked, through the presence index."""
    for n in range(30):
        make_volunteer(f"member{n}", [])  # away
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    on_duty = [Presence.AVAILABLE, Presence.WRAP_UP]
    unmarked = Volunteer.objects.filter(presence__in=on_duty).order_by("display_name")
    marked = Volunteer.objects.filter(Rare(Q(presence__in=on_duty))).order_by("display_name")
    if connection.vendor == "sqlite":
        assert "SCAN volunteers_volunteer" in _plan(unmarked)
        assert "SEARCH volunteers_volunteer USING INDEX volunteer_routing_idx" in _plan(marked)
    else:
        # PostgreSQL keeps each value's frequency: it is told nothing more.
        assert _plan(marked) == _plan(unmarked)
    assert list(marked) == list(unmarked) == []


def _plan(queryset: QuerySet[Volunteer]) -> str:
    sql, params = queryset.query.sql_with_params()
    explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN (COSTS OFF)"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
