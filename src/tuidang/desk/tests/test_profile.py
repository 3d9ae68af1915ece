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


def test_the_time_zone_database_is_read_once_not_on_every_request(
    client: Client, mei: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing the zones walks ~600 files: on each request it cost a webhook ~6 ms."""
    import zoneinfo

    from tuidang.lib.zones import time_zone_names

    walks: list[int] = []
    listing = zoneinfo.available_timezones

    def counted() -> set[str]:
        walks.append(1)
        return listing()

    monkeypatch.setattr(zoneinfo, "available_timezones", counted)
    time_zone_names.cache_clear()
    mei.time_zone = "Asia/Taipei"
    mei.save(update_fields=["time_zone"])
    for _ in range(3):
        assert client.get(reverse("public:home")).status_code == 200
    client.login(username="mei", password=PASSWORD)
    for _ in range(3):
        assert "Asia/Taipei" in client.get(reverse("desk:profile")).text
    assert len(walks) <= 1
