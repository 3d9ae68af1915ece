"""Books: a request taken on the desk, and the coordinators' queue of requests to fulfil."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record_many
from tuidang.desk.decorators import volunteer_coordinator_required, volunteer_required
from tuidang.desk.forms import BookRequestForm
from tuidang.desk.selectors import call_of
from tuidang.desk.views.desk import render_desk
from tuidang.literature.models import BookRequest
from tuidang.literature.services import book_request_create, book_request_mark_sent
from tuidang.volunteers.models import Volunteer


@login_required
@require_POST
@volunteer_required
def request_books(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse:
    call = call_of(volunteer, call_id)
    form = BookRequestForm(request.POST, prefix="books")
    if not form.is_valid():
        return render_desk(request, volunteer, book_form=form, status=400)
    book_request_create(
        call=call,
        titles=list(form.cleaned_data["titles"]),
        delivery=form.cleaned_data["delivery"],
        address=form.cleaned_data["address"],
        volunteer=volunteer,
    )
    messages.success(request, _("The book request is recorded."))
    return redirect("desk:desk")


@login_required
@require_GET
@never_cache
@volunteer_coordinator_required
def queue(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    """Coordinators fulfil requests; postal addresses are shown only here."""
    open_requests = list(
        BookRequest.objects.filter(state=BookRequest.State.OPEN)
        .select_related("call")
        .prefetch_related("titles")
    )
    shown_addresses = [r for r in open_requests if r.address_sealed]
    audit_record_many(actor=request.user, action=Action.VIEW, targets=shown_addresses)
    return render(request, "desk/books.html", {"requests": open_requests})


@login_required
@require_POST
@volunteer_coordinator_required
def mark_sent(request: HttpRequest, coordinator: Volunteer, public_id: str) -> HttpResponse:
    book_request_mark_sent(
        request=get_object_or_404(BookRequest, public_id=public_id), coordinator=coordinator
    )
    messages.success(request, _("Marked as sent; the address is deleted."))
    return redirect("desk:books")
