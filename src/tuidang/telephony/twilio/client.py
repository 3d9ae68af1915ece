"""Twilio's REST API, implementing the calls domain's port (calls.ports.VoiceProvider).

Chosen with ``TELEPHONY_PROVIDER=twilio`` (``TELEPHONY_PROVIDER_CLASS`` names this class).
"""

from __future__ import annotations

from django.conf import settings

from tuidang.calls.ports import LegOutcome, LegUnknown
from tuidang.telephony.twiml.legs import TwimlLegs
from tuidang.telephony.twiml.status import leg_outcome


class TwilioProvider(TwimlLegs):
    name = "twilio"

    def __init__(self) -> None:
        from twilio.rest import Client

        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)

    def _place_call(
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

    def hang_up(self, *, leg_id: str) -> None:
        self.client.calls(leg_id).update(status="completed")

    def call_state(self, *, leg_id: str) -> LegOutcome | None:
        from twilio.base.exceptions import TwilioRestException

        try:
            call = self.client.calls(leg_id).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                raise LegUnknown(leg_id) from None
            raise
        return leg_outcome(str(call.status))

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

    def delete_recording(self, *, recording_id: str) -> None:
        from twilio.base.exceptions import TwilioRestException

        try:
            self.client.recordings(recording_id).delete()
        except TwilioRestException as exc:
            if exc.status != 404:  # already gone (deleted before a crash): done
                raise
