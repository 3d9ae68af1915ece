"""Every read or change of sensitive data by a person leaves exactly one audit event each.

Each test does what a volunteer, a coordinator or an administrator does in the browser
and compares the events written by that one action with what an auditor expects to find.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.audit.models import AuditEvent
from tuidang.calls.models import Call, CallNote, Voicemail
from tuidang.declarations.models import Declaration
from tuidang.literature.models import BookLanguage, BookRequest, Format, Title
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, Clock, HotlineNumbers, go_available
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

ADDRESS = "河北省石家庄市某路12号 王明收"


class Events:
    """The events written since the last look, as an auditor reads them."""

    def __init__(self) -> None:
        self.seen = 0

    def new(self) -> list[tuple[str, str, str, str]]:
        rows = list(
            AuditEvent.objects.filter(pk__gt=self.seen)
            .order_by("pk")
            .values_list("pk", "actor_name", "action", "target_type", "target_id")
        )
        if rows:
            self.seen = rows[-1][0]
        return [row[1:] for row in rows]


@pytest.fixture
def events(db: None) -> Events:
    return Events()


@pytest.fixture
def call(network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer) -> Call:
    """A Mandarin call connected to Mei."""
    go_available(mei)
    sim = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(sim.sid, "1")
    network.press(network.answer(calls_for("client:mei").get().sid).sid, "1")
    return Call.objects.get(provider_sid=sim.sid)


@pytest.fixture
def voicemail(network: PhoneNetwork, clock: Clock, numbers: HotlineNumbers) -> Voicemail:
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")  # nobody on duty: voicemail
    clock.advance(8)
    network.press(caller.sid, "#")
    return Voicemail.objects.get()


def record_declarations(client: Client, call: Call) -> None:
    response = client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "明",
            "caller-organizations": ["party"],
            "family-TOTAL_FORMS": "1",
            "family-INITIAL_FORMS": "0",
            "family-0-relationship": "parent",
            "family-0-asked_for_it": "on",
            "family-0-alias": "母",
            "family-0-organizations": ["youth_league"],
        },
    )
    assert response.status_code == 302, response.content


def test_writing_a_note_creates_it_and_each_showing_of_it_is_a_view(
    client: Client, call: Call, mei: Volunteer, events: Events
) -> None:
    client.force_login(mei.user)
    client.post(
        reverse("desk:record-call", args=[call.pk]),
        {"types": ["renunciation"], "note": "Asked for a second call."},
    )
    note = CallNote.objects.get()
    assert events.new() == [("mei", "create", "calls.CallNote", str(note.public_id))]

    assert "Asked for a second call." in client.get(reverse("desk:desk")).text
    assert events.new() == [("mei", "view", "calls.CallNote", str(note.public_id))]


def test_the_desk_polling_and_a_call_without_notes_write_nothing(
    client: Client, call: Call, mei: Volunteer, events: Events
) -> None:
    client.force_login(mei.user)
    client.get(reverse("desk:desk"))
    client.get(reverse("desk:live"))
    assert events.new() == []


def test_recording_declarations_creates_one_event_per_person(
    client: Client, call: Call, mei: Volunteer, events: Events
) -> None:
    client.force_login(mei.user)
    record_declarations(client, call)
    ids = [str(d.public_id) for d in Declaration.objects.order_by("pk")]
    assert len(ids) == 2
    assert events.new() == [("mei", "create", "declarations.Declaration", i) for i in ids]


def test_opening_a_case_by_its_code_and_revoking_a_declaration(
    client: Client,
    network: PhoneNetwork,
    call: Call,
    mei: Volunteer,
    lin: Volunteer,
    events: Events,
) -> None:
    client.force_login(mei.user)
    record_declarations(client, call)
    client.post(
        reverse("desk:record-call", args=[call.pk]),
        {"types": ["renunciation"], "note": "Will call again."},
    )
    note = CallNote.objects.get()
    events.new()

    client.force_login(lin.user)
    page = client.get(reverse("desk:open-case"), {"code": call.case_code})
    assert "Will call again." in page.text
    assert events.new() == [
        ("lin", "lookup", "calls.Call", call.case_code),  # the code tried
        ("lin", "view", "calls.Call", str(call.pk)),
        ("lin", "view", "calls.CallNote", str(note.public_id)),
        # Each receipt's code is shown on the case: reading it is audited too.
        *[
            ("lin", "view", "declarations.Declaration", str(public_id))
            for public_id in Declaration.objects.order_by("pk").values_list("public_id", flat=True)
        ],
    ]

    declaration = Declaration.objects.order_by("pk").first()
    assert declaration is not None
    client.post(reverse("desk:revoke", args=[declaration.pk]), {"reason": "withdrawn"})
    assert events.new() == [
        ("lin", "change", "declarations.Declaration", str(declaration.public_id))
    ]


def test_a_wrong_case_code_opens_nothing_and_writes_nothing(
    client: Client, call: Call, mei: Volunteer, events: Events
) -> None:
    client.force_login(mei.user)
    client.get(reverse("desk:open-case"), {"code": "1234567"})
    assert events.new() == []


def test_playing_a_voicemail_and_calling_back_are_audited(
    client: Client, voicemail: Voicemail, mei: Volunteer, events: Events
) -> None:
    client.force_login(mei.user)
    client.get(reverse("desk:callbacks"))
    assert events.new() == []  # the list shows no sealed value

    audio = client.get(reverse("desk:callback-audio", args=[voicemail.public_id]))
    assert audio.status_code == 200
    assert events.new() == [("mei", "play", "calls.Voicemail", str(voicemail.public_id))]

    client.post(reverse("desk:callback-call", args=[voicemail.public_id]))
    assert events.new() == [("mei", "call", "calls.Voicemail", str(voicemail.public_id))]


def test_a_volunteer_who_may_not_hear_a_voicemail_leaves_no_play_event(
    client: Client, voicemail: Voicemail, wing: Volunteer, events: Events
) -> None:
    client.force_login(wing.user)
    audio = client.get(reverse("desk:callback-audio", args=[voicemail.public_id]))
    assert audio.status_code == 404
    assert events.new() == []


def test_a_postal_address_is_audited_when_taken_shown_and_deleted(
    client: Client, call: Call, mei: Volunteer, lin: Volunteer, events: Events
) -> None:
    title = Title.objects.create(
        name="九评共产党", language=BookLanguage.SIMPLIFIED, format=Format.PRINTED
    )
    client.force_login(mei.user)
    client.post(
        reverse("desk:books-request", args=[call.pk]),
        {"books-titles": [title.pk], "books-delivery": "post", "books-address": ADDRESS},
    )
    request = BookRequest.objects.get()
    request_id = str(request.public_id)
    assert events.new() == [("mei", "create", "literature.BookRequest", request_id)]

    client.force_login(lin.user)
    assert ADDRESS in client.get(reverse("desk:books")).text
    assert events.new() == [("lin", "view", "literature.BookRequest", request_id)]

    client.post(reverse("desk:books-sent", args=[request.public_id]))
    assert events.new() == [("lin", "change", "literature.BookRequest", request_id)]
    client.get(reverse("desk:books"))
    assert events.new() == []  # the address is gone: nothing left to see


def test_an_administrator_opening_and_changing_sensitive_records_in_the_admin(
    client: Client, call: Call, mei: Volunteer, ada: Volunteer, events: Events
) -> None:
    client.force_login(ada.user)
    page = client.get(reverse("admin:calls_call_change", args=[call.pk]))
    assert page.status_code == 200
    assert events.new() == [("ada", "view", "calls.Call", str(call.pk))]

    url = reverse("admin:volunteers_volunteer_change", args=[mei.pk])
    client.get(url)
    assert events.new() == [("ada", "view", "volunteers.Volunteer", str(mei.public_id))]
    form = {
        "user": mei.user.pk,
        "display_name": "Mei L.",
        "role": "volunteer",
        "phone_address": "+14155550123",
        "presence": mei.presence,
        "presence_since_0": "2026-01-01",
        "presence_since_1": "00:00:00",
        "missed_offers": 0,
        "languages-TOTAL_FORMS": "0",
        "languages-INITIAL_FORMS": "0",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert events.new() == [("ada", "change", "volunteers.Volunteer", str(mei.public_id))]
