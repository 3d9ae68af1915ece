"""Shifts on the desk: signing up and dropping, the coordinator's pages, coverage and its
CSV, and the calendar feed read back by an iCalendar parser."""

from __future__ import annotations

import csv
import io
import re
from datetime import time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from tuidang.calls.case_codes import new_case_code
from tuidang.calls.models import Call
from tuidang.desk.poll import versions_current, volunteer_key
from tuidang.lib.languages import Language
from tuidang.shifts.models import Assignment, CalendarFeed, Shift, Slot
from tuidang.shifts.services import shift_create, slot_assign
from tuidang.testing.personas import BANKNOTES_LINE, PASSWORD, HotlineNumbers, make_volunteer
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def night_shift(**extra: object) -> Shift:
    """Weekly, 22:00 to 02:00 in Toronto, from tomorrow (Toronto's date)."""
    fields: dict[str, object] = {
        "language": Language.MANDARIN,
        "time_zone": "America/Toronto",
        "weekly": True,
        "first_date": timezone.now().date() + timedelta(days=1),
        "last_date": None,
        "start_time": time(22),
        "end_time": time(2),
        "min_heads": 1,
        "target_heads": 2,
        "notice_hours": 24,
    }
    fields.update(extra)
    shift, _notes = shift_create(**fields)  # type: ignore[arg-type]
    return shift


def coordinator_client(client: Client, lin: Volunteer) -> Client:
    client.login(username="lin", password=PASSWORD)
    return client


def feed_url(client: Client) -> str:
    response = client.post(reverse("desk:feed-new"), follow=True)
    found = re.search(r"http://testserver(/shifts/feed/[^\s<]+\.ics)", response.text)
    assert found is not None
    return found.group(1)


def test_a_volunteer_signs_up_for_an_open_slot_and_sees_it_in_their_zone(
    client: Client, mei: Volunteer
) -> None:
    mei.time_zone = "Asia/Taipei"
    mei.save(update_fields=["time_zone"])
    slot = night_shift().slots.order_by("starts_at").first()
    assert slot is not None
    client.login(username="mei", password=PASSWORD)
    page = client.get(reverse("desk:shifts")).text
    assert "Sign up" in page
    client.post(reverse("desk:slot-sign-up", args=[slot.pk]))
    mine = client.get(reverse("desk:shifts")).text
    start = slot.starts_at.astimezone(mei.zone())
    assert f"{start:%Y-%m-%d} {start:%H:%M}" in mine.split("Open shifts")[0]
    assert Assignment.objects.filter(volunteer=mei, slot=slot).exists()


def test_an_overlapping_sign_up_is_refused_with_a_clear_message(
    client: Client, mei: Volunteer
) -> None:
    night = night_shift().slots.order_by("starts_at").first()
    # 12:00-14:00 in Taipei is 23:00-01:00 in Toronto (EST) or 00:00-02:00 (EDT).
    assert night is not None
    taipei_date = night.starts_at.astimezone(Shift(time_zone="Asia/Taipei").zone()).date()
    other = night_shift(
        time_zone="Asia/Taipei",
        start_time=time(12),
        end_time=time(14),
        first_date=taipei_date,
        weekly=False,
    )
    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:slot-sign-up", args=[night.pk]))
    response = client.post(reverse("desk:slot-sign-up", args=[other.slots.get().pk]), follow=True)
    assert "Mei is already on a shift then" in response.text
    assert Assignment.objects.filter(volunteer=mei).count() == 1


def test_a_volunteer_cannot_drop_a_shift_inside_its_notice_but_a_coordinator_can(
    client: Client, mei: Volunteer, lin: Volunteer
) -> None:
    now = timezone.now()
    start = now + timedelta(hours=2)
    shift = night_shift(
        time_zone="UTC",
        weekly=False,
        first_date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=(start + timedelta(hours=2)).time().replace(microsecond=0),
    )
    assignment = slot_assign(slot=shift.slots.get(), volunteer=mei, by=mei)
    client.login(username="mei", password=PASSWORD)
    response = client.post(reverse("desk:shift-drop", args=[assignment.pk]), follow=True)
    assert "ask a coordinator" in response.text
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    client.logout()
    coordinator_client(client, lin)
    client.post(reverse("desk:shift-drop", args=[assignment.pk]), {"back": "slot"})
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


