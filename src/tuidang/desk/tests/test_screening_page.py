"""The coordinators' screening page: blocks, lifts, the night report; and the desk's flag."""

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tuidang.calls.models import Call
from tuidang.desk.selectors import CHINA
from tuidang.lib.phone import caller_key
from tuidang.screening.models import Block, CallerScore, Policy, ScreeningEvent
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import BANKNOTES_LINE, PASSWORD, HotlineNumbers, go_available
from tuidang.testing.phone import said
from tuidang.testing.screening import GENUINE, HIRED, last_call, score
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_only_coordinators_lift_a_block_early_and_it_is_recorded(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    block = Block.objects.create(
        caller_key=caller_key(HIRED),
        policy=Policy.MESSAGE,
        reason="test",
        expires_at=timezone.now() + timedelta(hours=24),
    )
    client.login(username="mei", password=PASSWORD)
    assert client.post(reverse("desk:screening-lift", args=[block.pk])).status_code == 403
    assert client.get(reverse("desk:screening")).status_code == 403
    client.login(username="lin", password=PASSWORD)
    client.post(reverse("desk:screening-lift", args=[block.pk]))
    block.refresh_from_db()
    assert block.lifted_by is not None
    assert block.lifted_by.username == "lin"
    assert ScreeningEvent.objects.filter(kind="lifted", actor__username="lin").exists()
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert last_call().screening_policy == Policy.NORMAL


def test_a_coordinator_blocks_a_caller_by_case_code(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, lin: Volunteer
) -> None:
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    client.login(username="lin", password=PASSWORD)
    response = client.post(
        reverse("desk:screening-block"),
        {"case_code": last_call().case_code, "policy": "message", "hours": 24, "reason": "curses"},
    )
    assert response.status_code == 302
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert "这条热线是为想了解真相" in said(sim)
    bad = client.post(
        reverse("desk:screening-block"),
        {"case_code": "1234567", "policy": "message", "hours": 24, "reason": "curses"},
    )
    assert bad.status_code == 400
    assert "not a valid case code" in bad.text


def test_a_volunteer_cannot_flag_someone_elses_call(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    wing: Volunteer,
) -> None:
    go_available(mei)
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    network.press(sim.sid, "1")
    network.press(network.answer(calls_for("client:mei").get().sid).sid, "1")
    client.login(username="wing", password=PASSWORD)
    assert client.post(reverse("desk:flag", args=[last_call().pk])).status_code == 404
    assert not CallerScore.objects.filter(flagged_at__isnull=False).exists()


def test_the_night_report_counts_calls_flags_actions_and_conversions(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, lin: Volunteer
) -> None:
    score(HIRED, 7)
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    network.dial(from_number=GENUINE, to_number=BANKNOTES_LINE)
    night = (timezone.now().astimezone(CHINA) - timedelta(hours=8)).date()
    Call.objects.update(
        started_at=datetime(night.year, night.month, night.day, 23, 30, tzinfo=CHINA)
    )
    client.login(username="lin", password=PASSWORD)
    page = client.get(reverse("desk:screening"), {"night": night.isoformat()})
    report = page.context["report"]
    assert report.calls == 2
    assert report.flagged == 1
    assert report.actions() == {"message": 1, "normal": 1}
    row = next(row for row in report.hours if row.hour.hour == 23)
    assert row.calls == 2


@pytest.mark.parametrize("night", ["0001-01-01", "9999-12-31", "1999-12-31", "2400-06-01"])
def test_a_night_out_of_range_is_refused_with_a_clear_400(
    night: str, mei: Volunteer, lin: Volunteer
) -> None:
    client = Client(raise_request_exception=False)
    client.login(username="lin", password=PASSWORD)
    page = client.get(reverse("desk:screening"), {"night": night})
    assert page.status_code == 400
    assert "No night report for that date" in page.text
    assert 'data-testid="night-report"' in page.text  # the page, on tonight's report


def test_a_night_that_is_not_a_date_is_refused(lin: Volunteer) -> None:
    client = Client(raise_request_exception=False)
    client.login(username="lin", password=PASSWORD)
    page = client.get(reverse("desk:screening"), {"night": "tomorrow"})
    assert page.status_code == 400
    assert "Enter a valid date" in page.text


def test_the_nights_next_to_the_first_and_the_last_reportable_are_not_linked(
    lin: Volunteer,
) -> None:
    client = Client(raise_request_exception=False)
    client.login(username="lin", password=PASSWORD)
    first = client.get(reverse("desk:screening"), {"night": "2000-01-01"})
    assert first.status_code == 200
    assert "?night=1999-12-31" not in first.text and "?night=2000-01-02" in first.text


def test_the_night_report_says_china_time_and_shows_it(lin: Volunteer) -> None:
    client = Client()
    client.login(username="lin", password=PASSWORD)
    page = client.get(reverse("desk:screening"), {"night": "2026-12-01"}).text
    assert "Night of 2026-12-01 18:00 to 08:00 (China time)" in page
    assert "<td>18:00</td>" in page and "<td>07:00</td>" in page


def test_a_block_is_listed_by_the_case_code_of_its_caller_never_by_the_key(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, lin: Volunteer
) -> None:
    from tuidang.calls.case_codes import format_case_code
    from tuidang.screening.services import block_create

    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    call = last_call()
    block_create(
        caller_key=call.caller_key, policy=Policy.REJECT, hours=2, reason="r", actor=lin.user
    )
    client.login(username="lin", password=PASSWORD)
    page = client.get(reverse("desk:screening")).text
    assert f"The caller of case {format_case_code(call.case_code)}" in page
    assert call.caller_key[:10] not in page


def test_the_chinese_night_report_names_what_screening_did_in_chinese(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, lin: Volunteer
) -> None:
    score(HIRED, 4)
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    client.login(username="lin", password=PASSWORD)
    night = (timezone.now().astimezone(CHINA) - timedelta(hours=8)).date()
    Call.objects.update(
        started_at=datetime(night.year, night.month, night.day, 23, 30, tzinfo=CHINA)
    )
    page = client.get(
        reverse("desk:screening"), {"night": night.isoformat()}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).text
    assert "× screening_group" not in page
    assert "1 × 转给筛查小组" in page
