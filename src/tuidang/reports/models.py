"""Counts kept as calls end, so that reports never scan calls (docs/reports.md).

Every counter is a sum or a maximum over the calls of its cell, rebuilt whole from the calls
of a span of time (``counting.py``): rebuilding a span again gives the same rows.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuidang.calls.models import HowHeard
from tuidang.lib.languages import Language
from tuidang.volunteers.models import Volunteer


class Counts(models.Model):
    """What is counted of the ended calls of one cell (the definitions: docs/reports.md)."""

    offered = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_in_threshold = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)  # after waiting 5 s or more
    abandoned_short = models.IntegerField(default=0)  # within the first 5 s
    voicemails = models.IntegerField(default=0)
    callbacks_made = models.IntegerField(default=0)
    callbacks_reached = models.IntegerField(default=0)
    answer_seconds = models.BigIntegerField(default=0)  # speed of answer, summed
    longest_wait_seconds = models.IntegerField(default=0)
    talk_seconds = models.BigIntegerField(default=0)
    screened = models.IntegerField(default=0)
    renunciations = models.IntegerField(default=0)
    book_requests = models.IntegerField(default=0)

    class Meta:
        abstract = True


# The summed counters, and the one that is a maximum.
SUMMED = (
    "offered",
    "answered",
    "answered_in_threshold",
    "abandoned",
    "abandoned_short",
    "voicemails",
    "callbacks_made",
    "callbacks_reached",
    "answer_seconds",
    "talk_seconds",
    "screened",
    "renunciations",
    "book_requests",
)
MAXED = ("longest_wait_seconds",)


class HourCount(Counts):
    """The calls that started in one UTC hour, per language: the reports by day, hour of
    day and language, and every report's total (8,760 hours a year per language, however
    many calls)."""

    hour = models.DateTimeField()
    language = models.CharField(max_length=8, choices=Language.choices, blank=True)
    # Denormalised from the hour in the hotline's time zone when the cell is counted: a
    # report groups by plain columns, not by a time-zone conversion of every row (which
    # SQLite does in Python). Counted again by `tuidang backfill-reports` if it changes.
    local_day = models.DateField()
    local_hour = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "language"], name="one_hour_count_cell")
        ]
        indexes = [
            # Every report reads a span of the hotline's days.
            models.Index(fields=["local_day"], name="hour_count_local_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.language}: {self.offered}"


class DayCount(Counts):
    """The calls that started on one day of the hotline's time zone, per language, number,
    how-heard channel and province: the reports by day, language, number and province."""

    day = models.DateField()
    language = models.CharField(max_length=8, choices=Language.choices, blank=True)
    # The number's id, not a foreign key: counts outlive a number taken out of service.
    number_id = models.IntegerField()
    how_heard = models.CharField(max_length=16, choices=HowHeard.choices)
    region = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "language", "number_id", "how_heard", "region"],
                name="one_day_count_cell",
            )
        ]
        # The unique constraint's index starts with the day: every report reads a span of
        # days through it.

    def __str__(self) -> str:
        return f"{self.day} {self.language} {self.number_id} {self.region}: {self.offered}"


class VolunteerHour(models.Model):
    """Seconds a volunteer spent in each presence during one UTC hour, sampled once a
    run of the reports job (every ``REPORTS_INTERVAL_SECONDS``): occupancy and wrap-up."""

    hour = models.DateTimeField()
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="+")
    available_seconds = models.IntegerField(default=0)
    ringing_seconds = models.IntegerField(default=0)
    talk_seconds = models.IntegerField(default=0)
    wrap_up_seconds = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "volunteer"], name="one_volunteer_hour")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.volunteer_id}"


class PresenceHour(models.Model):
    """The volunteers' sampled seconds of one UTC hour, summed over all of them: the
    reports' wrap-up time (8,760 rows a year, however many volunteers)."""

    hour = models.DateTimeField(unique=True)
    # As in HourCount: the hotline's day and hour of day, set when the row is made.
    local_day = models.DateField(db_index=True)
    local_hour = models.PositiveSmallIntegerField()
    available_seconds = models.BigIntegerField(default=0)
    ringing_seconds = models.BigIntegerField(default=0)
    talk_seconds = models.BigIntegerField(default=0)
    wrap_up_seconds = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h"


class Sample(models.Model):
    """A run of the presence sampler, once per instant: a repeated run adds nothing."""

    taken_at = models.DateTimeField(unique=True)

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M:%S}"


class ServiceLevel(models.Model):
    """A queue's service-level threshold; a language without a row uses 20 seconds."""

    DEFAULT_SECONDS = 20

    language = models.CharField(_("language"), max_length=8, choices=Language.choices, unique=True)
    threshold_seconds = models.PositiveIntegerField(
        _("answered within (seconds)"),
        default=DEFAULT_SECONDS,
        help_text=_(
            "A call answered within this many seconds of joining the queue counts "
            "towards the service level."
        ),
    )

    class Meta:
        verbose_name = _("service-level threshold")

    def __str__(self) -> str:
        return f"{self.get_language_display()}: {self.threshold_seconds} s"


class WallboardLink(models.Model):
    """A read-only link that shows the wallboard without a login, for a screen on a wall.
    Only a hash of its token is kept; revoking it closes the link at once."""

    name = models.CharField(_("name"), max_length=80)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class RebuildLock(models.Model):
    """The one row every rebuild of counts locks first, so that two workers rebuilding the
    same span one after the other leave the later reading of the calls, never the earlier."""

    def __str__(self) -> str:
        return "rebuild lock"
