"""Times on every page a volunteer opens are shown in their own time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tuidang.volunteers.models import Volunteer


class VolunteerTimeZoneMiddleware:
    """Activates the logged-in volunteer's time zone (after AuthenticationMiddleware);
    anyone else sees the hotline's default."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = ""
        if user is not None and user.is_authenticated and user.pk is not None:
            name = (
                Volunteer.objects.filter(user_id=int(user.pk))
                .values_list("time_zone", flat=True)
                .first()
                or ""
            )
        if name in zoneinfo.available_timezones():
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
