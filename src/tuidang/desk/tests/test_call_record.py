"""The call record on the desk: what the call was, notes, the caller's history, talking points."""

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import CallDisposition, CallNote, TalkingPoint
from tuidang.declarations.models import Declaration
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect, finish
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_a_call_is_recorded_with_several_types_and_a_sealed_note(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-call", args=[call.pk]),
        {"types": ["renunciation", "book_request"], "note": "Asked for a second call next week."},
    )
    assert response.status_code == 302
    assert set(call.dispositions.values_list("call_type", flat=True)) == {
        "renunciation",
        "book_request",
    }
    note = CallNote.objects.get()
    assert b"second call" not in bytes(note.text_sealed)
    desk = client.get(reverse("desk:desk")).text
    assert "Asked for a second call next week." in desk
    # Unticking a type and saving again leaves what was ticked.
    client.post(reverse("desk:record-call", args=[call.pk]), {"types": ["renunciation"]})
    assert list(call.dispositions.values_list("call_type", flat=True)) == ["renunciation"]


def test_a_record_without_a_type_says_so_and_keeps_the_note(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    response = client.post(
        reverse("desk:record-call", args=[call.pk]), {"note": "Cursed for a minute."}
    )
    assert response.status_code == 400
    assert "Tick at least one" in response.text
    assert "Cursed for a minute." in response.text
    assert not CallDisposition.objects.exists()


def test_a_note_is_read_by_its_author_and_coordinators_only(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    wing: Volunteer,
    lin: Volunteer,
) -> None:
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    client.post(
        reverse("desk:record-call", args=[call.pk]),
        {"types": ["enquiry"], "note": "Lives with a Party secretary."},
    )
    case_page = reverse("desk:open-case")
    code = {"code": call.case_code}
    assert "Lives with a Party secretary." in client.get(case_page, code).text
    client.login(username="wing", password=PASSWORD)
    other = client.get(case_page, code).text
    assert call.case_code[:3] in other
    assert "Lives with a Party secretary." not in other
    client.login(username="lin", password=PASSWORD)
    assert "Lives with a Party secretary." in client.get(case_page, code).text


def test_another_volunteer_cannot_record_or_read_a_call_that_is_not_theirs(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    wing: Volunteer,
) -> None:
    call = connect(network, mei)
    client.login(username="wing", password=PASSWORD)
    response = client.post(
        reverse("desk:record-call", args=[call.pk]), {"types": ["prank"], "note": "x"}
    )
    assert response.status_code == 404
    assert not CallDisposition.objects.exists() and not CallNote.objects.exists()


def test_the_desk_shows_how_often_the_caller_called_before_and_a_harassment_flag(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    first = connect(network, mei)
    client.post(reverse("desk:record-call", args=[first.pk]), {"types": ["harassment"]})
    client.post(reverse("desk:flag", args=[first.pk]))
    finish(network, client, first)
    second = connect(network, mei)
    desk = client.get(reverse("desk:desk")).text
    assert second.pk != first.pk
    assert "1 earlier call" in desk
    assert "Harassment: 1" in desk
    assert 'data-testid="harassment-flag"' in desk


def test_a_first_time_caller_has_no_history(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    assert "First call from this caller." in client.get(reverse("desk:desk")).text


def test_talking_points_in_the_callers_language_are_on_the_desk(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    TalkingPoint.objects.create(
        call_type="harassment", language="cmn", title="当对方骂人时", text="保持平静，讲真相。"
    )
    TalkingPoint.objects.create(
        call_type="harassment", language="en", title="English only", text="..."
    )
    connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    desk = client.get(reverse("desk:desk")).text
    assert "当对方骂人时" in desk
    assert "English only" not in desk


def test_a_statement_is_sealed_and_the_region_can_be_corrected(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    desk = client.get(reverse("desk:desk")).text
    # The call's province is chosen in the list, where the volunteer may choose another.
    assert '<option value="CN-BJ" selected>Beijing</option>' in desk
    client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party"],
            "caller-region": "CN-HE",
            "caller-statement": "I quit the Party of my own free will.",
            "family-TOTAL_FORMS": "0",
            "family-INITIAL_FORMS": "0",
        },
    )
    declaration = Declaration.objects.get()
    assert declaration.region == "CN-HE"
    assert declaration.statement == "I quit the Party of my own free will."
    assert b"free will" not in bytes(declaration.statement_sealed)


def test_only_coordinators_see_the_team(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    assert client.get(reverse("desk:team")).status_code == 403
    client.login(username="lin", password=PASSWORD)
    page = client.get(reverse("desk:team-live")).text
    assert "Mei" in page and "On a call" in page