def test_a_volunteer_cannot_drop_someone_elses_shift(client: Client, mei: Volunteer) -> None:
    bo = make_volunteer("bo", [Language.MANDARIN])
    slot = night_shift().slots.order_by("starts_at").last()
    assert slot is not None
    theirs = slot_assign(slot=slot, volunteer=bo, by=bo)
    client.login(username="mei", password=PASSWORD)
    assert client.post(reverse("desk:shift-drop", args=[theirs.pk])).status_code == 404
    assert Assignment.objects.filter(pk=theirs.pk).exists()


def test_the_feed_holds_every_shift_of_its_volunteer_at_its_utc_instant_with_a_reminder(
    client: Client, mei: Volunteer
) -> None:
    bo = make_volunteer("bo", [Language.MANDARIN])
    slots = list(night_shift().slots.order_by("starts_at"))
    for slot in slots:
        slot_assign(slot=slot, volunteer=mei, by=mei)
        slot_assign(slot=slot, volunteer=bo, by=bo)
    client.login(username="mei", password=PASSWORD)
    url = feed_url(client)
    client.logout()
    response = client.get(url)  # a calendar app: no login
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("dtstart"))
    assert [(e.decoded("dtstart"), e.decoded("dtend")) for e in events] == [
        (slot.starts_at, slot.ends_at) for slot in slots
    ]
    assert all(event.decoded("dtstart").utcoffset() == timedelta(0) for event in events)
    assert all(event.walk("VALARM") for event in events)
    assert b"Bo" not in response.content  # no other volunteer's name
    assert not CalendarFeed.objects.filter(token_sha256__contains=url.rsplit("/", 1)[1][:-4])


def test_a_feed_url_shows_only_its_owners_shifts_and_a_revoked_one_is_gone_at_once(
    client: Client, mei: Volunteer
) -> None:
    bo = make_volunteer("bo", [Language.MANDARIN])
    first, second = night_shift().slots.order_by("starts_at")[:2]
    slot_assign(slot=first, volunteer=mei, by=mei)
    slot_assign(slot=second, volunteer=bo, by=bo)
    client.login(username="bo", password=PASSWORD)
    bos = feed_url(client)
    client.login(username="mei", password=PASSWORD)
    meis = feed_url(client)
    starts = [
        e.decoded("dtstart") for e in Calendar.from_ical(client.get(meis).content).walk("VEVENT")
    ]
    assert starts == [first.starts_at]
    client.post(reverse("desk:feed-revoke"))
    assert client.get(meis).status_code == 404
    assert client.get(bos).status_code == 200
    assert client.get("/shifts/feed/not-a-token.ics").status_code == 404


def test_the_coverage_page_shows_the_gap_narrow_as_volunteers_sign_up(
    client: Client, mei: Volunteer, lin: Volunteer
) -> None:
    slot = night_shift().slots.order_by("starts_at").first()
    assert slot is not None
    coordinator_client(client, lin)
    csv_url = reverse("desk:coverage-csv") + "?language=cmn"

    def row() -> dict[str, str]:
        rows = csv.DictReader(io.StringIO(client.get(csv_url).content.decode()))
        wanted = slot.starts_at.strftime("%Y-%m-%dT%H:%MZ")
        return next(r for r in rows if r["starts_utc"] == wanted)

    assert row()["scheduled"] == "0" and row()["gap"] == "gap" and row()["target"] == "2"
    page = client.get(reverse("desk:coverage") + "?language=cmn").text
    assert reverse("desk:slot", args=[slot.pk]) in page
    slot_assign(slot=slot, volunteer=mei, by=mei)
    assert row()["scheduled"] == "1" and row()["gap"] == "short"
    slot_assign(slot=slot, volunteer=lin, by=lin)
    assert row()["scheduled"] == "2" and row()["gap"] == ""


