"""The reports page, its CSV and occupancy, as coordinators and volunteers read them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.reports.counting import counts_rebuild, presence_sample
from tuidang.reports.tests.helpers import a_call
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db

TEN = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in China
DAY = date(2026, 3, 2)
SPAN = {"first": "2026-03-01", "last": "2026-03-03", "by": "day"}


@pytest.fixture
def counted(numbers: HotlineNumbers) -> None:
    a_call(
        numbers["banknotes"],
        started=TEN,
        state=Call.State.COMPLETED,
        queued_after=5,
        connected_after=15,
        ended_after=75,
    )
    a_call(
        numbers["website"],
        started=TEN + timedelta(minutes=3),
        state=Call.State.ABANDONED,
        queued_after=5,
        ended_after=65,
    )
    counts_rebuild(first=DAY, last=DAY)


def test_a_coordinator_reads_the_day_with_its_charts(
    client: Client, lin: Volunteer, counted: None
) -> None:
    client.login(username="lin", password=PASSWORD)
    response = client.get(reverse("desk:reports"), SPAN)
    assert response.status_code == 200
    page = response.content.decode()
    row = page.split('<th scope="row">2026-03-02</th>')[1].split("</tr>")[0]
    # Offered 2, answered 1, service level 1 of (1 answered + 1 abandoned after 5 s).
    assert row.startswith("<td>2</td><td>1</td><td>50.0 %</td><td>1</td>")
    for chart in ("chart-hour", "chart-day", "chart-channel", "chart-renunciations"):
        assert f'data-testid="{chart}"' in page
    assert "<script" not in page.split("charts")[1].split("</section>")[0]
    assert " style=" not in page  # the CSP allows no inline style


def test_the_csv_has_the_same_numbers(client: Client, lin: Volunteer, counted: None) -> None:
    client.login(username="lin", password=PASSWORD)
    response = client.get(reverse("desk:reports-csv"), {**SPAN, "by": "channel"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Channel", "Offered", "Answered"]
    by_channel = {row[0]: row for row in rows[1:]}
    assert by_channel["Banknotes"][1:3] == ["1", "1"]
    assert by_channel["Website"][1:5] == ["1", "0", "0", "1"]
    assert by_channel["Total"][1:3] == ["2", "1"]


def test_a_span_backwards_is_refused_with_what_was_typed_kept(
    client: Client, lin: Volunteer
) -> None:
    client.login(username="lin", password=PASSWORD)
    response = client.get(
        reverse("desk:reports"), {"first": "2026-03-05", "last": "2026-03-01", "by": "day"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The last day is before the first." in page
    assert 'value="2026-03-05"' in page and 'value="2026-03-01"' in page
    bad = client.get(
        reverse("desk:reports-csv"), {"first": "soon", "last": "2026-03-01", "by": "day"}
    )
    assert bad.status_code == 400
    assert "valid date" in bad.content.decode()


def test_a_volunteer_sees_only_their_own_occupancy(
    client: Client, mei: Volunteer, wing: Volunteer, lin: Volunteer
) -> None:
    Volunteer.objects.filter(pk__in=[mei.pk, wing.pk]).update(presence=Presence.ON_CALL)
    presence_sample(now=TEN, weight_seconds=60)
    span = {"first": "2026-03-02", "last": "2026-03-02"}
    client.login(username="mei", password=PASSWORD)
    page = client.get(reverse("desk:occupancy"), span).content.decode()
    assert mei.display_name in page and wing.display_name not in page
    client.login(username="lin", password=PASSWORD)
    page = client.get(reverse("desk:occupancy"), span).content.decode()
    assert mei.display_name in page and wing.display_name in page
    assert client.get(reverse("desk:reports"), SPAN).status_code == 200
    client.login(username="mei", password=PASSWORD)
    assert client.get(reverse("desk:reports"), SPAN).status_code == 403


@pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])
def test_the_reports_and_the_wallboard_have_no_english_left_in_chinese(
    client: Client, lin: Volunteer, counted: None
) -> None:
    from tuidang.desk.tests.test_chinese import untranslated
    from tuidang.reports.counting import presence_sample

    presence_sample(now=TEN, weight_seconds=60)
    client.force_login(lin.user)
    query = "?first=2026-03-01&last=2026-03-03&by="
    names = frozenset({"Banknotes line", "Website line", "Lin (coordinator)", lin.display_name})
    found = {
        url: untranslated(client, url, data=names)
        for url in [
            *(
                reverse("desk:reports") + query + by
                for by in ("day", "hour", "language", "number", "channel", "province")
            ),
            reverse("desk:occupancy") + "?first=2026-03-02&last=2026-03-02",
            reverse("desk:wallboard"),
            reverse("desk:wallboard-board"),
        ]
    }
    assert {url: left for url, left in found.items() if left} == {}
