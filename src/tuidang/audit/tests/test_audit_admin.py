"""Administrators read the audit log; nobody else does, and nobody edits it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tuidang.audit.models import Action, AuditEvent
from tuidang.audit.services import audit_record

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditevent_changelist")


@pytest.fixture
def event(mei) -> AuditEvent:
    return audit_record(actor=mei.user, action=Action.PLAY, target=mei)


@pytest.fixture
def staff_coordinator(lin):
    """A coordinator with the admin open to them, as the demo sets coordinators up."""
    lin.user.is_staff = True
    lin.user.save(update_fields=["is_staff"])
    return lin


def test_an_administrator_reads_the_log(client, ada, event):
    client.force_login(ada.user)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "volunteers.Volunteer" in page.text and "played" in page.text
    detail = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert "Audit events" in client.get(reverse("admin:index")).text


def test_an_administrator_can_neither_add_change_nor_delete_an_event(client, ada, event):
    client.force_login(ada.user)
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])
    client.post(change_url, {"actor_name": "nobody", "action": "view"})
    delete_url = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert AuditEvent.objects.values_list("actor_name", "action").get() == ("mei", "play")


def test_a_coordinator_with_the_admin_open_cannot_read_the_log(client, staff_coordinator, event):
    client.force_login(staff_coordinator.user)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(CHANGELIST).status_code == 403
    detail = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.get(detail).status_code == 403
    assert "Audit events" not in client.get(reverse("admin:index")).text


def test_volunteers_and_visitors_are_sent_to_the_login(client, mei, event):
    assert client.get(CHANGELIST).status_code == 302
    client.force_login(mei.user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "login" in response["Location"]
