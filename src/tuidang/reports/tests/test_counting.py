"""Each definition of docs/reports.md, against calls whose numbers were worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tuidang.calls.models import Call, CallbackOutcome, Voicemail
from tuidang.declarations.services import Person, declaration_record
from tuidang.literature.models import Delivery, Format, Title
from tuidang.literature.services import book_request_create
from tuidang.reports.counting import counts_rebuild, presence_sample, reports_run
from tuidang.reports.models import DayCount, HourCount, ServiceLevel, VolunteerHour
from tuidang.reports.selectors import occupancy, report
from tuidang.reports.tests.helpers import a_call
from tuidang.testing.personas import HotlineNumbers
from tuidang.volunteers.models import Presence, Volunteer

# 10:00 on 2 March 2026 in China (UTC+8) is 02:00 UTC.
TEN = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)
S = Call.State


@pytest.fixture
def morning(numbers: HotlineNumbers, mei: Volunteer) -> None:
    """The morning of 2 March, by hand (seconds after each call started)."""
    banknotes, website = numbers["banknotes"], numbers["website"]
    # Answered after 12 s in the queue (joined 8 s after the call started), 300 s talk.
    first = a_call(
        banknotes,
        started=TEN,
        state=S.COMPLETED,
        queued_after=8,
        connected_after=20,
        ended_after=320,
    )
    # Answered after 45 s, 60 s talk: outside the 20 s threshold.
    second = a_call(
        banknotes,
        started=TEN + timedelta(minutes=5),
        state=S.COMPLETED,
        queued_after=10,
        connected_after=55,
        ended_after=115,
    )
    # Hung up 3 s into the queue: abandoned within 5 s, counted apart.
    a_call(
        banknotes,
        started=TEN + timedelta(minutes=10),
        state=S.ABANDONED,
        queued_after=10,
        ended_after=13,
    )
    # Hung up 30 s into the queue: abandoned.
    a_call(
        banknotes,
        started=TEN + timedelta(minutes=15),
        state=S.ABANDONED,
        queued_after=10,
        ended_after=40,
    )
    # Left the queue after 200 s for voicemail; called back and reached.
    left = a_call(
        banknotes,
        started=TEN + timedelta(minutes=20),
        state=S.VOICEMAIL,
        queued_after=10,
        ended_after=260,
    )
    Voicemail.objects.create(
        call=left, recording_sid="RE1", callback_outcome=CallbackOutcome.REACHED
    )
    # Screened away before any queue.
    a_call(banknotes, started=TEN + timedelta(minutes=25), state=S.SCREENED, ended_after=5)
    # Hung up in the language menu: counted nowhere.
    a_call(banknotes, started=TEN + timedelta(minutes=30), state=S.DISCONNECTED, ended_after=7)
    # Still waiting: not counted until it ends.
    a_call(banknotes, started=TEN + timedelta(minutes=35), state=S.QUEUED, queued_after=9)
    # Cantonese on the website line, an hour later, in Guangxi: answered after exactly 20 s.
    a_call(
        website,
        started=TEN + timedelta(hours=1),
        state=S.COMPLETED,
        language="yue",
        region="CN-GX",
        queued_after=5,
        connected_after=25,
        ended_after=125,
    )
    # Two renunciations on the first call, a book request on the second.
    people = [Person(alias=name, organizations=frozenset({"party"})) for name in ("A", "B")]
    declaration_record(call=first, people=people, recorded_by=mei.user)
    title = Title.objects.create(
        name="Nine Commentaries", language="zh-hans", format=Format.PRINTED
    )
    book_request_create(
        call=second, titles=[title], delivery=Delivery.READ, address="", volunteer=mei
    )


@pytest.mark.django_db
def test_each_definition_counts_the_morning_as_worked_out_by_hand(morning: None) -> None:
    counts_rebuild(first=DAY, last=DAY)
    total = report(first=DAY, last=DAY, by="day").total
    assert total is not None
    assert total.offered == 6  # every call that joined a queue and has ended
    assert total.answered == 3
    assert total.abandoned == 1 and total.abandoned_short == 1
    assert total.voicemails == 1
    assert total.callbacks_made == 1 and total.callbacks_reached == 1
    assert total.screened == 1
    assert total.answered_in_threshold == 2  # 12 s and exactly 20 s; not 45 s
    assert total.answer_seconds == 12 + 45 + 20
    assert total.longest_wait_seconds == 45
    assert total.talk_seconds == 300 + 60 + 100
    assert total.renunciations == 2
    assert total.book_requests == 1
    # Service level: 2 within the threshold of 3 answered and 1 abandoned after 5 s.
    assert total.service_level == pytest.approx(2 / 4)
    assert total.average_answer_seconds == pytest.approx(77 / 3)
    assert total.renunciations_per_answered == pytest.approx(2 / 3)


@pytest.mark.django_db
def test_a_queue_s_own_threshold_decides_what_was_answered_in_time(morning: None) -> None:
    ServiceLevel.objects.create(language="yue", threshold_seconds=10)
    counts_rebuild(first=DAY, last=DAY)
    by_language = {row.key: row for row in report(first=DAY, last=DAY, by="language").rows}
    assert by_language["cmn"].answered_in_threshold == 1
    assert by_language["yue"].answered == 1
    assert by_language["yue"].answered_in_threshold == 0  # 20 s is more than 10 s


@pytest.mark.django_db
def test_the_report_breaks_the_counts_down_by_hour_number_channel_and_province(
    morning: None, numbers: HotlineNumbers
) -> None:
    counts_rebuild(first=DAY, last=DAY)
    by_hour = {row.key: row.offered for row in report(first=DAY, last=DAY, by="hour").rows}
    assert by_hour == {10: 5, 11: 1}  # hours of the day in China time
    by_number = {row.label: row.answered for row in report(first=DAY, last=DAY, by="number").rows}
    assert by_number == {"Banknotes line": 2, "Website line": 1}
    by_channel = {row.key: row.offered for row in report(first=DAY, last=DAY, by="channel").rows}
    assert by_channel == {"banknotes": 5, "website": 1}
    by_province = {row.key: row.offered for row in report(first=DAY, last=DAY, by="province").rows}
    assert by_province == {"CN-GD": 5, "CN-GX": 1}
    assert HourCount.objects.filter(hour=TEN, language="cmn").get().offered == 5


@pytest.mark.django_db
def test_rebuilding_again_changes_nothing(morning: None) -> None:
    counts_rebuild(first=DAY, last=DAY)
    before = list(
        DayCount.objects.order_by("pk").values(
            *[f.name for f in DayCount._meta.fields if f.name != "id"]
        )
    )
    counts_rebuild(first=DAY, last=DAY)
    counts_rebuild(first=DAY, last=DAY)
    after = list(
        DayCount.objects.order_by("pk").values(
            *[f.name for f in DayCount._meta.fields if f.name != "id"]
        )
    )
    assert after == before


@pytest.mark.django_db
def test_the_job_counts_a_call_that_ended_in_the_last_hours(
    numbers: HotlineNumbers,
) -> None:
    now = TEN + timedelta(minutes=30, seconds=0)
    a_call(
        numbers["banknotes"],
        started=TEN,
        state=S.COMPLETED,
        queued_after=5,
        connected_after=10,
        ended_after=100,
    )
    reports_run(now)
    total = report(first=DAY, last=DAY, by="day").total
    assert total is not None and total.answered == 1


@pytest.mark.django_db
def test_occupancy_is_talk_and_wrap_up_over_the_time_on_duty(
    mei: Volunteer, wing: Volunteer
) -> None:
    for minute, presence in enumerate(
        [Presence.AVAILABLE, Presence.ON_CALL, Presence.ON_CALL, Presence.WRAP_UP, Presence.AWAY]
    ):
        Volunteer.objects.filter(pk=mei.pk).update(presence=presence)
        assert presence_sample(now=TEN + timedelta(minutes=minute), weight_seconds=60)
    # A retried sample adds nothing.
    assert not presence_sample(now=TEN, weight_seconds=60)
    [row] = occupancy(first=DAY, last=DAY)
    assert row.volunteer == mei
    assert (row.available_seconds, row.talk_seconds, row.wrap_up_seconds) == (60, 120, 60)
    assert row.occupancy == pytest.approx(3 / 4)
    assert VolunteerHour.objects.count() == 1
