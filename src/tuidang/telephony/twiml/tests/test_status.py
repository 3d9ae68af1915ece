"""TwiML's call statuses (Twilio's and Telnyx's alike), in the calls domain's words."""

import pytest

from tuidang.calls.ports import LegOutcome
from tuidang.telephony.twiml.status import leg_outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("queued", LegOutcome.QUEUED),
        ("ringing", LegOutcome.RINGING),
        ("in-progress", LegOutcome.ANSWERED),
        ("answered", LegOutcome.ANSWERED),
        ("completed", LegOutcome.COMPLETED),
        ("busy", LegOutcome.BUSY),
        ("no-answer", LegOutcome.NO_ANSWER),
        ("failed", LegOutcome.FAILED),
        ("canceled", LegOutcome.CANCELED),
        ("something-new", None),
    ],
)
def test_twilio_statuses_become_the_domains_outcomes(
    status: str, outcome: LegOutcome | None
) -> None:
    assert leg_outcome(status) == outcome
