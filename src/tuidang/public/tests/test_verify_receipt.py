"""A declarant checks with their receipt that they are counted, revealing nothing."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tuidang.declarations.models import Declaration
from tuidang.declarations.services import declaration_revoke
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

# 10:17 in Beijing: the hourly batch that publishes it is at 11:00 there.
RECORDED_AT = datetime(2026, 12, 4, 2, 17, tzinfo=UTC)


@pytest.fixture
def receipt(client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer) -> str:
    """The code the desk shows the volunteer to read out, recorded at RECORDED_AT."""
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    with time_machine.travel(RECORDED_AT, tick=False):
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
    match = re.search(r"Code ([A-Z2-7-]+), checkable from about (\d\d:\d\d)", desk)
    assert match, "the desk shows the receipt to read out, and when it can be checked"
    assert match.group(2) == "11:00"
    client.logout()
    return match.group(1)


def check(client: Client, **fields: object) -> str:
    page = client.post(reverse("public:verify"), {"certificate": "", **fields})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    return page.text


def test_a_receipt_not_yet_published_says_when_it_will_be(client: Client, receipt: str) -> None:
    with time_machine.travel(RECORDED_AT, tick=False):
        page = check(client, code=receipt, alias="Wang Ming")
    assert 'data-testid="pending"' in page
    assert "recorded, but not yet published" in page
    assert "11:00 (2026-12-04, Asia/Shanghai time)" in page
    # Nothing of the entry: no number, no organization, no region, no confirmation.
    assert 'data-testid="confirmed"' not in page
    assert "entry " not in page
    assert "Beijing" not in page


def test_a_pending_receipt_with_a_wrong_alias_says_nothing(client: Client, receipt: str) -> None:
    page = check(client, code=receipt, alias="Li Hua")
    assert 'data-testid="not-found"' in page
    assert 'data-testid="pending"' not in page


def test_the_code_and_the_alias_confirm_the_entry_once_published(
    client: Client, receipt: str
) -> None:
    publish()
    certificate = Declaration.objects.get().log_index
    page = check(client, code=receipt, alias="Wang Ming")
    assert 'data-testid="confirmed"' in page
    assert f"entry {certificate} of the log" in page
    # The certificate number, now known, may be typed too.
    page = check(client, certificate=certificate, code=receipt, alias="Wang Ming")
    assert f"entry {certificate} of the log" in page


def test_a_wrong_alias_or_code_confirms_nothing(client: Client, receipt: str) -> None:
    publish()
    certificate = Declaration.objects.get().log_index or 0
    for attempt in (
        {"certificate": certificate, "code": receipt, "alias": "Li Hua"},
        {"code": receipt, "alias": "Li Hua"},
        {"certificate": certificate, "code": "AAAA-AAAA-AAAA-AAAA", "alias": "Wang Ming"},
        {"certificate": certificate + 5, "code": receipt, "alias": "Wang Ming"},
        {"certificate": certificate, "code": "not base32!", "alias": "Wang Ming"},
    ):
        page = check(client, **attempt)
        assert 'data-testid="not-found"' in page
        assert 'data-testid="confirmed"' not in page
        assert 'data-testid="pending"' not in page


def test_a_revocation_shows_once_its_batch_is_published(client: Client, receipt: str) -> None:
    publish()
    declaration_revoke(declaration=Declaration.objects.get(), reason="withdrawn", by=None)
    assert "since been revoked" not in check(client, code=receipt, alias="Wang Ming")
    publish()
    assert "since been revoked" in check(client, code=receipt, alias="Wang Ming")


def test_a_form_with_missing_fields_says_so(client: Client) -> None:
    page = client.post(reverse("public:verify"), {"certificate": "x"})
    assert page.status_code == 400
    assert "Enter a whole number." in page.text
