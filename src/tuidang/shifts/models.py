"""Shifts: who answers which language queue when, written in a time zone's wall clock.

A ``Shift`` says when (weekly from its first date, or once); its ``Slot`` rows are its
occurrences resolved to UTC instants for the weeks ahead (``services.slots_materialise``,
a periodic job), so that routing asks an index which volunteers are on shift now instead
of working out a schedule on the incoming-call path. A volunteer on a slot is an
``Assignment``, which repeats the slot's instants and language for that index.
"""

from __future__ import annotations

import hashlib
import zoneinfo

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuidang.lib.languages import Language
from tuidang.lib.phone import validate_e164
from tuidang.volunteers.models import Volunteer, validate_time_zone


class Shift(models.Model):
    language = models.CharField(_("language queue"), max_length=8, choices=Language.choices)
    time_zone = models.CharField(
        _("time zone"), max_length=64, validators=[validate_time_zone], default="Asia/Shanghai"
    )
    weekly = models.BooleanField(_("every week"), default=True)
    first_date = models.DateField(_("first date"))
    # Weekly shifts only: the last date an occurrence may fall on; blank: no end.
    last_date = models.DateField(_("last date"), null=True, blank=True)
    start_time = models.TimeField(_("starts"))
    # At or before the start: the next day.
    end_time = models.TimeField(_("ends"))
    min_heads = models.PositiveSmallIntegerField(_("minimum volunteers"), default=1)
    target_heads = models.PositiveSmallIntegerField(_("target volunteers"), default=2)
    # Volunteers drop their own slot only this long before it starts; later, a coordinator.
    notice_hours = models.PositiveSmallIntegerField(_("notice to drop (hours)"), default=24)
    # Blank: the shift answers the queue on every hotline number. Else one number's E.164
    # (the number itself, not a key: the calls app sits above this one): routing prefers
    # volunteers on a shift for the call's number or for every number.
    number = models.CharField(
        _("hotline number"), max_length=20, blank=True, default="", validators=[validate_e164]
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_language_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Slot(models.Model):
    """One occurrence of a shift, at its instants."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="slots")
    local_date = models.DateField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    language = models.CharField(max_length=8, choices=Language.choices)  # the shift's
    # What the coordinator was told about this date's wall times: "", "gap", "fold".
    start_oddity = models.CharField(max_length=8, blank=True, default="")
    end_oddity = models.CharField(max_length=8, blank=True, default="")
    # An exception: this occurrence does not happen (a holiday). Kept, so that the
    # periodic materialisation never brings it back.
    cancelled = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shift", "local_date"], name="one_slot_per_date")
        ]
        indexes = [
            # The coverage page and the schedules read slots of a range of time.
            models.Index(fields=["starts_at"], name="slot_starts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.shift} {self.local_date}"


class Assignment(models.Model):
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="assignments")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="assignments")
    # Denormalised from the slot: routing asks, per ready volunteer, whether one of their
    # assignments of the queue's language covers now (assignment_on_shift_idx).
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    language = models.CharField(max_length=8, choices=Language.choices)
    number = models.CharField(max_length=20, blank=True, default="")  # the shift's
    assigned_by = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set by the shift-changes job once the volunteer was asked to go available (which
    # refreshes their desk), and once they were set away at the end.
    started = models.BooleanField(default=False)
    released = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slot", "volunteer"], name="one_assignment_per_slot")
        ]
        indexes = [
            # Routing: is this volunteer on shift now; overlaps; a volunteer's schedule.
            models.Index(fields=["volunteer", "ends_at"], name="assignment_on_shift_idx"),
            # The shift-changes job: starts and ends not yet acted on.
            models.Index(fields=["started", "starts_at"], name="assignment_start_idx"),
            models.Index(fields=["released", "ends_at"], name="assignment_end_idx"),
            # The wallboard: who is on shift now, per language.
            models.Index(fields=["language", "ends_at"], name="assignment_now_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} on {self.slot}"


class QueueShifts(models.Model):
    """A language queue's shift settings."""

    language = models.CharField(max_length=8, choices=Language.choices, unique=True)
    # When no volunteer on shift is free, calls ring available volunteers off shift.
    off_shift_fallback = models.BooleanField(
        _("ring volunteers off shift when no one on shift is free"), default=True
    )

    def __str__(self) -> str:
        return self.language


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(models.Model):
    """A volunteer's secret calendar URL: only the SHA-256 of its token is kept, so the
    database never holds a working URL; revoking deletes the row."""

    volunteer = models.OneToOneField(
        Volunteer, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"feed of {self.volunteer}"
