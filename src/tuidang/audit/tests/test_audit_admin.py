"""Administrators read the audit log; nobody else does, and nobody edits it."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tuidang.audit.admin import AuditedAdmin
from tuidang.audit.models import Action, AuditEvent
from tuidang.audit.services import audit_record
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditevent_changelist")


@pytest.fixture
def event(mei: Volunteer) -> AuditEvent:
    return audit_record(actor=mei.user, action=Action.PLAY, target=mei)


@pytest.fixture
def staff_coordinator(lin: Volunteer) -> Volunteer:
    """A coordinator with the admin open to them, as the demo sets coordinators up."""
    lin.user.is_staff = True
    lin.user.save(update_fields=["is_staff"])
    return lin


def test_an_administrator_reads_the_log(client: Client, ada: Volunteer, event: AuditEvent) -> None:
    client.force_login(ada.user)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "volunteers.Volunteer" in page.text and "played" in page.text
    detail = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert "Audit events" in client.get(reverse("admin:index")).text


def test_an_administrator_can_neither_add_change_nor_delete_an_event(
    client: Client, ada: Volunteer, event: AuditEvent
) -> None:
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


def test_a_coordinator_with_the_admin_open_cannot_read_the_log(
    client: Client, staff_coordinator: Volunteer, event: AuditEvent
) -> None:
    client.force_login(staff_coordinator.user)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(CHANGELIST).status_code == 403
    detail = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.get(detail).status_code == 403
    assert "Audit events" not in client.get(reverse("admin:index")).text


def test_volunteers_and_visitors_are_sent_to_the_login(
    client: Client, mei: Volunteer, event: AuditEvent
) -> None:
    assert client.get(CHANGELIST).status_code == 302
    client.force_login(mei.user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "login" in response["Location"]


# Besides any model with a sealed field: the people, their second factors, the calls.
SENSITIVE = {"auth.User", "mfa.Authenticator", "calls.Call", "volunteers.Volunteer"}


def test_every_sensitive_model_in_the_admin_is_audited() -> None:
    registered = admin.site._registry
    assert {model._meta.label for model in registered} >= SENSITIVE
    for model, model_admin in registered.items():
        sealed = any(field.name.endswith("_sealed") for field in model._meta.fields)
        if sealed or model._meta.label in SENSITIVE:
            assert isinstance(model_admin, AuditedAdmin), model._meta.label


def test_an_administrator_setting_a_password_or_opening_a_second_factor_is_audited(
    client: Client, ada: Volunteer, lin: Volunteer
) -> None:
    client.force_login(ada.user)
    url = reverse("admin:auth_user_password_change", args=[lin.user.pk])
    new_password = "a-new-long-passphrase-42"
    response = client.post(url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    lin.user.refresh_from_db()
    assert lin.user.check_password(new_password)
    assert list(AuditEvent.objects.values_list("actor_name", "action", "target_type")) == [
        ("ada", "change", "auth.User")
    ]

    authenticator = Authenticator.objects.get(user=lin.user, type=Authenticator.Type.TOTP)
    page = client.get(reverse("admin:mfa_authenticator_change", args=[authenticator.pk]))
    assert page.status_code == 200
    newest = AuditEvent.objects.first()
    assert newest is not None
    assert (newest.action, newest.target_type, newest.target_id) == (
        "view",
        "mfa.Authenticator",
        str(authenticator.pk),
    )
