"""The volunteer's desk: presence, the call in front of them, recording renunciations."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, PASSWORD, HotlineNumbers, go_available
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

EMPTY_FAMILY = {"family-TOTAL_FORMS": "1", "family-INITIAL_FORMS": "0"}


@pytest.fixture
def connected_call(network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer) -> Call:
    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    leg = network.answer(calls_for("client:mei").get().sid)
    network.press(leg.sid, "1")
    return Call.objects.get()


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get(reverse("desk:desk"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_account_without_a_volunteer_profile_has_no_desk(client: Client, charlie: User) -> None:
    client.login(username="charlie", password=PASSWORD)
    assert client.get(reverse("desk:desk")).status_code == 404


def test_a_volunteer_goes_available_and_away(client: Client, mei: Volunteer) -> None:
    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:presence"), {"presence": "available"})
    mei.refresh_from_db()
    assert mei.presence == Presence.AVAILABLE
    client.post(reverse("desk:presence"), {"presence": "away"})
    mei.refresh_from_db()
    assert mei.presence == Presence.AWAY


def test_going_available_on_the_desk_takes_a_waiting_caller_at_once(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    # Lin is on another call: on duty, so the caller waits rather than leave a message.
    Volunteer.objects.filter(pk=lin.pk).update(presence=Presence.ON_CALL)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    assert Call.objects.get().state == Call.State.QUEUED
    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:presence"), {"presence": "available"})
    mei.refresh_from_db()
    assert mei.presence == Presence.RINGING
    assert Call.objects.get().state == Call.State.OFFERED
    assert calls_for("client:mei").exists()


def test_a_volunteer_cannot_set_themselves_on_a_call(client: Client, mei: Volunteer) -> None:
    client.login(username="mei", password=PASSWORD)
    response = client.post(reverse("desk:presence"), {"presence": "on_call"}, follow=True)
    mei.refresh_from_db()
    assert mei.presence == Presence.AWAY
    assert "cannot change your presence" in response.text


def test_the_desk_shows_the_call_but_never_the_number(client: Client, connected_call: Call) -> None:
    client.login(username="mei", password=PASSWORD)
    page = client.get(reverse("desk:desk")).text
    assert connected_call.case_code[:3] in page
    assert "Beijing" in page and "Banknotes" in page
    assert "…00" in page  # the last two digits, no more
    assert "13800138000" not in page and "138 0013" not in page


def test_a_form_with_errors_keeps_what_was_typed_and_says_what_is_wrong(
    client: Client, connected_call: Call
) -> None:
    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            **EMPTY_FAMILY,
            "family-0-relationship": "parent",
            "family-0-alias": "Old Wang",
        },
    )
    assert response.status_code == 400
    assert response.text.count("Choose at least one organization.") == 2
    assert "Only record family members who asked for it." in response.text
    assert 'value="Wang Ming"' in response.text and 'value="Old Wang"' in response.text
    assert Declaration.objects.count() == 0


@pytest.mark.parametrize("alias", ["", "   "])
def test_a_renunciation_without_a_name_is_refused_for_its_receipt_could_never_be_checked(
    client: Client, connected_call: Call, alias: str
) -> None:
    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": alias,
            "caller-organizations": ["party"],
            **EMPTY_FAMILY,
            "family-0-relationship": "parent",
            "family-0-alias": alias,
            "family-0-organizations": ["party"],
            "family-0-asked_for_it": "on",
        },
    )
    assert response.status_code == 400
    assert response.text.count("the receipt is checked with it") == 2
    assert Declaration.objects.count() == 0


def test_an_empty_record_is_refused(client: Client, connected_call: Call) -> None:
    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]), EMPTY_FAMILY
    )
    assert response.status_code == 400
    assert "Nothing to record" in response.text


def test_adding_a_family_row_keeps_what_was_typed(client: Client, connected_call: Call) -> None:
    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {
            "caller-alias": "Wang Ming",
            **EMPTY_FAMILY,
            "family-0-alias": "Old Wang",
            "add_family": "1",
        },
    )
    assert response.status_code == 200
    assert 'value="Wang Ming"' in response.text and 'value="Old Wang"' in response.text
    assert 'name="family-1-alias"' in response.text
    assert Declaration.objects.count() == 0


def test_recorded_declarations_keep_the_alias_encrypted(
    client: Client, connected_call: Call
) -> None:
    client.login(username="mei", password=PASSWORD)
    client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party", "youth_league", "young_pioneers"],
            **EMPTY_FAMILY,
        },
    )
    declaration = Declaration.objects.get()
    assert declaration.alias == "Wang Ming"
    assert b"Wang Ming" not in bytes(declaration.alias_sealed)
    assert declaration.organizations() == ["party", "youth_league", "young_pioneers"]
    assert (declaration.channel, declaration.how_heard, declaration.region) == (
        "hotline",
        "banknotes",
        "CN-BJ",
    )


def test_a_volunteer_cannot_record_on_someone_elses_call(
    client: Client, connected_call: Call, wing: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {"caller-renounces": "on", "caller-organizations": ["party"], **EMPTY_FAMILY},
    )
    assert response.status_code == 404
    assert client.post(reverse("desk:hang-up", args=[connected_call.pk])).status_code == 404
    assert Declaration.objects.count() == 0


def test_a_coordinator_can_record_on_any_call(
    client: Client, connected_call: Call, lin: Volunteer
) -> None:
    client.login(username="lin", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party"],
            **EMPTY_FAMILY,
        },
    )
    assert response.status_code == 302
    assert Declaration.objects.count() == 1


def test_the_live_panel_asks_for_a_reload_only_when_the_call_changes(
    client: Client, connected_call: Call
) -> None:
    client.login(username="mei", password=PASSWORD)
    url = reverse("desk:live")
    assert client.get(url, {"call": ""}).get("HX-Refresh") == "true"
    assert client.get(url, {"call": connected_call.pk}).get("HX-Refresh") is None
    # Once the call has left the desk, the page the volunteer is typing in stays put.
    Call.objects.filter(pk=connected_call.pk).update(state=Call.State.COMPLETED)
    Volunteer.objects.filter(user__username="mei").update(presence=Presence.AVAILABLE)
    assert client.get(url, {"call": connected_call.pk}).get("HX-Refresh") is None


def test_a_renunciation_sent_from_a_tab_left_open_after_wrap_up_shows_its_receipt(
    client: Client, network: PhoneNetwork, connected_call: Call
) -> None:
    from tuidang.declarations.services import receipt_code
    from tuidang.testing.desk import finish

    client.login(username="mei", password=PASSWORD)
    finish(network, client, connected_call)  # ended, wrap-up over; a second tab still open
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party"],
            **EMPTY_FAMILY,
        },
        follow=True,
    )
    declaration = Declaration.objects.get()
    assert "1 declaration recorded." in response.text
    assert f"code {receipt_code(declaration)}" in response.text
    assert "no longer on your desk" in response.text


def test_the_desk_follows_the_end_of_the_call_without_a_reload(
    client: Client, connected_call: Call
) -> None:
    client.login(username="mei", password=PASSWORD)
    url = reverse("desk:live")
    shown = client.get(url, {"call": connected_call.pk}).text
    assert "End call" in shown and "Talking with a volunteer" in shown
    # The provider reports the call ended (a worker hung it up, or the caller did).
    Call.objects.filter(pk=connected_call.pk).update(state=Call.State.COMPLETED)
    Volunteer.objects.filter(user__username="mei").update(presence=Presence.WRAP_UP)
    after = client.get(url, {"call": connected_call.pk})
    assert after.get("HX-Refresh") is None  # what is typed stays
    assert "End call" not in after.text and "Talking with a volunteer" not in after.text
    assert "Completed" in after.text
    assert "Finish wrap-up: ready for the next call" in after.text


@pytest.mark.parametrize("total", ["abc", "-3", "", "1e9", "99999999999999999999999"])
def test_a_broken_family_count_answers_the_form_with_an_error_and_records_nothing(
    total: str, connected_call: Call
) -> None:
    client = Client(raise_request_exception=False)
    client.login(username="mei", password=PASSWORD)
    for adding in ({"add_family": "1"}, {}):
        response = client.post(
            reverse("desk:record-declarations", args=[connected_call.pk]),
            {
                "caller-alias": "Wang Ming",
                "caller-renounces": "on",
                "caller-organizations": ["party"],
                "family-TOTAL_FORMS": total,
                "family-INITIAL_FORMS": "0",
                **adding,
            },
        )
        assert response.status_code == 400, adding
        assert "ManagementForm data is missing or has been tampered with" in response.text
        assert 'value="Wang Ming"' in response.text  # what was typed stays
    assert Declaration.objects.count() == 0


def test_adding_family_rows_stops_at_the_most_one_call_records(
    client: Client, connected_call: Call
) -> None:
    from tuidang.declarations.forms import MAX_FAMILY_MEMBERS

    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-declarations", args=[connected_call.pk]),
        {
            "family-TOTAL_FORMS": str(MAX_FAMILY_MEMBERS),
            "family-INITIAL_FORMS": "0",
            "add_family": "1",
        },
    )
    assert response.status_code == 200
    assert f'name="family-{MAX_FAMILY_MEMBERS - 1}-alias"' in response.text
    assert f'name="family-{MAX_FAMILY_MEMBERS}-alias"' not in response.text
    assert Declaration.objects.count() == 0