def test_coverage_expects_the_calls_of_the_same_hour_over_eight_weeks(
    client: Client, lin: Volunteer, numbers: HotlineNumbers
) -> None:
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    for weeks in range(1, 9):  # one call a week in that hour: one expected
        for extra in range(2 if weeks <= 4 else 1):
            Call.objects.create(
                provider_sid=f"CA-{weeks}-{extra}",
                hotline_number=numbers["banknotes"],
                case_code=new_case_code(),
                language=Language.MANDARIN,
                started_at=hour - timedelta(weeks=weeks) + timedelta(minutes=10),
            )
    Call.objects.create(
        provider_sid="CA-old",
        hotline_number=numbers["banknotes"],
        case_code=new_case_code(),
        language=Language.MANDARIN,
        started_at=hour - timedelta(weeks=9),
    )
    coordinator_client(client, lin)
    rows = csv.DictReader(
        io.StringIO(client.get(reverse("desk:coverage-csv") + "?language=cmn").content.decode())
    )
    expected = {r["starts_utc"]: r["expected_calls"] for r in rows}
    assert expected[hour.strftime("%Y-%m-%dT%H:%MZ")] == "1.5"
    assert expected[(hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")] == "0.0"


def test_a_coordinator_creates_a_shift_and_is_told_of_a_time_that_does_not_exist(
    client: Client, lin: Volunteer
) -> None:
    coordinator_client(client, lin)
    form = {
        "language": "cmn",
        "time_zone": "America/Toronto",
        "weekly": "on",
        "first_date": "2026-12-06",
        "start_time": "02:30",
        "end_time": "04:00",
        "min_heads": "1",
        "target_heads": "2",
        "notice_hours": "24",
    }
    response = client.post(reverse("desk:shift-new"), form, follow=True)
    assert "2027-03-14 02:30 does not exist in America/Toronto" in response.text
    assert Shift.objects.get().slots.exists()


def test_a_coordinator_makes_a_shift_for_one_hotline_number(
    client: Client, lin: Volunteer, numbers: HotlineNumbers
) -> None:
    coordinator_client(client, lin)
    page = client.get(reverse("desk:shift-new"))
    assert f"({BANKNOTES_LINE})" in page.text
    form = {
        "language": "cmn",
        "time_zone": "Asia/Taipei",
        "weekly": "on",
        "first_date": "2026-12-06",
        "start_time": "09:00",
        "end_time": "13:00",
        "min_heads": "1",
        "target_heads": "2",
        "notice_hours": "24",
        "number": BANKNOTES_LINE,
    }
    client.post(reverse("desk:shift-new"), form, follow=True)
    shift = Shift.objects.get()
    assert shift.number == BANKNOTES_LINE
    slot = client.get(reverse("desk:slot", args=[shift.slots.order_by("starts_at")[0].pk]))
    assert re.search(r'data-testid="slot-number">\+18005550100<', slot.text)
    # A number that is not one of the hotline's is refused, the rest kept.
    response = client.post(reverse("desk:shift-new"), {**form, "number": "+15550000000"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert Shift.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("end_time", "02:30", "cannot start and end at the same time"),
        ("target_heads", "0", "Ensure this value is greater than or equal to 1"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
        ("first_date", "2026-02-30", "Enter a valid date"),
    ],
)
def test_a_bad_shift_is_refused_and_what_was_typed_is_kept(
    client: Client, lin: Volunteer, field: str, value: str, message: str
) -> None:
    coordinator_client(client, lin)
    form = {
        "language": "cmn",
        "time_zone": "Asia/Taipei",
        "weekly": "on",
        "first_date": "2026-12-06",
        "start_time": "02:30",
        "end_time": "04:00",
        "min_heads": "1",
        "target_heads": "2",
        "notice_hours": "12",
        field: value,
    }
    response = client.post(reverse("desk:shift-new"), form)
    assert response.status_code == 400
    assert message in response.text
    assert 'value="12"' in response.text
    assert not Shift.objects.exists()


def test_only_coordinators_reach_the_coverage_page_and_slots(
    client: Client, mei: Volunteer
) -> None:
    slot = night_shift().slots.first()
    assert slot is not None
    client.login(username="mei", password=PASSWORD)
    assert client.get(reverse("desk:coverage")).status_code == 403
    assert client.get(reverse("desk:slot", args=[slot.pk])).status_code == 403
    assert client.post(reverse("desk:slot-cancel", args=[slot.pk])).status_code == 403
    assert not Slot.objects.filter(cancelled=True).exists()


def test_an_away_volunteer_on_shift_is_asked_to_go_available(
    client: Client, mei: Volunteer
) -> None:
    now = timezone.now()
    start = now - timedelta(minutes=5)
    shift = night_shift(
        time_zone="UTC",
        weekly=False,
        first_date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=(now + timedelta(hours=1)).time().replace(microsecond=0),
    )
    client.login(username="mei", password=PASSWORD)
    assert "Your shift has started" not in client.get(reverse("desk:desk")).text
    slot_assign(slot=shift.slots.get(), volunteer=mei, by=mei)
    assert "Your shift has started" in client.get(reverse("desk:desk")).text


def test_a_coordinator_keeps_a_queues_calls_for_volunteers_on_shift(
    client: Client,
    lin: Volunteer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tuidang.shifts.selectors import off_shift_fallback

    assert off_shift_fallback(Language.MANDARIN)  # read once: now in the cache
    coordinator_client(client, lin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("desk:queue-shifts"), {"language": "cmn"})  # box unticked
    assert not off_shift_fallback(Language.MANDARIN)
    page = client.get(reverse("desk:coverage") + "?language=cmn").text
    assert 'name="fallback" checked' not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("desk:queue-shifts"), {"language": "cmn", "fallback": "on"})
    assert off_shift_fallback(Language.MANDARIN)
    assert client.post(reverse("desk:queue-shifts"), {"language": "xx"}).status_code == 302


def test_a_shift_starting_refreshes_its_volunteers_desk(
    mei: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    from tuidang.desk import poll
    from tuidang.shifts.services import shift_changes

    slot = night_shift().slots.order_by("starts_at").first()
    assert slot is not None
    slot_assign(slot=slot, volunteer=mei, by=mei)
    key = poll.volunteer_key(mei.pk)
    before = poll.versions_current([key])
    with django_capture_on_commit_callbacks(execute=True):
        shift_changes(now=slot.starts_at - timedelta(minutes=1))  # not yet
    assert poll.versions_current([key]) == before
    with django_capture_on_commit_callbacks(execute=True):
        shift_changes(now=slot.starts_at)
    assert poll.versions_current([key]) != before


def test_a_coordinator_deletes_a_shift_and_its_volunteers_desk_is_told(
    client: Client, lin: Volunteer, mei: Volunteer, django_capture_on_commit_callbacks: Any
) -> None:
    shift = night_shift()
    slot = shift.slots.order_by("starts_at")[1]
    slot_assign(slot=slot, volunteer=mei, by=mei)
    coordinator_client(client, lin)
    page = client.get(reverse("desk:slot", args=[slot.pk]))
    assert "Delete this shift from now on" in page.text
    (seen,) = versions_current([volunteer_key(mei.pk)])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("desk:shift-delete", args=[shift.pk]), follow=True)
    assert "1 volunteer was taken off its dates ahead" in response.text
    assert not Assignment.objects.filter(volunteer=mei).exists()
    # Mei's desk poll no longer matches: her desk shows her schedule without it.
    assert versions_current([volunteer_key(mei.pk)]) != [seen]


def test_a_coordinator_changes_a_shift_and_a_bad_change_keeps_what_was_typed(
    client: Client, lin: Volunteer, mei: Volunteer
) -> None:
    shift = night_shift()
    slot = shift.slots.order_by("starts_at")[1]
    slot_assign(slot=slot, volunteer=mei, by=mei)
    coordinator_client(client, lin)
    page = client.get(reverse("desk:shift-edit", args=[shift.pk]))
    assert 'value="22:00"' in page.text
    form = {
        "start_time": "23:00",
        "end_time": "23:00",
        "min_heads": "1",
        "target_heads": "2",
        "notice_hours": "36",
    }
    bad = client.post(reverse("desk:shift-edit", args=[shift.pk]), form)
    assert bad.status_code == 400
    assert "cannot start and end at the same time" in bad.text
    assert 'value="36"' in bad.text
    good = client.post(
        reverse("desk:shift-edit", args=[shift.pk]), {**form, "end_time": "03:00"}, follow=True
    )
    assert "0 volunteers were taken off dates it no longer has" in good.text
    moved = Assignment.objects.get(volunteer=mei)
    assert moved.starts_at == slot.starts_at + timedelta(hours=1)
    assert Shift.objects.get().notice_hours == 36
