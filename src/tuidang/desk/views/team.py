"""Coordinators' view of the team: who is available, on a call, in wrap-up or away."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tuidang.calls.models import Call
from tuidang.desk.decorators import coordinator_required
from tuidang.volunteers.models import Volunteer


def _team() -> list[Volunteer]:
    current = Call.objects.filter(state=Call.State.CONNECTED)
    return list(
        Volunteer.objects.prefetch_related(
            "languages", Prefetch("calls", queryset=current, to_attr="current_calls")
        ).order_by("presence", "display_name")
    )


@login_required
@require_GET
@coordinator_required
def team(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return render(request, "desk/team.html", {"team": _team()})


@login_required
@require_GET
@coordinator_required
def team_live(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return render(request, "desk/_team.html", {"team": _team()})
