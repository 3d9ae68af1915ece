"""The prompts a coordinator can reword, per number and language (``NumberPrompt.kind``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PromptKind(models.TextChoices):
    GREETING = "greeting", _("Greeting")
    HOLD = "hold", _("On hold (may use {ahead})")
    ESTIMATE = "estimate", _("Estimated wait (may use {minutes})")
    OFFER_VOICEMAIL = "offer_voicemail", _("Offer of voicemail")
    NO_ONE_NOW = "no_one_now", _("No volunteer on duty")
    VOICEMAIL = "voicemail", _("Voicemail instructions")
    STAY = "stay", _("Stay on the line")
    CONNECTING = "connecting", _("Connecting")
    GOODBYE = "goodbye", _("Goodbye")
    HOW_HEARD = "how_heard", _("How did you hear of this number")
    SCREENED = "screened", _("Message for screened callers")
    CHALLENGE = "challenge", _("Keypad challenge (may use {digit})")
