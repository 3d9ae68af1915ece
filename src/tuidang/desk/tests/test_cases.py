"""A caller rings back and reads out their case code: the volunteer opens the earlier case."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tuidang.calls.case_codes import format_case_code
from tuidang.calls.models import Call
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, PASSWORD, HotlineNumbers, go_available
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


@pytest.fixture
def earlier_case(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> Call:
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    network.press(network.answer(calls_for("client:mei").get().sid).sid, "1")
    call = Call.objects.get()
    client.login(username="mei", password=PASSWORD)
    client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party"],
            "family-TOTAL_FORMS": "0",
            "family-INITIAL_FORMS": "0",
        },
    )
    network.hang_up(caller.sid)
    return Call.objects.get()


def test_a_code_read_out_with_spaces_opens_the_earlier_case(
    client: Client, earlier_case: Call, wing: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    code = format_case_code(earlier_case.case_code)
    page = client.get(reverse("desk:open-case"), {"code": code})
    assert page.status_code == 200
    assert 'data-testid="case-declarations">1<' in page.text
    assert "Banknotes" in page.text and "Completed" in page.text


def test_a_misheard_digit_is_caught_by_the_check_digit(client: Client, earlier_case: Call) -> None:
    code = earlier_case.case_code
    wrong = code[:2] + str((int(code[2]) + 1) % 10) + code[3:]
    page = client.get(reverse("desk:open-case"), {"code": wrong})
    assert page.status_code == 400
    assert "ask the caller to read it again" in page.text
    assert f'value="{wrong}"' in page.text


def test_a_case_from_before_codes_grew_opens_by_its_seven_digits(
    client: Client, earlier_case: Call
) -> None:
    Call.objects.filter(pk=earlier_case.pk).update(case_code="4829172")
    page = client.get(reverse("desk:open-case"), {"code": "482 9172"})
    assert page.status_code == 200
    assert 'data-testid="case-declarations">1<' in page.text


def test_a_code_of_the_wrong_length_says_how_long_codes_are(
    client: Client, earlier_case: Call
) -> None:
    page = client.get(reverse("desk:open-case"), {"code": earlier_case.case_code[:-1]})
    assert page.status_code == 400
    assert "A case code has nine digits" in page.text


def test_a_valid_code_of_no_case_says_so(client: Client, earlier_case: Call) -> None:
    from stdnum import damm

    body = "12345678" if earlier_case.case_code[:8] != "12345678" else "87654321"
    page = client.get(reverse("desk:open-case"), {"code": body + damm.calc_check_digit(body)})
    assert "No case has this code." in page.text


def test_only_volunteers_open_cases(client: Client, earlier_case: Call, charlie: User) -> None:
    client.logout()
    assert client.get(reverse("desk:open-case")).status_code == 302
    client.login(username="charlie", password=PASSWORD)
    assert client.get(reverse("desk:open-case")).status_code == 404
