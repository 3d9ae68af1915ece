"""The simulated network as the calls domain's provider (calls.ports.VoiceProvider).

Chosen with ``TELEPHONY_PROVIDER=simulated`` (``make demo`` and the tests choose it; it is
never a default). It rings phones on the network and asks the hotline's webhooks, in
``dialect``, what they should hear: by default the one ``SIMULATOR_DIALECT`` names
(Twilio's unless set); ``SimulatedProvider(dialect=dialects.TELNYX)`` plays Telnyx's TeXML.
"""

from __future__ import annotations

from tuidang.calls.ports import LegOutcome, LegUnknown
from tuidang.telephony.simulator.dialects import Dialect, configured_dialect
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.telephony.simulator.models import SimRecording
from tuidang.telephony.simulator.rest import call_resource
from tuidang.telephony.twiml.status import leg_outcome


class SimulatedProvider:
    def __init__(self, dialect: Dialect | None = None) -> None:
        self.dialect = dialect or configured_dialect()
        self.network = PhoneNetwork(dialect=self.dialect)

    def _webhook(self, path: str) -> str:
        return self.dialect.url(self.network.base_url, path)

    def ring_offer(self, *, to: str, from_: str, offer_token: str, timeout: int) -> str:
        call = self.network.create_call(
            to=to,
            from_=from_,
            url=self._webhook(f"offer/{offer_token}"),
            status_callback=self._webhook(f"offer/{offer_token}/status"),
            timeout=timeout,
        )
        return call.sid

    def ring_callback(
        self, *, to: str, from_: str, voicemail_id: str, volunteer_id: int, timeout: int
    ) -> str:
        path = f"callback/{voicemail_id}/{volunteer_id}"
        call = self.network.create_call(
            to=to,
            from_=from_,
            url=self._webhook(path),
            status_callback=self._webhook(f"{path}/status"),
            timeout=timeout,
        )
        return call.sid

    def hang_up(self, *, leg_id: str) -> None:
        self.network.end_call(leg_id)

    def call_state(self, *, leg_id: str) -> LegOutcome | None:
        """What the network's REST stub answers about the leg (simulator/rest.py)."""
        resource = call_resource(leg_id)
        if resource is None:
            raise LegUnknown(leg_id)
        return leg_outcome(str(resource["status"]))

    def fetch_recording(self, *, url: str) -> bytes:
        sid = url.rstrip("/").rsplit("/", 1)[-1]
        recording = SimRecording.objects.get(sid=sid, deleted=False)
        return recording.audio()

    def delete_recording(self, *, recording_id: str) -> None:
        SimRecording.objects.filter(sid=recording_id).update(deleted=True)
