"""What the calls domain needs from a telephony provider, in its own words.

The provider is an adapter at the edge (a folder per provider in the telephony app),
chosen by the setting ``TELEPHONY_PROVIDER_CLASS``: the dotted path of a class
implementing ``VoiceProvider``, loaded at run time, so this domain never imports it. The
provider builds its own webhook URLs from what the domain passes (an offer's token, a
callback's ids) and turns its call statuses into ``LegOutcome``.

Webhooks never call the provider: tasks do (see tasks.py), so a slow provider cannot
slow a caller's answer.
"""

from __future__ import annotations

import enum
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


class LegOutcome(enum.StrEnum):
    """Where a leg of a call stands, as the domain understands it.

    The values are what ``Call.provider_status`` has always stored.
    """

    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def ended(self) -> bool:
        return self in _ENDED


_ENDED = frozenset(
    {
        LegOutcome.COMPLETED,
        LegOutcome.BUSY,
        LegOutcome.NO_ANSWER,
        LegOutcome.FAILED,
        LegOutcome.CANCELED,
    }
)


class VoiceProvider(Protocol):
    """The provider's REST side. Each method talks to the provider once."""

    def ring_offer(self, *, to: str, from_: str, offer_token: str, timeout: int) -> str:
        """Ring a volunteer (``to``, their phone address) with the offer ``offer_token``:
        when they answer, the provider asks the offer's webhook what to play. Returns the
        leg's id at the provider."""

    def ring_callback(
        self, *, to: str, from_: str, voicemail_id: str, volunteer_id: int, timeout: int
    ) -> str:
        """Ring a volunteer to call back the caller of voicemail ``voicemail_id`` (its
        public id). Returns the leg's id at the provider."""

    def hang_up(self, *, leg_id: str) -> None:
        """End a leg in whatever state it is."""

    def fetch_recording(self, *, url: str) -> bytes:
        """The audio of a recording the provider holds."""

    def delete_recording(self, *, recording_id: str) -> None:
        """Delete a recording at the provider; one already gone is not an error."""

    def call_state(self, *, leg_id: str) -> LegOutcome | None:
        """Where the leg ``leg_id`` stands now, by the provider's own record (the
        reconciler asks when a status callback seems lost). None for a status the domain
        does not know; ``LegUnknown`` when the provider has no such leg."""


class LegUnknown(Exception):
    """The provider has no record of a leg (never placed, or long forgotten)."""


NO_PROVIDER = (
    "No telephony provider is chosen: set TELEPHONY_PROVIDER to twilio or telnyx, or to "
    "simulated for the demo's own phone network (docs/configuration.md)."
)


def voice_provider() -> VoiceProvider:
    """An instance of the configured provider (``TELEPHONY_PROVIDER_CLASS``)."""
    if not settings.TELEPHONY_PROVIDER_CLASS:
        raise ImproperlyConfigured(NO_PROVIDER)
    provider_class = import_string(settings.TELEPHONY_PROVIDER_CLASS)
    provider: VoiceProvider = provider_class()
    return provider
