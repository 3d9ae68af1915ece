"""Writing the schedule: shifts and their slots, signing up and dropping, the periodic jobs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record, audit_record_many
from tuidang.shifts import times
from tuidang.shifts.models import Assignment, CalendarFeed, QueueShifts, Shift, Slot, token_hash
from tuidang.shifts.selectors import fallback_cache_key
from tuidang.volunteers.models import Presence, Volunteer
from tuidang.volunteers.services import PresenceNotAllowed, volunteer_set_presence

SLOTS_JOB = "shift-slots"
SHIFT_CHANGES_JOB = "shift-changes"
# How far ahead slots exist; the coverage page shows 14 days of them.
HORIZON_DAYS = 28
# How far ahead the coordinator is told of odd wall times when creating a shift.
NOTES_DAYS = 366


class ShiftRefused(Exception):
    """A change to the schedule that is not allowed; its message says why, to a person."""


@dataclass(frozen=True)
class WallTimeNote:
    """An occurrence whose wall time is odd on its date, to tell the coordinator."""

    local_date: date
    wall_time: time
    oddity: times.Oddity
    instant: datetime  # where it lands, UTC
    skipped: bool = False  # the occurrence does not happen at all


def shift_notes(shift: Shift, *, today: date) -> list[WallTimeNote]:
    """The dates of the year ahead on which the shift's wall times do not exist or happen
    twice, and where those occurrences land instead."""
    zone = shift.zone()
    notes = []
    for day in _dates(shift, today, today + timedelta(days=NOTES_DAYS)):
        found = times.occurrence(day, shift.start_time, shift.end_time, zone)
        if found is None:
            start, oddity = times.resolve(day, shift.start_time, zone)
            notes.append(
                WallTimeNote(day, shift.start_time, oddity or times.Oddity.GAP, start, True)
            )
            continue
        if found.start_oddity:
            notes.append(WallTimeNote(day, shift.start_time, found.start_oddity, found.starts_at))
        if found.end_oddity:
            notes.append(WallTimeNote(day, shift.end_time, found.end_oddity, found.ends_at))
    return notes


def _dates(shift: Shift, since: date, until: date) -> list[date]:
    if not shift.weekly:
        return [shift.first_date] if since <= shift.first_date < until else []
    return list(times.weekly_dates(shift.first_date, shift.last_date, since, until))


def shift_create(
    *,
    language: str,
    time_zone: str,
    weekly: bool,
    first_date: date,
    last_date: date | None,
    start_time: time,
    end_time: time,
    min_heads: int,
    target_heads: int,
    notice_hours: int,
    number: str = "",
    now: datetime | None = None,
) -> tuple[Shift, list[WallTimeNote]]:
    """A new shift with its slots for the weeks ahead, and what is odd about its wall
    times in the year ahead."""
    now = now or timezone.now()
    if target_heads < min_heads:
        raise ShiftRefused(_("The target cannot be below the minimum."))
    if start_time == end_time:
        raise ShiftRefused(_("A shift cannot start and end at the same time."))
    with transaction.atomic():
        shift = Shift(
            language=language,
            time_zone=time_zone,
            weekly=weekly,
            first_date=first_date,
            last_date=last_date if weekly else None,
            start_time=start_time,
            end_time=end_time,
            min_heads=min_heads,
            target_heads=target_heads,
            notice_hours=notice_hours,
            number=number,
            created_at=now,
        )
        shift.full_clean()
        shift.save()
        _materialise(shift, now)
    return shift, shift_notes(shift, today=now.astimezone(shift.zone()).date())


def _materialise(shift: Shift, now: datetime) -> int:
    zone = shift.zone()
    today = now.astimezone(zone).date()
    made = 0
    for day in _dates(shift, today - timedelta(days=1), today + timedelta(days=HORIZON_DAYS)):
        found = times.occurrence(day, shift.start_time, shift.end_time, zone)
        if found is None or found.ends_at <= now:
            continue
        _slot, created = Slot.objects.get_or_create(
            shift=shift,
            local_date=day,
            defaults={
                "starts_at": found.starts_at,
                "ends_at": found.ends_at,
                "language": shift.language,
                "start_oddity": found.start_oddity or "",
                "end_oddity": found.end_oddity or "",
            },
        )
        made += created
    return made


def slots_materialise(*, now: datetime) -> int:
    """Every shift's slots for the weeks ahead (a periodic job): how many were new."""
    made = 0
    ongoing = Shift.objects.exclude(weekly=False, first_date__lt=now.date() - timedelta(days=2))
    for shift in ongoing.exclude(last_date__lt=now.date() - timedelta(days=2)):
        with transaction.atomic():
            made += _materialise(shift, now)
    return made


def slots_materialise_run(at: datetime) -> str:
    return f"{slots_materialise(now=at)} new slots"


