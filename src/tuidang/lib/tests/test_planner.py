"""A condition marked rare (lib/planner.py) selects what it selects unmarked, and SQLite's
planner then reads the few rows that meet it through their index."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q

from tuidang.lib.planner import Rare

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
