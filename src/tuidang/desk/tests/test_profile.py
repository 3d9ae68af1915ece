"""A volunteer's own time zone: every time on their pages is shown in it, zone named."""

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def test_a_volunteer_chooses_their_time_zone_and_sees_times_in_it(
    client: Client, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    from datetime import UTC, datetime

    from tuidang.calls.models import Voicemail
    from tuidang.calls.services import call_receive
    from tuidang.testing.personas import BANKNOTES_LINE, CALLER

    call = call_receive(provider_sid="CA-zone", caller_from=CALLER, dialled=BANKNOTES_LINE)
    assert call is not None
    call.language = "cmn"
    call.save(update_fields=["language"])
    Voicemail.objects.create(
        call=call, recording_sid="RE-zone", created_at=datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    )
    client.login(username="mei", password=PASSWORD)
    assert "2026-12-04 03:00 UTC" in client.get(reverse("desk:callbacks")).text
    saved = client.post(reverse("desk:profile"), {"time_zone": "Europe/Berlin"})
    assert saved.status_code == 302
    assert "2026-12-04 04:00 CET" in client.get(reverse("desk:callbacks")).text


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "x" * 500])
def test_a_time_zone_that_is_not_one_is_refused(client: Client, mei: Volunteer, zone: str) -> None:
    client.login(username="mei", password=PASSWORD)
    response = client.post(reverse("desk:profile"), {"time_zone": zone})
    assert response.status_code == 400
    mei.refresh_from_db()
    assert mei.time_zone == ""
