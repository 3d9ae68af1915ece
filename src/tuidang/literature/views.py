from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record_many
from tuidang.literature.forms import BookRequestForm
from tuidang.literature.models import BookRequest
from tuidang.literature.services import book_request_create, book_request_mark_sent
from tuidang.volunteers.models import Volunteer
from tuidang.volunteers.selectors import call_of, volunteer_for


def _volunteer(request: HttpRequest) -> Volunteer:
    volunteer = volunteer_for(request)
    if volunteer is None:
        raise Http404
    return volunteer


def _coordinator(request: HttpRequest) -> Volunteer:
    volunteer = _volunteer(request)
    if not volunteer.is_coordinator:
        raise PermissionDenied
    return volunteer


@login_required
@require_POST
def request_books(request: HttpRequest, call_id: int) -> HttpResponse:
    volunteer = _volunteer(request)
    call = call_of(volunteer, call_id)
    form = BookRequestForm(request.POST, prefix="books")
    if not form.is_valid():
        from tuidang.volunteers.views import render_desk

        return render_desk(request, volunteer, book_form=form, status=400)
    book_request_create(
        call=call,
        titles=list(form.cleaned_data["titles"]),
        delivery=form.cleaned_data["delivery"],
        address=form.cleaned_data["address"],
        volunteer=volunteer,
    )
    messages.success(request, _("The book request is recorded."))
    return redirect("volunteers:desk")


@login_required
@require_GET
@never_cache
def queue(request: HttpRequest) -> HttpResponse:
    """Coordinators fulfil requests; postal addresses are shown only here."""
    _coordinator(request)
    open_requests = list(
        BookRequest.objects.filter(state=BookRequest.State.OPEN)
        .select_related("call")
        .prefetch_related("titles")
    )
    shown_addresses = [r for r in open_requests if r.address_sealed]
    audit_record_many(actor=request.user, action=Action.VIEW, targets=shown_addresses)
    return render(request, "literature/queue.html", {"requests": open_requests})


@login_required
@require_POST
def mark_sent(request: HttpRequest, public_id: str) -> HttpResponse:
    coordinator = _coordinator(request)
    book_request_mark_sent(
        request=get_object_or_404(BookRequest, public_id=public_id), coordinator=coordinator
    )
    messages.success(request, _("Marked as sent; the address is deleted."))
    return redirect("literature:queue")
