"""The volunteer's own settings: the time zone the desk shows times in."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tuidang.desk.decorators import volunteer_required
from tuidang.desk.forms import TimeZoneForm
from tuidang.volunteers.models import Volunteer
from tuidang.volunteers.services import volunteer_set_time_zone


@login_required
@require_http_methods(["GET", "POST"])
@volunteer_required
def profile(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    form = TimeZoneForm(
        request.POST or None, initial={"time_zone": volunteer.time_zone or settings.TIME_ZONE}
    )
    if request.method == "POST":
        if form.is_valid():
            volunteer_set_time_zone(volunteer=volunteer, time_zone=form.cleaned_data["time_zone"])
            messages.success(request, _("Times are now shown in your time zone."))
            return redirect("desk:desk")
        return render(
            request, "desk/profile.html", {"form": form, "volunteer": volunteer}, status=400
        )
    return render(request, "desk/profile.html", {"form": form, "volunteer": volunteer})
