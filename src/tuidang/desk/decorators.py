"""Who may use a desk page: one place for the role checks of every desk view.

Each decorator looks up the volunteer profile of whoever is logged in and passes it to the
view as its second argument. They go inside ``login_required`` and the method checks, so
that anonymous visitors are sent to log in and a wrong method answers 405 before any role
is looked at::

    @login_required
    @require_POST
    @volunteer_required
    def hang_up(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse: ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tuidang.volunteers.models import Volunteer
from tuidang.volunteers.selectors import volunteer_for

P = ParamSpec("P")
VolunteerView = Callable[Concatenate[HttpRequest, Volunteer, P], HttpResponse]
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


def volunteer_required(view: VolunteerView[P]) -> View[P]:
    """Any volunteer; an account without a volunteer profile gets 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        volunteer = volunteer_for(request)
        if volunteer is None:
            raise Http404(_("This account has no volunteer profile."))
        return view(request, volunteer, *args, **kwargs)

    return wrapper


def coordinator_required(view: VolunteerView[P]) -> View[P]:
    """Coordinators and administrators; anyone else logged in gets 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        volunteer = volunteer_for(request)
        if volunteer is None or not volunteer.is_coordinator:
            raise PermissionDenied
        return view(request, volunteer, *args, **kwargs)

    return wrapper


def volunteer_coordinator_required(view: VolunteerView[P]) -> View[P]:
    """Coordinators and administrators, as ``coordinator_required``, except that an account
    without a volunteer profile gets 404 as on the rest of the desk (the book queue)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        volunteer = volunteer_for(request)
        if volunteer is None:
            raise Http404(_("This account has no volunteer profile."))
        if not volunteer.is_coordinator:
            raise PermissionDenied
        return view(request, volunteer, *args, **kwargs)

    return wrapper
