"""The simulated phones' own lines (not what the hotline says) in the reader's language.

The network notes what happens in English in a call's transcript; a page shows each line
in the language of the interface, the numbers and names in it as they are.
"""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

STATUSES = {
    "ringing": _("ringing"),
    "in-progress": _("in progress"),
    "completed": _("completed"),
    "busy": _("busy"),
    "no-answer": _("not answered"),
    "canceled": _("canceled"),
    "failed": _("failed"),
}

LINES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"Calling (?P<to>.+)"), _("Calling %(to)s")),
    (re.compile(r"Ringing (?P<to>.+)"), _("Ringing %(to)s")),
    (re.compile(r"Answered"), _("Answered")),
    (re.compile(r"Connected"), _("Connected")),
    (re.compile(r"Waiting in queue (?P<queue>.+)"), _("Waiting in queue %(queue)s")),
    (re.compile(r"Queue (?P<queue>.+) is empty"), _("Queue %(queue)s is empty")),
    (re.compile(r"Incoming call from (?P<from>.+)"), _("Incoming call from %(from)s")),
    (re.compile(r"Dialling the caller"), _("Dialling the caller")),
    (re.compile(r"The other party hung up"), _("The other party hung up")),
    (re.compile(r"\(recording after the tone\)"), _("(recording after the tone)")),
    (
        re.compile(r"An application error has occurred\. Goodbye\."),
        _("An application error has occurred. Goodbye."),
    ),
    (re.compile(r"Call (?P<status>[a-z-]+)"), _("Call %(status)s")),
]


@register.filter
def phone_line(line: dict[str, str]) -> str:
    """A transcript line as the reader reads it: the network's own lines translated,
    what was said or keyed as it was."""
    text = str(line.get("text", ""))
    if line.get("kind") not in ("system", "error"):
        return text
    for pattern, message in LINES:
        match = pattern.fullmatch(text)
        if match:
            params = dict(match.groupdict())
            if "status" in params:
                params["status"] = str(STATUSES.get(params["status"], params["status"]))
            return str(message) % params if params else str(message)
    return text


@register.filter
def call_status(status: str) -> str:
    return str(STATUSES.get(status, status))
