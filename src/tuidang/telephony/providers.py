"""The provider's REST API, behind one small interface.

Webhooks never call these: tasks do (see tasks.py), so a slow provider cannot slow a
caller's answer. Tests and the demo use the simulated network's implementation.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings


class VoiceProvider(Protocol):
    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str, timeout: int
    ) -> str:
        """Start an outbound call that fetches its TwiML from ``url``. Returns its sid."""

    def hang_up(self, *, sid: str) -> None:
        """End a call in whatever state it is."""

    def fetch_recording(self, *, url: str) -> bytes:
        """The audio of a recording the provider holds."""

    def delete_recording(self, *, sid: str) -> None:
        """Delete a recording at the provider; one already gone is not an error."""


class TwilioProvider:
    def __init__(self) -> None:
        from twilio.rest import Client

        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str, timeout: int
    ) -> str:
        call = self.client.calls.create(
            to=to,
            from_=from_,
            url=url,
            status_callback=status_callback,
            status_callback_event=["completed"],
            timeout=timeout,
        )
        return str(call.sid)

    def hang_up(self, *, sid: str) -> None:
        self.client.calls(sid).update(status="completed")

    def fetch_recording(self, *, url: str) -> bytes:
        import requests

        # RecordingUrl without an extension answers WAV; it needs the account's credentials.
        response = requests.get(
            url + ".wav",
            auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
            timeout=30,
        )
        response.raise_for_status()
        return response.content

    def delete_recording(self, *, sid: str) -> None:
        from twilio.base.exceptions import TwilioRestException

        try:
            self.client.recordings(sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:  # already gone (deleted before a crash): done
                raise


def get_provider() -> VoiceProvider:
    if settings.TELEPHONY_PROVIDER == "twilio":
        return TwilioProvider()
    if settings.TELEPHONY_PROVIDER == "simulated":
        from tuidang.telephony.simulator.engine import SimulatedProvider

        return SimulatedProvider()
    raise ValueError(f"unknown TELEPHONY_PROVIDER {settings.TELEPHONY_PROVIDER!r}")
