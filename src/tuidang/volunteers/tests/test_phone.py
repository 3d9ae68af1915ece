"""A volunteer's own phone number is sealed at rest, shown only to the volunteer and to
administrators (who leave an audit event), and opened to ring the volunteer."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tuidang.audit.models import AuditEvent
from tuidang.vault.fields import sealed_columns
from tuidang.volunteers.models import Volunteer

NUMBER = "+33612345678"


@pytest.fixture
def meis_number(mei: Volunteer) -> Volunteer:
    mei.phone_address = NUMBER
    mei.save(update_fields=["phone_address_sealed"])
    return mei


def _stored_row(volunteer: Volunteer) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM volunteers_volunteer WHERE id = %s", [volunteer.pk])
        row = cursor.fetchone()
    return repr(row).encode() + b"".join(
        bytes(value) for value in row if isinstance(value, (bytes, memoryview))
    )


@pytest.mark.django_db
def test_the_number_is_stored_sealed_and_opens_for_ringing(meis_number: Volunteer) -> None:
    assert NUMBER.encode() not in _stored_row(meis_number)
    assert NUMBER[-6:].encode() not in _stored_row(meis_number)
    assert Volunteer.objects.get(pk=meis_number.pk).phone_address == NUMBER
    # Key rotation and backups walk every sealed column: this one is among them.
    assert "volunteers.Volunteer.phone_address_sealed" in {c.label for c in sealed_columns()}


@pytest.mark.django_db
def test_the_volunteer_sees_their_own_number_on_their_settings(
    client: Client, meis_number: Volunteer
) -> None:
    client.force_login(meis_number.user)
    assert NUMBER in client.get(reverse("desk:profile")).text


@pytest.mark.django_db
def test_a_coordinator_sees_a_volunteers_number_nowhere(
    client: Client, meis_number: Volunteer, lin: Volunteer
) -> None:
    lin.user.is_staff = True  # the admin open to them, as the demo sets coordinators up
    lin.user.save(update_fields=["is_staff"])
    client.force_login(lin.user)
    for url in [reverse("desk:team"), reverse("desk:desk"), reverse("desk:profile")]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert NUMBER not in page.text, url
    change = client.get(reverse("admin:volunteers_volunteer_change", args=[meis_number.pk]))
    assert change.status_code == 403
    assert NUMBER not in change.text


@pytest.mark.django_db
def test_an_administrator_reads_and_changes_the_number_and_both_are_audited(
    client: Client, meis_number: Volunteer, ada: Volunteer
) -> None:
    client.force_login(ada.user)
    url = reverse("admin:volunteers_volunteer_change", args=[meis_number.pk])
    page = client.get(url)
    assert NUMBER in page.text
    assert list(AuditEvent.objects.values_list("actor_name", "action", "target_type")) == [
        ("ada", "view", "volunteers.Volunteer")
    ]
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "phone_address": "+33698765432",
            "presence_since_0": "2026-12-04",
            "presence_since_1": "10:00:00",
            "languages-TOTAL_FORMS": "0",
            "languages-INITIAL_FORMS": "0",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content
    meis_number.refresh_from_db()
    assert meis_number.phone_address == "+33698765432"
    assert b"+33698765432" not in _stored_row(meis_number)
    assert AuditEvent.objects.filter(actor_name="ada", action="change").exists()


@pytest.mark.django_db(transaction=True)
def test_migrating_seals_the_numbers_already_stored_and_keeps_them() -> None:
    from django.contrib.auth import get_user_model

    before = [("volunteers", "0004_volunteer_presence_after_callback")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = get_user_model().objects.create_user(username="old", password="x" * 20)
    old.get_model("volunteers", "Volunteer").objects.create(
        user_id=user.pk, display_name="Old", phone_address=NUMBER
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    volunteer = Volunteer.objects.get(user=user)
    assert volunteer.phone_address == NUMBER
    assert NUMBER.encode() not in _stored_row(volunteer)

    executor = MigrationExecutor(connection)
    executor.migrate(before)  # and back: the numbers in clear again
    old = executor.loader.project_state(before).apps
    assert old.get_model("volunteers", "Volunteer").objects.get().phone_address == NUMBER
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
