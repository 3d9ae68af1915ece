"""A declarant checks with their receipt that they are counted, revealing nothing."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.tlog.services import log_checkpoint_sign
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


@pytest.fixture
def receipt(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> tuple[int, str]:
    call = connect(network, mei)
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
    desk = client.get(reverse("desk:desk")).text
    match = re.search(r"Certificate (\d+), code ([A-Z2-7-]+)", desk)
    assert match, "the desk shows the receipt to read out"
    log_checkpoint_sign()
    client.logout()
    return int(match.group(1)), match.group(2)


def test_the_receipt_and_the_alias_confirm_the_entry(
    client: Client, receipt: tuple[int, str]
) -> None:
    certificate, code = receipt
    page = client.post(
        reverse("public:verify"), {"certificate": certificate, "code": code, "alias": "Wang Ming"}
    )
    assert 'data-testid="confirmed"' in page.text
    assert f"entry {certificate} of the log" in page.text
    assert "no-store" in page["Cache-Control"]


def test_a_wrong_alias_or_code_confirms_nothing(client: Client, receipt: tuple[int, str]) -> None:
    certificate, code = receipt
    for attempt in (
        {"certificate": certificate, "code": code, "alias": "Li Hua"},
        {"certificate": certificate, "code": "AAAA-AAAA-AAAA-AAAA", "alias": "Wang Ming"},
        {"certificate": certificate + 5, "code": code, "alias": "Wang Ming"},
        {"certificate": certificate, "code": "not base32!", "alias": "Wang Ming"},
    ):
        page = client.post(reverse("public:verify"), attempt)
        assert 'data-testid="not-found"' in page.text
        assert 'data-testid="confirmed"' not in page.text


def test_a_form_with_missing_fields_says_so(client: Client) -> None:
    page = client.post(reverse("public:verify"), {"certificate": "x"})
    assert page.status_code == 400
    assert "Enter a whole number." in page.text