def slot_cancel(*, slot: Slot) -> Slot:
    """An exception: this occurrence does not happen; its volunteers are taken off it."""
    with transaction.atomic():
        slot.cancelled = True
        slot.save(update_fields=["cancelled"])
        slot.assignments.all().delete()
    return slot


def shift_update(
    *,
    shift: Shift,
    by: Volunteer,
    start_time: time,
    end_time: time,
    last_date: date | None,
    min_heads: int,
    target_heads: int,
    notice_hours: int,
    now: datetime | None = None,
) -> int:
    """A coordinator changes a shift. Its occurrences that have not started follow: moved
    to the new times, their volunteers with them; gone past a new last date, or on a date
    the new start does not exist, their volunteers taken off (audited, desks told). Refused,
    changing nothing, when it would put a volunteer on two shifts at once. How many
    volunteers were taken off."""
    now = now or timezone.now()
    if not by.is_coordinator:
        raise ShiftRefused(_("Only a coordinator changes the schedule."))
    if target_heads < min_heads:
        raise ShiftRefused(_("The target cannot be below the minimum."))
    if start_time == end_time:
        raise ShiftRefused(_("A shift cannot start and end at the same time."))
    with transaction.atomic():
        shift = Shift.objects.select_for_update().get(pk=shift.pk)
        if shift.weekly and last_date is not None and last_date < shift.first_date:
            raise ShiftRefused(_("The last date cannot come before the first."))
        shift.start_time, shift.end_time = start_time, end_time
        shift.last_date = last_date if shift.weekly else None
        shift.min_heads, shift.target_heads = min_heads, target_heads
        shift.notice_hours = notice_hours
        shift.full_clean()
        shift.save()
        zone = shift.zone()
        gone: list[Assignment] = []
        for slot in shift.slots.filter(starts_at__gt=now, cancelled=False):
            found = times.occurrence(slot.local_date, start_time, end_time, zone)
            on_slot = list(slot.assignments.select_related("volunteer"))
            if found is None or (shift.weekly and last_date and slot.local_date > last_date):
                gone += on_slot
                slot.delete()
                continue
            slot.starts_at, slot.ends_at = found.starts_at, found.ends_at
            slot.start_oddity = found.start_oddity or ""
            slot.end_oddity = found.end_oddity or ""
            slot.save()
            for assignment in on_slot:
                _refuse_clash(assignment, found.starts_at, found.ends_at)
                assignment.starts_at, assignment.ends_at = found.starts_at, found.ends_at
                assignment.save(update_fields=["starts_at", "ends_at"])
        if gone:
            audit_record_many(actor=by.user, action=Action.DELETE, targets=gone)
        _materialise(shift, now)
    return len(gone)


def _refuse_clash(assignment: Assignment, starts_at: datetime, ends_at: datetime) -> None:
    volunteer = assignment.volunteer
    clash = (
        Assignment.objects.filter(volunteer=volunteer, ends_at__gt=starts_at, starts_at__lt=ends_at)
        .exclude(slot__shift_id=assignment.slot.shift_id)
        .first()
    )
    if clash is not None:
        zone = volunteer.zone()
        raise ShiftRefused(
            _("%(name)s is already on a shift then, from %(start)s to %(end)s.")
            % {
                "name": volunteer.display_name,
                "start": clash.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "end": clash.ends_at.astimezone(zone).strftime("%H:%M %Z"),
            }
        )


def shift_delete(*, shift: Shift, by: Volunteer, now: datetime | None = None) -> int:
    """A coordinator deletes a shift: its occurrences that have not started go, and their
    volunteers are taken off (each removal audited; their desks are told). Occurrences
    already started or past stay, as the record of who was on; a shift left with none is
    deleted, else it ends on its last. How many volunteers were taken off."""
    now = now or timezone.now()
    if not by.is_coordinator:
        raise ShiftRefused(_("Only a coordinator changes the schedule."))
    with transaction.atomic():
        shift = Shift.objects.select_for_update().get(pk=shift.pk)
        ahead = shift.slots.filter(starts_at__gt=now)
        removed = list(Assignment.objects.filter(slot__in=ahead))
        if removed:
            audit_record_many(actor=by.user, action=Action.DELETE, targets=removed)
        for assignment in removed:
            assignment.delete()
        ahead.delete()
        last = shift.slots.order_by("-local_date").values_list("local_date", flat=True).first()
        if last is None:
            shift.delete()
        elif shift.weekly:
            # No more occurrences: the periodic job stops at the last date.
            shift.last_date = last
            shift.save(update_fields=["last_date"])
    return len(removed)


