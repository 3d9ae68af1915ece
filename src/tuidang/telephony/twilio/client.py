"""Twilio's REST API, implementing the calls domain's port (calls.ports.VoiceProvider).

Chosen with ``TELEPHONY_PROVIDER=twilio`` (``TELEPHONY_PROVIDER_CLASS`` names this class).
"""

from __future__ import annotations

from django.conf import settings

from tuidang.lib.public_url import public_url


class TwilioProvider:
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

    def ring_offer(self, *, to: str, from_: str, offer_token: str, timeout: int) -> str:
        return self._place_call(
            to=to,
            from_=from_,
            url=public_url("telephony:twilio-offer", token=offer_token),
            status_callback=public_url("telephony:twilio-offer-status", token=offer_token),
            timeout=timeout,
        )

    def ring_callback(
        self, *, to: str, from_: str, voicemail_id: str, volunteer_id: int, timeout: int
    ) -> str:
        return self._place_call(
            to=to,
            from_=from_,
            url=public_url(
                "telephony:twilio-callback", public_id=voicemail_id, volunteer_id=volunteer_id
            ),
            status_callback=public_url(
                "telephony:twilio-callback-status",
                public_id=voicemail_id,
                volunteer_id=volunteer_id,
            ),
            timeout=timeout,
        )

    def hang_up(self, *, leg_id: str) -> None:
        self.client.calls(leg_id).update(status="completed")

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
