from __future__ import annotations

from django.http import HttpRequest

from tuidang.volunteers.models import Volunteer


def volunteer_for(request: HttpRequest) -> Volunteer | None:
    """The volunteer profile of whoever is logged in, if they have one."""
    user = request.user
    if not user.is_authenticated or user.pk is None:
        return None
    return Volunteer.objects.filter(user_id=int(user.pk)).first()
