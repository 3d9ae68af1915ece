"""What a caller's simulated phone heard."""

from __future__ import annotations

from tuidang.telephony.simulator.models import SimCall


def said(sim_call: SimCall) -> str:
    """Everything the phone was told, one line a prompt, in order."""
    return "\n".join(line["text"] for line in sim_call.transcript if line["kind"] == "say")
