"""Coordinators' view of the team: who is available, on a call, in wrap-up or away."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tuidang.calls.models import Call
from tuidang.volunteers.models import Volunteer
from tuidang.volunteers.selectors import volunteer_for


def _team() -> list[Volunteer]:
    current = Call.objects.filter(state=Call.State.CONNECTED)
    return list(
        Volunteer.objects.prefetch_related(
            "languages", Prefetch("calls", queryset=current, to_attr="current_calls")
        ).order_by("presence", "display_name")
    )


def _coordinator(request: HttpRequest) -> None:
    volunteer = volunteer_for(request)
    if volunteer is None or not volunteer.is_coordinator:
        raise PermissionDenied


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    _coordinator(request)
    return render(request, "volunteers/team.html", {"team": _team()})


@login_required
@require_GET
def team_live(request: HttpRequest) -> HttpResponse:
    _coordinator(request)
    return render(request, "volunteers/_team.html", {"team": _team()})
