"""Coordinators' view of the team: who is available, on a call, in wrap-up or away; and
listening in on a call, whispering to its volunteer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tuidang.calls.models import Call, ListenIn
from tuidang.calls.services import (
    ListenInRefused,
    listen_in_start,
    listen_in_stop,
    listen_in_whisper,
)
from tuidang.desk.decorators import coordinator_required
from tuidang.volunteers.models import Volunteer

_LIVE = [ListenIn.State.RINGING, ListenIn.State.LISTENING, ListenIn.State.WHISPERING]


def _team() -> list[Volunteer]:
    current = Call.objects.filter(state=Call.State.CONNECTED)
    return list(
        Volunteer.objects.prefetch_related(
            "languages", Prefetch("calls", queryset=current, to_attr="current_calls")
        ).order_by("presence", "display_name")
    )


def _context(coordinator: Volunteer) -> dict[str, object]:
    return {
        "team": _team(),
        "coordinator": coordinator,
        # What the coordinator listens to now, if anything: its call shows their buttons.
        "listening": ListenIn.objects.filter(coordinator=coordinator, state__in=_LIVE).first(),
    }


@login_required
@require_GET
@coordinator_required
def team(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return render(request, "desk/team.html", _context(coordinator))


@login_required
@require_GET
@coordinator_required
def team_live(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return render(request, "desk/_team.html", _context(coordinator))


@login_required
@require_POST
@coordinator_required
def listen_in(request: HttpRequest, coordinator: Volunteer, call_id: int) -> HttpResponse:
    """Listen to a connected call, muted: the coordinator's phone rings into it."""
    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        raise Http404
    try:
        listen_in_start(call=call, coordinator=coordinator)
    except ListenInRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Your phone rings: answer it to listen in, muted."))
    return redirect("desk:team")


def _own_listen_in(coordinator: Volunteer, listen_in_id: int) -> ListenIn:
    listen_in = ListenIn.objects.filter(pk=listen_in_id, coordinator=coordinator).first()
    if listen_in is None:
        raise Http404
    return listen_in


@login_required
@require_POST
@coordinator_required
def whisper(request: HttpRequest, coordinator: Volunteer, listen_in_id: int) -> HttpResponse:
    """Start or stop whispering to the call's volunteer (``on``: 1 or 0)."""
    listen_in = _own_listen_in(coordinator, listen_in_id)
    try:
        listen_in_whisper(
            listen_in=listen_in, coordinator=coordinator, on=request.POST.get("on") == "1"
        )
    except ListenInRefused as refused:
        messages.error(request, str(refused))
    return redirect("desk:team")


@login_required
@require_POST
@coordinator_required
def stop_listening(request: HttpRequest, coordinator: Volunteer, listen_in_id: int) -> HttpResponse:
    listen_in = _own_listen_in(coordinator, listen_in_id)
    try:
        listen_in_stop(listen_in=listen_in, coordinator=coordinator)
    except ListenInRefused as refused:
        messages.error(request, str(refused))
    return redirect("desk:team")
