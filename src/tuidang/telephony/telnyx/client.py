"""Telnyx's TeXML REST API, implementing the calls domain's port (calls.ports.VoiceProvider).

Chosen with ``TELEPHONY_PROVIDER=telnyx``. TeXML's REST endpoints follow Twilio's paths
under ``https://api.telnyx.com/v2/texml/Accounts/<TELNYX_ACCOUNT_SID>/``, with JSON bodies
and the API key (``TELNYX_API_KEY``) as a bearer token. The key goes only to Telnyx's API
host, and is never logged: a recording's URL, which arrives in a webhook, is fetched
with it only when it points at that host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings

from tuidang.calls.ports import LegOutcome, LegUnknown
from tuidang.telephony.twiml.legs import TwimlLegs
from tuidang.telephony.twiml.status import leg_outcome

API_BASE = "https://api.telnyx.com/v2"
TIMEOUT_SECONDS = 10
RECORDING_TIMEOUT_SECONDS = 30


class TelnyxError(Exception):
    """Telnyx answered a request with an error (``status``), or with what is not a call."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TelnyxProvider(TwimlLegs):
    name = "telnyx"

    def __init__(self, *, api_base: str = API_BASE) -> None:
        self.api_base = api_base.rstrip("/")
        self.session = requests.Session()

    # --- Talking to the API -----------------------------------------------------------

    def _url(self, *parts: str) -> str:
        account = quote(settings.TELNYX_ACCOUNT_SID, safe="")
        path = "/".join(quote(part, safe=":") for part in parts)
        return f"{self.api_base}/texml/Accounts/{account}/{path}"

    def _is_api(self, url: str) -> bool:
        ours, theirs = urlsplit(self.api_base), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    @staticmethod
    def _auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {settings.TELNYX_API_KEY}"}

    def _send(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(
            method,
            url,
            json=body,
            headers={**self._auth(), "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        if response.status_code >= 400:
            # The status and the path only: neither the key nor the numbers in the body.
            raise TelnyxError(
                f"Telnyx answered {response.status_code} to {method} {urlsplit(url).path}",
                status=response.status_code,
            )
        return response.json() if response.content else None

    # --- The port ---------------------------------------------------------------------

    def _place_call(
        self, *, to: str, from_: str, url: str, status_callback: str, timeout: int
    ) -> str:
        answer = self._send(
            "POST",
            self._url("Calls"),
            {
                "ApplicationSid": settings.TELNYX_APPLICATION_SID,
                "To": to,
                "From": from_,
                "Url": url,
                "StatusCallback": status_callback,
                "StatusCallbackEvent": "completed",
                "Timeout": timeout,
            },
        )
        call = answer.get("data", answer) if isinstance(answer, dict) else {}
        sid = call.get("call_sid") or call.get("sid") or call.get("CallSid")
        if not sid:
            raise TelnyxError("Telnyx placed a call without saying its CallSid")
        return str(sid)

    def hang_up(self, *, leg_id: str) -> None:
        self._send("POST", self._url("Calls", leg_id), {"Status": "completed"})

    def call_state(self, *, leg_id: str) -> LegOutcome | None:
        try:
            answer = self._send("GET", self._url("Calls", leg_id))
        except TelnyxError as exc:
            if exc.status == 404:
                raise LegUnknown(leg_id) from None
            raise
        call = answer.get("data", answer) if isinstance(answer, dict) else {}
        status = call.get("status") or call.get("Status")
        if not isinstance(status, str):
            raise TelnyxError("Telnyx described a call without its status")
        return leg_outcome(status)

    def fetch_recording(self, *, url: str) -> bytes:
        # Telnyx's RecordingUrl is a link to the audio; its API wants the key, and no
        # other host ever gets it.
        headers = self._auth() if self._is_api(url) else {}
        response = self.session.get(url, headers=headers, timeout=RECORDING_TIMEOUT_SECONDS)
        if response.status_code >= 400:
            raise TelnyxError(
                f"Telnyx answered {response.status_code} for a recording",
                status=response.status_code,
            )
        return response.content

    def delete_recording(self, *, recording_id: str) -> None:
        try:
            self._send("DELETE", self._url("Recordings", f"{recording_id}.json"))
        except TelnyxError as exc:
            if exc.status != 404:  # already gone (deleted before a crash): done
                raise
