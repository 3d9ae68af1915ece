"""TwiML's call statuses, in the calls domain's words (calls.ports.LegOutcome).

Twilio and Telnyx (TeXML) report a leg's CallStatus, and a <Dial>'s DialCallStatus, in
the same words.
"""

from __future__ import annotations

from tuidang.calls.ports import LegOutcome

# CallStatus of a leg, and DialCallStatus of a <Dial>.
_OUTCOMES = {
    "queued": LegOutcome.QUEUED,
    "initiated": LegOutcome.QUEUED,
    "ringing": LegOutcome.RINGING,
    "in-progress": LegOutcome.ANSWERED,
    "answered": LegOutcome.ANSWERED,
    "completed": LegOutcome.COMPLETED,
    "busy": LegOutcome.BUSY,
    "no-answer": LegOutcome.NO_ANSWER,
    "failed": LegOutcome.FAILED,
    "canceled": LegOutcome.CANCELED,
}


def leg_outcome(status: str) -> LegOutcome | None:
    """The outcome a CallStatus or DialCallStatus names; None for one a provider may add."""
    return _OUTCOMES.get(status)
