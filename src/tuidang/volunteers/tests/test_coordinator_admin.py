"""Coordinators find in the admin what the desk tells them to manage there."""

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.literature.models import Title
from tuidang.testing.personas import give_second_factor
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_coordinator(lin: Volunteer) -> Volunteer:
    """A coordinator with the admin open to them, as the demo sets coordinators up."""
    lin.user.is_staff = True
    lin.user.save(update_fields=["is_staff"])
    return lin


def test_a_coordinator_adds_a_book_title_in_the_admin(
    client: Client, staff_coordinator: Volunteer
) -> None:
    client.force_login(staff_coordinator.user)
    index = client.get(reverse("admin:index")).text
    for section in ["Titles", "Talking points", "Queues", "Number prompts"]:
        assert section in index, section
    client.post(
        reverse("admin:literature_title_add"),
        {"name": "转法轮", "language": "zh-hans", "format": "printed", "active": "on"},
    )
    assert Title.objects.filter(name="转法轮").exists()


def test_a_staff_account_that_is_no_coordinator_gets_nothing_by_role(
    client: Client, mei: Volunteer
) -> None:
    mei.user.is_staff = True
    mei.user.save(update_fields=["is_staff"])
    give_second_factor(mei.user)
    client.force_login(mei.user)
    assert client.get(reverse("admin:literature_title_add")).status_code == 403
