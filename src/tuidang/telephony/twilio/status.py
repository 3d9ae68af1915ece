"""Twilio's call statuses, in the calls domain's words (calls.ports.LegOutcome)."""

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
    """The outcome a CallStatus or DialCallStatus names; None for one Twilio may add."""
    return _OUTCOMES.get(status)
