"""The simulated network's REST stub: the questions Twilio's REST API answers about a
call (``GET /2010-04-01/Accounts/<account>/Calls/<sid>.json``), in Twilio's JSON.

The reconciler asks it where a leg stands when a status callback seems lost. The
simulated provider reads the same resource in process; the view serves it over HTTP to
any client that speaks Twilio's API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tuidang.telephony.simulator.models import SimCall

API_VERSION = "2010-04-01"


def _rfc2822(moment: datetime | None) -> str | None:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000") if moment else None


def call_resource(sid: str) -> dict[str, Any] | None:
    """Twilio's description of the call ``sid``; None when the network has no such call.

    The parties' numbers are left out: nothing asks for them, and a stub that never
    repeats a caller's number cannot leak it.
    """
    call = SimCall.objects.filter(sid=sid).first()
    if call is None:
        return None
    duration = None
    if call.ended_at is not None:
        started = call.answered_at or call.ended_at
        duration = str(int((call.ended_at - started).total_seconds()))
    return {
        "sid": call.sid,
        "api_version": API_VERSION,
        "status": call.status,
        "direction": call.direction,
        "date_created": _rfc2822(call.created_at),
        "start_time": _rfc2822(call.answered_at),
        "end_time": _rfc2822(call.ended_at),
        "duration": duration,
    }
