"""Coordinators moderate statements: shown masked, published as the edited copy, or
rejected with a reason; volunteers cannot."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.declarations.models import RejectionReason, Statement, StatementStatus
from tuidang.testing.declaring import declare, person
from tuidang.testing.personas import PASSWORD
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(client: Client) -> Statement:
    declare(
        client,
        person("you", "明心", statement="我退出共青团。电话13812345678，找我。", consent=True),
    )
    return Statement.objects.get()


def test_the_coordinator_sees_the_statement_masked_and_publishes_an_edited_copy(
    client: Client, lin: Volunteer, statement: Statement
) -> None:
    client.login(username="lin", password=PASSWORD)
    queue = client.get(reverse("desk:statements"))
    assert "13812345678" not in queue.text
    assert "[☎ ***]" in queue.text
    response = client.post(
        reverse("desk:statement-decide", args=[statement.pk]),
        {"decision": "approve", "alias": "明心", "text": "我退出共青团。"},
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PUBLISHED
    assert statement.text == "我退出共青团。"
    # The declarant's words are untouched, sealed on the declaration.
    assert "13812345678" in statement.declaration.statement
    assert "我退出共青团。" in client.get(reverse("public:statements")).text


def test_publishing_with_no_text_keeps_what_was_typed_and_says_why(
    client: Client, lin: Volunteer, statement: Statement
) -> None:
    client.login(username="lin", password=PASSWORD)
    response = client.post(
        reverse("desk:statement-decide", args=[statement.pk]),
        {"decision": "approve", "alias": "改过的名字", "text": " "},
    )
    assert response.status_code == 400
    assert "Write the text to publish." in response.text
    assert 'value="改过的名字"' in response.text
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PENDING


def test_a_rejected_statement_is_never_published(
    client: Client, lin: Volunteer, statement: Statement
) -> None:
    client.login(username="lin", password=PASSWORD)
    client.post(
        reverse("desk:statement-decide", args=[statement.pk]),
        {"decision": "reject", "reason": RejectionReason.ABUSIVE},
    )
    statement.refresh_from_db()
    assert statement.status == StatementStatus.REJECTED
    assert "no-statements" in client.get(reverse("public:statements")).text


def test_a_volunteer_cannot_moderate(client: Client, mei: Volunteer, statement: Statement) -> None:
    client.login(username="mei", password=PASSWORD)
    assert client.get(reverse("desk:statements")).status_code == 403
    response = client.post(
        reverse("desk:statement-decide", args=[statement.pk]),
        {"decision": "approve", "alias": "x", "text": "y"},
    )
    assert response.status_code == 403
