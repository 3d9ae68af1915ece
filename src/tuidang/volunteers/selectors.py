from __future__ import annotations

from django.http import Http404, HttpRequest

from tuidang.calls.models import Call
from tuidang.volunteers.models import Volunteer


def volunteer_for(request: HttpRequest) -> Volunteer | None:
    """The volunteer profile of whoever is logged in, if they have one."""
    user = request.user
    if not user.is_authenticated or user.pk is None:
        return None
    return Volunteer.objects.filter(user_id=int(user.pk)).first()


def call_of(volunteer: Volunteer, call_id: int) -> Call:
    """A call the volunteer may act on: their own; coordinators any. Else 404, so that
    a volunteer cannot even learn which calls exist."""
    call = Call.objects.filter(pk=call_id).first()
    if call is None or (call.volunteer_id != volunteer.pk and not volunteer.is_coordinator):
        raise Http404
    return call