def slot_assign(
    *, slot: Slot, volunteer: Volunteer, by: Volunteer, now: datetime | None = None
) -> Assignment:
    """Put ``volunteer`` on ``slot``: by themselves (signing up) or by a coordinator.

    The volunteer's row is locked first, so two sign-ups of one volunteer at once cannot
    both pass the overlap check."""
    now = now or timezone.now()
    if by.pk != volunteer.pk and not by.is_coordinator:
        raise ShiftRefused(_("Only a coordinator puts someone else on a shift."))
    with transaction.atomic():
        Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
        slot = Slot.objects.select_related("shift").get(pk=slot.pk)
        if slot.cancelled:
            raise ShiftRefused(_("This shift was cancelled on that date."))
        if slot.ends_at <= now:
            raise ShiftRefused(_("This shift is over."))
        if slot.language not in volunteer.language_codes():
            raise ShiftRefused(
                _("%(name)s does not take calls in this language.")
                % {"name": volunteer.display_name}
            )
        if slot.assignments.filter(volunteer=volunteer).exists():
            raise ShiftRefused(
                _("%(name)s is already on this shift.") % {"name": volunteer.display_name}
            )
        clash = (
            Assignment.objects.filter(
                volunteer=volunteer, ends_at__gt=slot.starts_at, starts_at__lt=slot.ends_at
            )
            .select_related("slot__shift")
            .first()
        )
        if clash is not None:
            zone = volunteer.zone()
            raise ShiftRefused(
                _("%(name)s is already on a shift then, from %(start)s to %(end)s.")
                % {
                    "name": volunteer.display_name,
                    "start": clash.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    "end": clash.ends_at.astimezone(zone).strftime("%H:%M %Z"),
                }
            )
        assignment = Assignment.objects.create(
            slot=slot,
            volunteer=volunteer,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            language=slot.language,
            number=slot.shift.number,
            assigned_by=by,
            created_at=now,
        )
        if by.pk != volunteer.pk:
            # A coordinator put someone else on a shift: the log says who, and when.
            audit_record(actor=by.user, action=Action.CREATE, target=assignment)
        return assignment


def assignment_drop(*, assignment: Assignment, by: Volunteer, now: datetime | None = None) -> None:
    """Take a volunteer off a slot. A volunteer drops their own until the shift's notice
    period before it starts; after that, only a coordinator. A coordinator's removal of
    someone else is recorded in the audit log, as is their putting someone on a slot."""
    now = now or timezone.now()
    if not by.is_coordinator:
        if assignment.volunteer_id != by.pk:
            raise ShiftRefused(_("You can only drop your own shifts."))
        notice = timedelta(hours=assignment.slot.shift.notice_hours)
        if now > assignment.starts_at - notice:
            raise ShiftRefused(
                _(
                    "This shift starts in less than %(hours)s hours: ask a coordinator "
                    "to take you off it."
                )
                % {"hours": assignment.slot.shift.notice_hours}
            )
    with transaction.atomic():
        if assignment.volunteer_id != by.pk:
            # A coordinator took someone else off a shift: the log says who, and when.
            audit_record(actor=by.user, action=Action.DELETE, target=assignment)
        assignment.delete()


def queue_shifts_set(*, language: str, off_shift_fallback: bool) -> QueueShifts:
    with transaction.atomic():
        settings, _created = QueueShifts.objects.update_or_create(
            language=language, defaults={"off_shift_fallback": off_shift_fallback}
        )
        transaction.on_commit(lambda: cache.delete(fallback_cache_key(language)))
    return settings


def shift_changes(*, now: datetime) -> tuple[int, int]:
    """At a shift's start, its volunteers are asked on their desk to go available (the
    assignment is marked started, which refreshes their desk); at its end, a volunteer
    not on another shift is set away, after the call they are on. How many of each."""
    started = 0
    for assignment in Assignment.objects.filter(started=False, starts_at__lte=now, ends_at__gt=now):
        assignment.started = True
        assignment.save(update_fields=["started"])
        started += 1
    released = 0
    for assignment in Assignment.objects.filter(released=False, ends_at__lte=now).select_related(
        "volunteer"
    ):
        volunteer = assignment.volunteer
        still_on = Assignment.objects.filter(
            volunteer=volunteer, ends_at__gt=now, starts_at__lte=now
        ).exists()
        if not still_on and volunteer.presence != Presence.AWAY:
            try:
                volunteer_set_presence(volunteer=volunteer, presence=Presence.AWAY)
            except PresenceNotAllowed:
                continue  # ringing or on a call: away after it, at a later run
        assignment.released = True
        assignment.save(update_fields=["released"])
        released += 1
    return started, released


def shift_changes_run(at: datetime) -> str:
    started, released = shift_changes(now=at)
    return f"{started} started, {released} ended"


def calendar_feed_create(*, volunteer: Volunteer) -> str:
    """A new secret feed URL token for ``volunteer`` (any earlier one stops working)."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        volunteer=volunteer,
        defaults={"token_sha256": token_hash(token), "created_at": timezone.now()},
    )
    return token


def calendar_feed_revoke(*, volunteer: Volunteer) -> None:
    CalendarFeed.objects.filter(volunteer=volunteer).delete()
