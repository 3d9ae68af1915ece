"""Counting rules: one person counts once; duplicates and withdrawals are revoked, never
deleted, and the log records both (docs/counting.md)."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration, Revocation
from tuidang.declarations.selectors import public_totals
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect, finish
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.tlog.models import LogEntry
from tuidang.tlog.services import log_checkpoint_sign
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def renounce(
    client: Client, call: Call, organizations: list[str], alias: str = "Wang Ming"
) -> None:
    client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": alias,
            "caller-organizations": organizations,
            "family-TOTAL_FORMS": "0",
            "family-INITIAL_FORMS": "0",
        },
    )
    publish()  # counted once its batch is public


def test_a_person_counts_once_however_many_organizations(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    renounce(client, call, ["party", "youth_league", "young_pioneers"])
    totals = public_totals()
    assert (totals.total, totals.party, totals.youth_league, totals.young_pioneers) == (1, 1, 1, 1)


def test_the_same_caller_alias_and_organizations_again_is_a_duplicate(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client.login(username="mei", password=PASSWORD)
    first = connect(network, mei)
    renounce(client, first, ["party"])
    finish(network, client, first)
    again = connect(network, mei)
    renounce(client, again, ["party"])
    assert Declaration.objects.count() == 2  # both stored...
    revocation = Revocation.objects.get()
    assert revocation.reason == "duplicate" and revocation.revoked_by is None
    assert public_totals().total == 1  # ...one counted
    assert LogEntry.objects.count() == 3  # two declarations and the revocation
    log_checkpoint_sign()
    call_command("verify_log")
    assert "the public total, 1, is what the log counts" in capsys.readouterr().out


def test_another_alias_from_the_same_phone_is_another_person(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    first = connect(network, mei)
    renounce(client, first, ["party"])
    finish(network, client, first)
    again = connect(network, mei)
    renounce(client, again, ["party"], alias="Li Hua")
    assert not Revocation.objects.exists()
    assert public_totals().total == 2


def test_a_coordinator_records_a_withdrawal_and_a_volunteer_cannot(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    renounce(client, call, ["youth_league"])
    declaration = Declaration.objects.get()
    revoke = reverse("desk:revoke", args=[declaration.pk])
    assert client.post(revoke, {"reason": "withdrawn"}).status_code == 403
    client.login(username="lin", password=PASSWORD)
    assert client.post(revoke, {"reason": "deleted"}).status_code == 400
    client.post(revoke, {"reason": "withdrawn"})
    client.post(revoke, {"reason": "withdrawn"})  # twice: still one revocation
    assert public_totals().total == 1  # until its batch is published
    publish()
    revocation = Revocation.objects.get()
    assert revocation.revoked_by is not None
    assert revocation.revoked_by.username == "lin"
    assert Declaration.objects.count() == 1  # never deleted
    totals = public_totals()
    assert (totals.total, totals.youth_league) == (0, 0)
    page = client.get(reverse("desk:open-case"), {"code": call.case_code}).text
    assert "Revoked:" in page and "Withdrawn" in page


def test_rollups_follow_declarations_and_revocations(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    from tuidang.declarations.selectors import counts_by_region
    from tuidang.declarations.services import hotline_today

    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    renounce(client, call, ["party", "youth_league"])
    today = hotline_today()
    assert counts_by_region(since=today, until=today, organization="party") == {"CN-BJ": 1}
    client.login(username="lin", password=PASSWORD)
    declaration = Declaration.objects.get()
    client.post(reverse("desk:revoke", args=[declaration.pk]), {"reason": "withdrawn"})
    publish()
    assert counts_by_region(since=today, until=today, organization="party") == {"CN-BJ": 0}
    assert counts_by_region(since=today, until=today, organization="young_pioneers") == {}
