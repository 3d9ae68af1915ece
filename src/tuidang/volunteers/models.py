from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuidang.lib.languages import Language
from tuidang.lib.zones import time_zone_names
from tuidang.vault.fields import Sealed


class Role(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    COORDINATOR = "coordinator", _("Coordinator")
    ADMIN = "admin", _("Administrator")


class Presence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    # Set by routing while an offer rings, so no second offer can reach the volunteer.
    RINGING = "ringing", _("Being offered a call")
    ON_CALL = "on_call", _("On a call")
    WRAP_UP = "wrap_up", _("Wrap-up")
    AWAY = "away", _("Away")


def validate_time_zone(name: str) -> None:
    if name and name not in time_zone_names():
        raise ValidationError(_("%(name)s is not a time zone."), params={"name": name})


class Volunteer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer"
    )
    display_name = models.CharField(_("display name"), max_length=80)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VOLUNTEER)
    # Sealed values are bound to it (vault/fields.py).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Where offers ring: an E.164 number, a sip: address, or client:<name> for a
    # softphone (the simulated network rings the volunteer's desk through client:).
    # Personal: sealed, opened only to ring the volunteer and for the volunteer
    # themselves and administrators (the admin audits who opens a profile).
    phone_address_sealed = models.BinaryField(_("phone or SIP address (encrypted)"), blank=True)
    phone_address = Sealed("phone_address_sealed")
    presence = models.CharField(
        _("presence"), max_length=16, choices=Presence.choices, default=Presence.AWAY
    )
    # Longest idle first: routing orders available volunteers by when they became so.
    presence_since = models.DateTimeField(default=timezone.now)
    missed_offers = models.PositiveSmallIntegerField(default=0)
    # While the volunteer's phone rings for a call back (presence ringing): the presence
    # they return to if it reaches no one (away stays away; available is offered calls).
    presence_after_callback = models.CharField(
        max_length=16, choices=Presence.choices, blank=True, default=""
    )
    # The provider's id of that call back's leg, once placed: the reconciler asks about it.
    callback_leg_sid = models.CharField(max_length=64, blank=True, default="")
    # Experienced volunteers who talk with hostile callers; screening routes those to them.
    screener = models.BooleanField(_("in the screening group"), default=False)
    # Times on the desk are shown in it; blank: the hotline's default (settings.TIME_ZONE).
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text=_("Like Europe/Paris or America/Toronto: the desk shows times in it."),
    )

    class Meta:
        indexes = [
            # Routing looks up available volunteers, longest idle first.
            models.Index(fields=["presence", "presence_since"], name="volunteer_routing_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_coordinator(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    def zone(self) -> zoneinfo.ZoneInfo:
        """The volunteer's own time zone (the hotline's default until they choose one)."""
        return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)

    def language_codes(self) -> list[str]:
        return [entry.language for entry in self.languages.all()]


class VolunteerLanguage(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "language"], name="one_row_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.volunteer}: {self.get_language_display()}"
