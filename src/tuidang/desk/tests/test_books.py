"""Book requests: taken on the desk, fulfilled by coordinators, the address gone once sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.literature.models import BookLanguage, BookRequest, Format, Title
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, PASSWORD, HotlineNumbers, go_available
from tuidang.volunteers.models import Volunteer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

ADDRESS = "河北省石家庄市某路12号 王明收"


@pytest.fixture
def titles(db: None) -> list[Title]:
    return [
        Title.objects.create(
            name="九评共产党", language=BookLanguage.SIMPLIFIED, format=Format.PRINTED
        ),
        Title.objects.create(
            name="转法轮", language=BookLanguage.SIMPLIFIED, format=Format.PRINTED
        ),
    ]


@pytest.fixture
def call(network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer) -> Call:
    go_available(mei)
    sim = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(sim.sid, "1")
    network.press(network.answer(calls_for("client:mei").get().sid).sid, "1")
    return Call.objects.get()


def ask(
    client: Client, call: Call, titles: list[Title], delivery: str, address: str = ""
) -> _MonkeyPatchedWSGIResponse:
    return client.post(
        reverse("desk:books-request", args=[call.pk]),
        {
            "books-titles": [title.pk for title in titles],
            "books-delivery": delivery,
            "books-address": address,
        },
    )


def test_a_book_by_post_is_sealed_shown_to_coordinators_and_forgotten_once_sent(
    client: Client, call: Call, titles: list[Title], mei: Volunteer, lin: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    assert "九评共产党" in client.get(reverse("desk:desk")).text
    assert ask(client, call, titles, "post", ADDRESS).status_code == 302
    request = BookRequest.objects.get()
    assert ADDRESS.encode() not in bytes(request.address_sealed)
    assert request.address == ADDRESS

    assert client.get(reverse("desk:books")).status_code == 403
    client.login(username="lin", password=PASSWORD)
    queue = client.get(reverse("desk:books"))
    assert ADDRESS in queue.text and "no-store" in queue["Cache-Control"]
    client.post(reverse("desk:books-sent", args=[request.public_id]))
    request.refresh_from_db()
    assert request.state == BookRequest.State.SENT
    assert bytes(request.address_sealed) == b""
    assert ADDRESS not in client.get(reverse("desk:books")).text


def test_a_book_by_post_without_an_address_is_refused_and_keeps_the_choice(
    client: Client, call: Call, titles: list[Title], mei: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    response = ask(client, call, titles[:1], "post")
    assert response.status_code == 400
    assert "A book sent by post needs an address." in response.text
    assert f'value="{titles[0].pk}" id="id_books-titles_0" checked' in response.text
    assert not BookRequest.objects.exists()


def test_a_book_read_over_the_phone_keeps_no_address(
    client: Client, call: Call, titles: list[Title], mei: Volunteer
) -> None:
    client.login(username="mei", password=PASSWORD)
    ask(client, call, titles, "read", ADDRESS)
    assert bytes(BookRequest.objects.get().address_sealed) == b""


def test_a_volunteer_cannot_add_requests_to_someone_elses_call(
    client: Client, call: Call, titles: list[Title], wing: Volunteer
) -> None:
    client.login(username="wing", password=PASSWORD)
    assert ask(client, call, titles, "read").status_code == 404


def test_a_link_records_where_to_send_it_and_coordinators_see_the_case_code_grouped(
    client: Client, call: Call, titles: list[Title], mei: Volunteer, lin: Volunteer
) -> None:
    from tuidang.calls.case_codes import format_case_code

    client.login(username="mei", password=PASSWORD)
    refused = ask(client, call, titles, "link")
    assert refused.status_code == 400
    assert "A link needs somewhere to be sent" in refused.text
    assert ask(client, call, titles, "link", "wangming@example.org").status_code == 302
    request = BookRequest.objects.get()
    assert request.address == "wangming@example.org"
    assert b"wangming" not in bytes(request.address_sealed)
    client.login(username="lin", password=PASSWORD)
    queue = client.get(reverse("desk:books")).text
    assert "Send the link to" in queue and "wangming@example.org" in queue
    assert format_case_code(call.case_code) in queue
