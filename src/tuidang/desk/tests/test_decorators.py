"""The desk's role checks: who each decorator lets through, and what the others get."""

from typing import ParamSpec, Protocol

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.test import RequestFactory

from tuidang.desk.decorators import (
    View,
    VolunteerView,
    coordinator_required,
    volunteer_coordinator_required,
    volunteer_required,
)
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

P = ParamSpec("P")


class Decorator(Protocol):
    """volunteer_required and its kin: each keeps the view's own arguments."""

    def __call__(self, view: VolunteerView[P], /) -> View[P]: ...


def answer(volunteer: Volunteer, call_id: int = 0) -> HttpResponse:
    """A view that says whom it was given, and with what argument."""
    return HttpResponse(f"{volunteer.user.username} {call_id}")


def request_by(user: User | AnonymousUser) -> HttpRequest:
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.parametrize(
    "decorator", [volunteer_required, coordinator_required, volunteer_coordinator_required]
)
def test_the_view_gets_the_volunteer_and_its_own_arguments(
    decorator: Decorator, lin: Volunteer
) -> None:
    view = decorator(lambda request, volunteer, call_id: answer(volunteer, call_id))
    assert view(request_by(lin.user), call_id=7).content == b"lin 7"


def test_any_volunteer_passes_volunteer_required(mei: Volunteer, lin: Volunteer) -> None:
    view = volunteer_required(lambda request, volunteer: answer(volunteer))
    assert view(request_by(mei.user)).content == b"mei 0"
    assert view(request_by(lin.user)).content == b"lin 0"


@pytest.mark.parametrize(
    "decorator", [volunteer_required, coordinator_required, volunteer_coordinator_required]
)
def test_anonymous_visitors_never_reach_the_view(
    decorator: Decorator,
) -> None:
    view = decorator(lambda request, volunteer: answer(volunteer))
    with pytest.raises((Http404, PermissionDenied)):
        view(request_by(AnonymousUser()))


def test_an_account_without_a_profile_gets_404_from_volunteer_required(charlie: User) -> None:
    view = volunteer_required(lambda request, volunteer: answer(volunteer))
    with pytest.raises(Http404):
        view(request_by(charlie))


def test_coordinator_required_refuses_volunteers_and_accounts_without_a_profile(
    mei: Volunteer, charlie: User
) -> None:
    view = coordinator_required(lambda request, volunteer: answer(volunteer))
    for user in (mei.user, charlie):
        with pytest.raises(PermissionDenied):
            view(request_by(user))


def test_the_book_queue_check_refuses_volunteers_and_hides_from_accounts_without_a_profile(
    mei: Volunteer, ada: Volunteer, charlie: User
) -> None:
    view = volunteer_coordinator_required(lambda request, volunteer: answer(volunteer))
    assert view(request_by(ada.user)).content == b"ada 0"
    with pytest.raises(PermissionDenied):
        view(request_by(mei.user))
    with pytest.raises(Http404):
        view(request_by(charlie))
