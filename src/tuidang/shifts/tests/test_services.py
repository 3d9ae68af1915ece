"""The schedule's rules: slots ahead, no overlapping shifts, the notice to drop, exceptions,
and what happens to a volunteer's presence as their shift starts and ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tuidang.audit.models import Action, AuditEvent
from tuidang.lib.languages import Language
from tuidang.shifts.models import Assignment, Shift
from tuidang.shifts.services import (
    ShiftRefused,
    assignment_drop,
    shift_changes,
    shift_create,
    shift_delete,
    shift_update,
    slot_assign,
    slot_cancel,
    slots_materialise,
)
from tuidang.shifts.times import Oddity
from tuidang.testing.personas import go_available, make_volunteer
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db

# A Monday, in the small hours UTC.
NOW = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)


def weekly(
    start: time = time(22), end: time = time(2), zone: str = "America/Toronto", **extra: object
) -> Shift:
    fields: dict[str, object] = {
        "language": Language.MANDARIN,
        "time_zone": zone,
        "weekly": True,
        "first_date": date(2027, 3, 1),
        "last_date": None,
        "start_time": start,
        "end_time": end,
        "min_heads": 1,
        "target_heads": 2,
        "notice_hours": 24,
        "now": NOW,
    }
    fields.update(extra)
    shift, _notes = shift_create(**fields)  # type: ignore[arg-type]
    return shift


def test_a_weekly_shift_has_its_slots_for_four_weeks_ahead_at_the_right_instants() -> None:
    shift = weekly()
    slots = list(shift.slots.order_by("starts_at"))
    assert [slot.local_date for slot in slots] == [
        date(2027, 3, 1) + timedelta(weeks=n) for n in range(4)
    ]
    # 22:00 in Toronto: 03:00 UTC in winter, 02:00 UTC once the clocks went forward (14 March).
    assert slots[1].starts_at == datetime(2027, 3, 9, 3, 0, tzinfo=UTC)
    assert slots[2].starts_at == datetime(2027, 3, 16, 2, 0, tzinfo=UTC)
    assert slots[2].ends_at == datetime(2027, 3, 16, 6, 0, tzinfo=UTC)
    # The periodic job adds nothing twice.
    assert slots_materialise(now=NOW) == 0
    assert slots_materialise(now=NOW + timedelta(weeks=1)) == 1


def test_the_coordinator_is_told_of_a_wall_time_that_does_not_exist_or_happens_twice() -> None:
    _shift, notes = shift_create(
        language=Language.MANDARIN,
        time_zone="America/Toronto",
        weekly=True,
        first_date=date(2027, 3, 14),
        last_date=None,
        start_time=time(1, 30),
        end_time=time(2, 30),
        min_heads=1,
        target_heads=1,
        notice_hours=24,
        now=NOW,
    )
    gap = [note for note in notes if note.oddity == Oddity.GAP]
    fold = [note for note in notes if note.oddity == Oddity.FOLD]
    assert [(note.local_date, note.wall_time) for note in gap] == [(date(2027, 3, 14), time(2, 30))]
    assert gap[0].instant == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert [note.local_date for note in fold] == [date(2027, 11, 7)]
    assert fold[0].instant == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # the first 01:30


def test_a_target_below_the_minimum_is_refused() -> None:
    with pytest.raises(ShiftRefused, match="below the minimum"):
        weekly(min_heads=3, target_heads=2)
    assert not Shift.objects.exists()


def test_overlapping_shifts_for_one_volunteer_are_refused(mei: Volunteer) -> None:
    night = weekly()
    # Taipei 11:00-13:00 on Tuesday is 22:00-24:00 on Monday in Toronto (EST).
    overlapping = weekly(
        start=time(11), end=time(13), zone="Asia/Taipei", first_date=date(2027, 3, 2)
    )
    slot_assign(slot=night.slots.order_by("starts_at")[0], volunteer=mei, by=mei, now=NOW)
    with pytest.raises(ShiftRefused, match="already on a shift then"):
        slot_assign(slot=overlapping.slots.order_by("starts_at")[0], volunteer=mei, by=mei, now=NOW)
    assert Assignment.objects.filter(volunteer=mei).count() == 1


def test_a_volunteer_drops_their_own_shift_only_before_the_notice_period(mei: Volunteer) -> None:
    shift = weekly()
    first, second = shift.slots.order_by("starts_at")[:2]
    soon = slot_assign(slot=first, volunteer=mei, by=mei, now=NOW)
    later = slot_assign(slot=second, volunteer=mei, by=mei, now=NOW)
    with pytest.raises(ShiftRefused, match="ask a coordinator"):
        # It starts at 03:00 UTC tomorrow: 23 hours' notice, of the 24 the shift asks.
        assignment_drop(assignment=soon, by=mei, now=NOW + timedelta(hours=3))
    assignment_drop(assignment=later, by=mei, now=NOW + timedelta(hours=3))
    assert list(Assignment.objects.filter(volunteer=mei)) == [soon]


def test_a_coordinator_drops_a_volunteer_inside_the_notice_period(
    mei: Volunteer, lin: Volunteer
) -> None:
    slot = weekly().slots.order_by("starts_at")[0]
    assignment = slot_assign(slot=slot, volunteer=mei, by=lin, now=NOW)
    assignment_drop(assignment=assignment, by=lin, now=NOW)
    assert not Assignment.objects.exists()


def test_a_coordinator_putting_someone_on_a_shift_or_off_it_is_in_the_audit_log(
    mei: Volunteer, lin: Volunteer
) -> None:
    first, second = weekly().slots.order_by("starts_at")[:2]
    # A volunteer's own sign-up and drop are theirs to make: nothing to audit.
    own = slot_assign(slot=first, volunteer=mei, by=mei, now=NOW)
    assignment_drop(assignment=own, by=mei, now=NOW - timedelta(days=2))
    assert not AuditEvent.objects.exists()
    put = slot_assign(slot=second, volunteer=mei, by=lin, now=NOW)
    target = str(put.pk)
    assignment_drop(assignment=put, by=lin, now=NOW)
    events = AuditEvent.objects.order_by("pk")
    assert [(e.actor_name, e.action, e.target_type, e.target_id) for e in events] == [
        ("lin", Action.CREATE, "shifts.Assignment", target),
        ("lin", Action.DELETE, "shifts.Assignment", target),
    ]


def test_a_volunteer_cannot_put_someone_else_on_a_shift_or_drop_theirs(mei: Volunteer) -> None:
    other = make_volunteer("bo", [Language.MANDARIN])
    slot = weekly().slots.order_by("starts_at")[3]
    with pytest.raises(ShiftRefused):
        slot_assign(slot=slot, volunteer=other, by=mei, now=NOW)
    theirs = slot_assign(slot=slot, volunteer=other, by=other, now=NOW)
    with pytest.raises(ShiftRefused, match="your own"):
        assignment_drop(assignment=theirs, by=mei, now=NOW)


def test_a_volunteer_signs_up_only_for_a_language_they_take_calls_in(wing: Volunteer) -> None:
    with pytest.raises(ShiftRefused, match="does not take calls in this language"):
        slot_assign(slot=weekly().slots.first(), volunteer=wing, by=wing, now=NOW)  # type: ignore[arg-type]


def test_a_cancelled_occurrence_loses_its_volunteers_and_never_comes_back(mei: Volunteer) -> None:
    shift = weekly()
    holiday = shift.slots.order_by("starts_at")[1]
    slot_assign(slot=holiday, volunteer=mei, by=mei, now=NOW)
    slot_cancel(slot=holiday)
    slots_materialise(now=NOW)
    holiday.refresh_from_db()
    assert holiday.cancelled and not holiday.assignments.exists()
    with pytest.raises(ShiftRefused, match="cancelled"):
        slot_assign(slot=holiday, volunteer=mei, by=mei, now=NOW)


def test_at_the_end_of_a_shift_a_volunteer_is_set_away_after_their_call(mei: Volunteer) -> None:
    slot = weekly().slots.order_by("starts_at")[0]
    slot_assign(slot=slot, volunteer=mei, by=mei, now=NOW)
    go_available(mei)
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.ON_CALL)
    shift_changes(now=slot.ends_at)
    mei.refresh_from_db()
    assert mei.presence == Presence.ON_CALL  # not in the middle of a call
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.WRAP_UP)
    shift_changes(now=slot.ends_at + timedelta(minutes=1))
    mei.refresh_from_db()
    assert mei.presence == Presence.AWAY


def test_at_the_start_of_a_shift_its_volunteers_are_marked_to_be_asked(mei: Volunteer) -> None:
    slot = weekly().slots.order_by("starts_at")[0]
    assignment = slot_assign(slot=slot, volunteer=mei, by=mei, now=NOW)
    assert shift_changes(now=slot.starts_at - timedelta(minutes=1)) == (0, 0)
    assert shift_changes(now=slot.starts_at) == (1, 0)
    assignment.refresh_from_db()
    assert assignment.started


def test_deleting_a_shift_takes_its_volunteers_off_the_dates_ahead_and_keeps_the_past(
    mei: Volunteer, lin: Volunteer
) -> None:
    shift = weekly()
    first, second, *_rest = shift.slots.order_by("starts_at")
    slot_assign(slot=first, volunteer=mei, by=mei, now=NOW)
    ahead = slot_assign(slot=second, volunteer=mei, by=mei, now=NOW)
    with pytest.raises(ShiftRefused, match="Only a coordinator"):
        shift_delete(shift=shift, by=mei, now=NOW)
    # During the first occurrence: it stays, with its volunteer; the rest go.
    during = first.starts_at + timedelta(hours=1)
    assert shift_delete(shift=shift, by=lin, now=during) == 1
    assert [a.slot_id for a in Assignment.objects.all()] == [first.pk]
    assert list(Shift.objects.get().slots.all()) == [first]
    assert slots_materialise(now=during + timedelta(weeks=2)) == 0
    deleted = AuditEvent.objects.get()
    assert (deleted.action, deleted.target_id) == (Action.DELETE, str(ahead.pk))


def test_deleting_a_shift_that_has_not_started_removes_it(lin: Volunteer) -> None:
    shift = weekly()
    assert shift_delete(shift=shift, by=lin, now=NOW) == 0
    assert not Shift.objects.exists()


def change(shift: Shift, by: Volunteer, **extra: object) -> int:
    fields: dict[str, object] = {
        "start_time": shift.start_time,
        "end_time": shift.end_time,
        "last_date": shift.last_date,
        "min_heads": shift.min_heads,
        "target_heads": shift.target_heads,
        "notice_hours": shift.notice_hours,
        "now": NOW,
    }
    fields.update(extra)
    return shift_update(shift=shift, by=by, **fields)  # type: ignore[arg-type]


def test_a_changed_shift_moves_its_volunteers_and_drops_those_past_its_new_last_date(
    mei: Volunteer, lin: Volunteer
) -> None:
    shift = weekly()
    slots = list(shift.slots.order_by("starts_at"))
    for slot in slots[:3]:
        slot_assign(slot=slot, volunteer=mei, by=mei, now=NOW)
    # An hour later, to the 14th only (the third occurrence is the 15th).
    removed = change(shift, lin, start_time=time(23), end_time=time(3), last_date=date(2027, 3, 14))
    assert removed == 1
    on = list(Assignment.objects.filter(volunteer=mei).order_by("starts_at"))
    assert [a.starts_at for a in on] == [
        datetime(2027, 3, 2, 4, 0, tzinfo=UTC),
        datetime(2027, 3, 9, 4, 0, tzinfo=UTC),
    ]
    assert [a.slot.starts_at for a in on] == [a.starts_at for a in on]
    assert Shift.objects.get().slots.count() == 2
    assert slots_materialise(now=NOW + timedelta(weeks=3)) == 0
    assert AuditEvent.objects.get().action == Action.DELETE


def test_a_change_that_would_overlap_a_volunteers_other_shift_is_refused(
    mei: Volunteer, lin: Volunteer
) -> None:
    night = weekly()
    # Tuesdays 01:00-02:00 UTC: after the night shift's 22:00-02:00 Toronto (03:00-07:00 UTC).
    early = weekly(start=time(1), end=time(2), zone="UTC", first_date=date(2027, 3, 2))
    slot_assign(slot=night.slots.order_by("starts_at")[0], volunteer=mei, by=mei, now=NOW)
    slot_assign(slot=early.slots.order_by("starts_at")[0], volunteer=mei, by=mei, now=NOW)
    with pytest.raises(ShiftRefused, match="Mei is already on a shift then"):
        change(night, lin, start_time=time(20))  # 01:00 UTC: over the early one
    assert Shift.objects.get(pk=night.pk).start_time == time(22)
    assert Assignment.objects.get(slot__shift=night).starts_at == datetime(
        2027, 3, 2, 3, 0, tzinfo=UTC
    )
    # Head-counts and notice change without moving anyone.
    assert change(night, lin, min_heads=2, target_heads=3, notice_hours=48) == 0
    assert Shift.objects.get(pk=night.pk).target_heads == 3
