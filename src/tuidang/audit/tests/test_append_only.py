"""Audit events can be added, never changed or removed: not by the model, not by a queryset,
not by raw SQL through the application's own connection (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tuidang.audit.models import Action, AppendOnlyError, AuditEvent
from tuidang.audit.services import audit_record
from tuidang.volunteers.models import Volunteer


@pytest.fixture
def event(mei: Volunteer) -> AuditEvent:
    return audit_record(actor=mei.user, action=Action.VIEW, target=mei)


def raw(statement: str, params: list[Any]) -> None:
    """Run SQL as an intruder in the application's own connection would."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def stored(event: AuditEvent) -> tuple[str, str, str]:
    row = AuditEvent.objects.values_list("actor_name", "action", "target_id").get(pk=event.pk)
    return row


@pytest.mark.django_db
def test_an_event_names_who_did_what_to_which_record(event: AuditEvent, mei: Volunteer) -> None:
    assert stored(event) == ("mei", "view", str(mei.public_id))
    assert event.target_type == "volunteers.Volunteer"
    assert event.actor == mei.user
    assert event.at is not None


@pytest.mark.django_db
def test_the_model_refuses_to_change_or_delete_an_event(event: AuditEvent) -> None:
    event.action = Action.DELETE
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action=Action.CHANGE)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert stored(event) == ("mei", "view", str(event.target_id))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'change'",
        "UPDATE audit_auditevent SET actor_name = 'someone else' WHERE id = %s",
        "DELETE FROM audit_auditevent",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(event: AuditEvent, statement: str) -> None:
    params = [event.pk] if "%s" in statement else []
    with pytest.raises(IntegrityError, match="append-only"):
        raw(statement, params)
    assert stored(event) == ("mei", "view", event.target_id)


def overwrite(event: AuditEvent) -> None:
    """Write a new row over ``event``'s id: REPLACE on SQLite, an upsert on PostgreSQL."""
    columns = "id, actor_id, actor_name, action, target_type, target_id, at"
    values = "%s, %s, 'someone else', 'change', %s, %s, %s"
    if connection.vendor == "sqlite":
        statement = f"INSERT OR REPLACE INTO audit_auditevent ({columns}) VALUES ({values})"
    else:
        statement = (
            f"INSERT INTO audit_auditevent ({columns}) VALUES ({values}) ON CONFLICT (id) "
            "DO UPDATE SET actor_name = EXCLUDED.actor_name, action = EXCLUDED.action"
        )
    raw(statement, [event.pk, event.actor_id, event.target_type, event.target_id, event.at])


@pytest.mark.django_db
def test_the_database_refuses_to_write_a_new_event_over_an_old_one(event: AuditEvent) -> None:
    with pytest.raises(IntegrityError, match="append-only"):
        overwrite(event)
    assert stored(event) == ("mei", "view", event.target_id)
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_an_event_is_undone_with_the_change_it_records(mei: Volunteer) -> None:
    """Written in the change's transaction: a change that fails leaves no event behind."""

    @transaction.atomic
    def rename_then_fail() -> None:
        Volunteer.objects.filter(pk=mei.pk).update(display_name="Changed")
        audit_record(actor=mei.user, action=Action.CHANGE, target=mei)
        raise RuntimeError("the change fails after its event was written")

    with pytest.raises(RuntimeError):
        rename_then_fail()
    assert not AuditEvent.objects.exists()
    mei.refresh_from_db()
    assert mei.display_name == "Mei"


@pytest.mark.django_db
def test_nobody_anonymous_is_recorded(mei: Volunteer) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ValueError, match="logged-in"):
        audit_record(actor=AnonymousUser(), action=Action.VIEW, target=mei)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_an_account_with_events_cannot_be_deleted(event: AuditEvent, mei: Volunteer) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        mei.user.delete()
    assert stored(event)[0] == "mei"


@pytest.mark.django_db(transaction=True)
def test_emptying_the_whole_database_still_works_and_keeps_the_guard(mei: Volunteer) -> None:
    """`flush` (and the test runner after a transactional test) empties the log too; the
    guard is back as soon as it is done."""
    audit_record(actor=mei.user, action=Action.VIEW, target=mei)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="after", password="unused-password")
    event = audit_record(actor=user, action=Action.VIEW, target=user)
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    with pytest.raises(IntegrityError, match="append-only"):
        overwrite(event)
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "after"
