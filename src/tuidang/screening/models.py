"""Screening: keep the line open for real callers when hired callers flood it.

Everything here is keyed by the caller key (the HMAC of the number), never the number.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuidang.lib import memo


class Policy(models.TextChoices):
    NORMAL = "normal", _("Normal")
    SCREENING_GROUP = "screening_group", _("Route to the screening group")
    MESSAGE = "message", _("Play the message and hang up")
    REJECT = "reject", _("Reject before answering")
    # Only for withheld numbers while flood mode is on.
    CHALLENGE = "challenge", _("Keypad challenge")


# From mildest to harshest: a stricter policy always wins over a milder one.
SEVERITY = [Policy.NORMAL, Policy.SCREENING_GROUP, Policy.MESSAGE, Policy.REJECT]


SETTINGS_CACHE_KEY = "screening:settings"
FLOOD_CACHE_KEY = "screening:flood"


class ScreeningSettings(models.Model):
    """The thresholds coordinators tune. One row; the defaults apply until it exists."""

    half_life_hours = models.FloatField(_("score half-life (hours)"), default=12)
    screening_group_at = models.FloatField(_("score for the screening group"), default=3)
    message_at = models.FloatField(_("score for the message"), default=6)
    reject_at = models.FloatField(_("score for rejection"), default=10)
    message_block_hours = models.PositiveIntegerField(_("message block (hours)"), default=24)
    reject_block_days = models.PositiveIntegerField(_("reject block (days)"), default=30)
    calls_per_hour_allowed = models.PositiveIntegerField(
        _("calls an hour before each further one counts"), default=4
    )
    short_call_seconds = models.PositiveIntegerField(_("a call this short counts"), default=10)
    flood_calls_per_volunteer = models.PositiveIntegerField(
        _("flood: calls in 5 minutes per volunteer on duty"), default=5
    )
    flood_flagged_share = models.FloatField(_("flood: share of flagged callers"), default=0.3)
    flood_new_keys = models.PositiveIntegerField(
        _("flood: new caller keys in 5 minutes that make a burst"), default=30
    )

    class Meta:
        verbose_name = _("screening settings")
        verbose_name_plural = _("screening settings")

    def __str__(self) -> str:
        return str(_("Screening settings"))

    @classmethod
    def current(cls) -> ScreeningSettings:
        """Read on every call, so kept a minute in the shared cache and a second in each
        process in front of it (lib/memo.py); saving clears both (signals.py). Read only:
        the process's threads share the one instance."""
        return memo.held(SETTINGS_CACHE_KEY, cls._shared)

    @classmethod
    def _shared(cls) -> ScreeningSettings:
        from django.core.cache import cache

        found = cache.get(SETTINGS_CACHE_KEY)
        if isinstance(found, cls):
            return found
        current = cls.objects.order_by("pk").first() or cls()
        cache.set(SETTINGS_CACHE_KEY, current, 60)
        return current


class CallerScore(models.Model):
    """The nuisance score of a caller key; it halves every ``half_life_hours``."""

    caller_key = models.CharField(max_length=64, unique=True)
    score = models.FloatField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # First time a volunteer flagged this caller for harassment.
    flagged_at = models.DateTimeField(null=True, blank=True)
    # First renunciation after being flagged: a conversion.
    converted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Denormalised from Block: the strictest active block, read with the score on every
    # call instead of a second query. Block rows stay the record of who did what.
    block_policy = models.CharField(max_length=16, blank=True)
    block_expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.caller_key[:12]}… {self.score:.1f}"


class Block(models.Model):
    """A policy applied to a caller key until it expires; coordinators may lift it early."""

    caller_key = models.CharField(max_length=64, db_index=True)  # looked up on every call
    policy = models.CharField(max_length=16, choices=Policy.choices)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.get_policy_display()} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.lifted_at is None and self.expires_at > timezone.now()


class ScreeningEvent(models.Model):
    """Append-only record of every change to screening: blocks, lifts, flood mode."""

    class Kind(models.TextChoices):
        BLOCKED = "blocked", _("Blocked")
        LIFTED = "lifted", _("Block lifted")
        FLOOD_ON = "flood_on", _("Flood mode on")
        FLOOD_OFF = "flood_off", _("Flood mode off")
        FLAGGED = "flagged", _("Flagged for harassment")
        CONVERTED = "converted", _("Flagged caller renounced")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    caller_key = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class FloodState(models.Model):
    """Whether flood mode is on. One row, re-evaluated at most every few seconds."""

    active = models.BooleanField(default=False)
    since = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return "flood" if self.active else "normal"


class WebHit(models.Model):
    """Declaration forms posted in one window, per keyed hash of the address (or ``*``
    for all of them): the embedded rate limit, where Redis is not configured. A row lives
    only as long as its window matters (screening/web.py deletes the older ones)."""

    key = models.CharField(max_length=64)
    window = models.BigIntegerField()  # its start, in seconds since the epoch
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="one_web_hit_cell")]
        indexes = [
            # The purge of windows no limit looks at any more.
            models.Index(fields=["window"], name="web_hit_window_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key[:8]} {self.window}: {self.count}"
