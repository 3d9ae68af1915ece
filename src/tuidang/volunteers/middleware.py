"""Times on every page a volunteer opens are shown in their own time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tuidang.lib.zones import time_zone
from tuidang.volunteers.models import Volunteer


class VolunteerTimeZoneMiddleware:
    """Activates the logged-in volunteer's time zone (after AuthenticationMiddleware);
    anyone else sees the hotline's default."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = self._zone(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _zone(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
        """The volunteer's zone; nothing is read for anyone not logged in (a webhook)."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.pk is None:
            return None
        name = (
            Volunteer.objects.filter(user_id=int(user.pk))
            .values_list("time_zone", flat=True)
            .first()
        )
        return time_zone(name or "")
