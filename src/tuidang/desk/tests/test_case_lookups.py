"""Case lookups are limited per volunteer and audited, found or not: codes cannot be
tried at speed, and every code tried leaves its trace."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings
from stdnum import damm

from tuidang.audit.models import Action, AuditEvent
from tuidang.audit.services import audit_target
from tuidang.calls.models import Call
from tuidang.testing.personas import CALLER, PASSWORD, HotlineNumbers
from tuidang.testing.records import record_a_call
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def _limit(settings: Settings) -> None:
    settings.CASE_LOOKUPS_PER_MINUTE = LIMIT


@pytest.fixture
def case(numbers: HotlineNumbers, mei: Volunteer) -> Call:
    return record_a_call(volunteer=mei, caller=CALLER, sid="CA-lookups").call


def codes_of_no_case(count: int) -> list[str]:
    """Valid codes (their check digit right) that name no call."""
    bodies = (f"{n:08d}" for n in range(10_000_000, 10_000_000 + count))
    return [body + damm.calc_check_digit(body) for body in bodies]


def look_up(client: Client, code: str) -> int:
    return client.get(reverse("desk:open-case"), {"code": code}).status_code


def lookups(volunteer: Volunteer) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(actor=volunteer.user, action=Action.LOOKUP)
        .order_by("pk")
        .values_list("target_type", "target_id")
    )


def test_a_miss_is_audited_naming_the_volunteer_and_the_code_tried(
    client: Client, case: Call, wing: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    [code] = codes_of_no_case(1)
    page = client.get(reverse("desk:open-case"), {"code": code})
    assert page.status_code == 200 and "No case has this code." in page.text
    assert lookups(wing) == [("calls.Call", code)]
    assert AuditEvent.objects.get(action=Action.LOOKUP).actor_name == "wing"


def test_a_hit_is_audited_as_a_lookup_and_a_view_of_the_case(
    client: Client, case: Call, wing: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    assert look_up(client, case.case_code) == 200
    assert lookups(wing) == [("calls.Call", case.case_code)]
    target_type, target_id = audit_target(case)
    assert AuditEvent.objects.filter(
        actor=wing.user, action=Action.VIEW, target_type=target_type, target_id=target_id
    ).exists()


def test_a_volunteer_trying_codes_at_speed_is_stopped_with_429(
    client: Client, case: Call, wing: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    *tried, one_too_many = codes_of_no_case(LIMIT + 1)
    assert [look_up(client, code) for code in tried] == [200] * LIMIT
    page = client.get(reverse("desk:open-case"), {"code": one_too_many})
    assert page.status_code == 429
    assert "Too many case lookups" in page.text
    assert int(page["Retry-After"]) > 0
    # Refused even for a code that opens a case: the limit says nothing of what exists.
    refused = client.get(reverse("desk:open-case"), {"code": case.case_code})
    assert refused.status_code == 429 and "Banknotes" not in refused.text
    assert len(lookups(wing)) == LIMIT  # only the lookups that were made


def test_the_limit_is_a_minute_long(
    client: Client, case: Call, wing: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.login(username="wing", password=PASSWORD)
    for code in codes_of_no_case(LIMIT):
        look_up(client, code)
    assert look_up(client, case.case_code) == 429
    a_minute_later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: a_minute_later)
    assert look_up(client, case.case_code) == 200


def test_one_volunteers_lookups_do_not_limit_another(
    client: Client, case: Call, wing: Volunteer, lin: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    for code in codes_of_no_case(LIMIT):
        look_up(client, code)
    assert look_up(client, case.case_code) == 429
    other = Client()
    other.login(username="lin", password=PASSWORD)
    page = other.get(reverse("desk:open-case"), {"code": case.case_code})
    assert page.status_code == 200 and "Banknotes" in page.text
    assert lookups(lin) == [("calls.Call", case.case_code)]
