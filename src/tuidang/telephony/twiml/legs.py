"""Where a TwiML provider's outbound legs fetch their TwiML: its own webhooks.

A provider that speaks TwiML places a volunteer's offer leg and a callback leg the same
way, with the URL of the webhook that answers the leg and of the one its status goes to;
only how it places a call differs. Its client names itself (its name in
``settings.TELEPHONY_PROVIDERS``, the prefix of its URL names) and places the call.
"""

from __future__ import annotations

from tuidang.calls.ports import Party
from tuidang.lib.public_url import public_url


class TwimlLegs:
    """The port's ringing methods and the move into a transfer's conference, for a client
    that implements ``_place_call`` and ``_redirect`` (a live leg to new TwiML)."""

    name: str

    def _place_call(
        self, *, to: str, from_: str, url: str, status_callback: str, timeout: int
    ) -> str:
        raise NotImplementedError

    def _redirect(self, *, leg_id: str, url: str) -> None:
        raise NotImplementedError

    def _webhook(self, step: str, **ids: str) -> str:
        return public_url(f"telephony:{self.name}-{step}", **ids)

    def ring_offer(self, *, to: str, from_: str, offer_token: str, timeout: int) -> str:
        return self._place_call(
            to=to,
            from_=from_,
            url=self._webhook("offer", token=offer_token),
            status_callback=self._webhook("offer-status", token=offer_token),
            timeout=timeout,
        )

    def ring_callback(
        self, *, to: str, from_: str, voicemail_id: str, volunteer_id: int, timeout: int
    ) -> str:
        ids = {"public_id": voicemail_id, "volunteer_id": str(volunteer_id)}
        return self._place_call(
            to=to,
            from_=from_,
            url=self._webhook("callback", **ids),
            status_callback=self._webhook("callback-status", **ids),
            timeout=timeout,
        )

    def ring_transfer(self, *, to: str, from_: str, transfer_token: str, timeout: int) -> str:
        return self._place_call(
            to=to,
            from_=from_,
            url=self._webhook("transfer", token=transfer_token),
            status_callback=self._webhook("transfer-status", token=transfer_token),
            timeout=timeout,
        )

    def move_to_conference(self, *, leg_id: str, transfer_token: str, party: Party) -> None:
        self._redirect(
            leg_id=leg_id, url=self._webhook("transfer-join", token=transfer_token, party=party)
        )

    def ring_listener(self, *, to: str, from_: str, listen_token: str, timeout: int) -> str:
        return self._place_call(
            to=to,
            from_=from_,
            url=self._webhook("listen", token=listen_token),
            status_callback=self._webhook("listen-status", token=listen_token),
            timeout=timeout,
        )

    def move_to_listen_in(self, *, leg_id: str, listen_token: str) -> None:
        self._redirect(leg_id=leg_id, url=self._webhook("listen-caller", token=listen_token))
