"""The volunteer's desk: presence, the call in front of them, recording it and its declarations."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record_many
from tuidang.calls.case_codes import format_case_code
from tuidang.calls.forms import CallRecordForm
from tuidang.calls.models import Call
from tuidang.calls.services import (
    TransferRefused,
    call_hang_up,
    call_record,
    transfer_hand_over,
    transfer_start,
)
from tuidang.declarations.forms import (
    MAX_FAMILY_MEMBERS,
    CallerDeclarationForm,
    FamilyFormSet,
)
from tuidang.declarations.publication import publication_next
from tuidang.declarations.services import declaration_record, receipt_code
from tuidang.desk import poll
from tuidang.desk.decorators import volunteer_required
from tuidang.desk.forms import BookRequestForm, TransferForm
from tuidang.desk.selectors import (
    call_of,
    caller_history,
    current_call,
    listener,
    live_transfer,
    queues,
    talking_points,
    transfer_colleagues,
)
from tuidang.volunteers.models import Volunteer
from tuidang.volunteers.services import PresenceNotAllowed, volunteer_set_presence


def render_desk(
    request: HttpRequest,
    volunteer: Volunteer,
    *,
    caller_form: CallerDeclarationForm | None = None,
    family_formset: Any = None,
    record_form: CallRecordForm | None = None,
    book_form: BookRequestForm | None = None,
    transfer_form: TransferForm | None = None,
    status: int = 200,
) -> HttpResponse:
    call = current_call(volunteer)
    if call is not None and record_form is None:
        recorded_types = list(call.dispositions.values_list("call_type", flat=True))
        record_form = CallRecordForm(initial={"types": recorded_types})
    notes = []
    if call is not None:
        # A note is read by its author and by coordinators.
        notes = [
            n for n in call.notes.all() if volunteer.is_coordinator or n.author_id == volunteer.pk
        ]
        audit_record_many(actor=request.user, action=Action.VIEW, targets=notes)
    context = {
        "volunteer": volunteer,
        "call": call,
        "history": caller_history(call) if call else None,
        "talking_points": talking_points(call.language) if call else {},
        "record_form": record_form,
        "book_form": book_form or BookRequestForm(prefix="books"),
        "notes": notes,
        "case_code": format_case_code(call.case_code) if call else "",
        "recorded": [
            {"declaration": declaration, "code": receipt_code(declaration)}
            for declaration in (call.declarations.order_by("pk") if call else [])
        ],
        # What the volunteer tells the caller: when their receipt can be checked.
        "checkable_from": publication_next(),
        "hotline_time_zone": settings.HOTLINE_TIME_ZONE,
        "caller_form": caller_form
        or CallerDeclarationForm(prefix="caller", initial={"region": call.region if call else ""}),
        "family_formset": family_formset or FamilyFormSet(prefix="family"),
        "queues": queues(),
        "transfer": live_transfer(call) if call else None,
        "listener": listener(call) if call else None,
        "transfer_form": transfer_form
        or (
            TransferForm(colleagues=transfer_colleagues(volunteer))
            if call is not None and call.volunteer_id == volunteer.pk
            else None
        ),
    }
    return render(request, "desk/desk.html", context, status=status)


@login_required
@require_GET
@volunteer_required
def desk(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    return render_desk(request, volunteer)


@login_required
@require_GET
@volunteer_required
def live(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    """Polled by the desk: presence and queues, the presence buttons and the shown call's
    state and actions (swapped in place); a reload when the call in front changes.

    The answer carries the poll token (``desk/poll.py``): while nothing it names changes,
    the next polls are answered 204 before they reach this view."""
    # The versions first: a change after this read shows in the next poll.
    versions = poll.versions_current([poll.CALLS, poll.volunteer_key(volunteer.pk)])
    call = current_call(volunteer)
    shown = request.GET.get("call", "")
    shown_call = call if call is not None and shown == str(call.pk) else None
    if shown_call is None and shown.isdigit() and len(shown) < 19:
        shown_call = Call.objects.filter(pk=int(shown), volunteer=volunteer).first()
    response = render(
        request,
        "desk/_live.html",
        {
            "volunteer": volunteer,
            "queues": queues(),
            "call": call,
            "shown_call": shown_call,
            "transfer": live_transfer(shown_call) if shown_call else None,
            "listener": listener(shown_call) if shown_call else None,
            "oob": True,
        },
    )
    # Only a new call reloads the page: a reload must never wipe a half-typed record, so a
    # call that leaves the screen (wrap-up over, a new offer ringing) stays until then;
    # its state and buttons follow in place.
    if call is not None and shown != str(call.pk):
        response["HX-Refresh"] = "true"
    elif request.session.session_key:
        response[poll.HEADER] = poll.token_for(
            volunteer_id=volunteer.pk,
            session_key=request.session.session_key,
            shown=shown,
            versions=versions,
        )
    return response


@login_required
@require_POST
@volunteer_required
def presence(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    try:
        volunteer_set_presence(volunteer=volunteer, presence=request.POST.get("presence", ""))
    except PresenceNotAllowed:
        messages.error(request, _("You cannot change your presence during a call."))
    return redirect("desk:desk")


@login_required
@require_POST
@volunteer_required
def record_declarations(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse:
    call = call_of(volunteer, call_id)
    data = request.POST.copy()
    caller_form = CallerDeclarationForm(data, prefix="caller")
    family = FamilyFormSet(data, prefix="family")
    if "add_family" in data and family.management_form.is_valid():
        # One more family row (up to the most one call records), keeping what was typed.
        total = family.total_form_count()
        data["family-TOTAL_FORMS"] = str(min(total + 1, MAX_FAMILY_MEMBERS))
        return render_desk(
            request,
            volunteer,
            caller_form=CallerDeclarationForm(data, prefix="caller"),
            family_formset=FamilyFormSet(data, prefix="family"),
        )
    # A broken management form (a count that is no number, or out of bounds) leaves the
    # family formset invalid: the form comes back with its error, and nothing is recorded.
    if not (caller_form.is_valid() and family.is_valid()):
        return render_desk(
            request, volunteer, caller_form=caller_form, family_formset=family, status=400
        )
    region = caller_form.cleaned_data["region"]
    people = [replace(form.person(), region=region) for form in family if form.has_changed()]
    caller = caller_form.person()
    if caller is not None:
        people.insert(0, caller)
    if not people:
        caller_form.add_error(
            "renounces", _("Nothing to record: tick the caller or add a family member.")
        )
        return render_desk(
            request, volunteer, caller_form=caller_form, family_formset=family, status=400
        )
    created = declaration_record(call=call, people=people, recorded_by=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        ngettext("%(n)d declaration recorded.", "%(n)d declarations recorded.", len(created))
        % {"n": len(created)},
    )
    if current_call(volunteer) != call:
        # From a page left open after the call left the desk (another tab, wrap-up over):
        # the receipts are on the case's page, never lost.
        messages.info(
            request,
            _("This call is no longer on your desk: its receipts are here, on its case."),
        )
        return _go(request, f"{reverse('desk:open-case')}?code={call.case_code}")
    return redirect("desk:desk")


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Another page: by a redirect, or for htmx, which would swap in a part of it, by
    asking it to load the page."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
@volunteer_required
def record_call(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse:
    call = call_of(volunteer, call_id)
    form = CallRecordForm(request.POST)
    if not form.is_valid():
        return render_desk(request, volunteer, record_form=form, status=400)
    call_record(
        call=call,
        types=form.cleaned_data["types"],
        note=form.cleaned_data["note"],
        volunteer=volunteer,
    )
    messages.success(request, _("The call is recorded."))
    return redirect("desk:desk")


@login_required
@require_POST
@volunteer_required
def hang_up(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse:
    call = call_of(volunteer, call_id)
    call_hang_up(call=call)
    return redirect("desk:desk")


@login_required
@require_POST
@volunteer_required
def transfer(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse:
    """Hand the call in front of the volunteer to a free colleague, warm or cold."""
    call = call_of(volunteer, call_id)
    form = TransferForm(request.POST, colleagues=transfer_colleagues(volunteer))
    if not form.is_valid():
        return render_desk(request, volunteer, transfer_form=form, status=400)
    try:
        transfer_start(
            call=call,
            volunteer=volunteer,
            to_volunteer_id=form.cleaned_data["to"],
            warm=form.cleaned_data["warm"],
        )
    except TransferRefused as refused:
        messages.error(request, str(refused))
        return redirect("desk:desk")
    messages.success(request, _("Their phone rings; the caller hears music meanwhile."))
    return redirect("desk:desk")


@login_required
@require_POST
@volunteer_required
def hand_over(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse:
    """A warm transfer: the colleague, told about the call, now takes the caller."""
    call = call_of(volunteer, call_id)
    try:
        transfer_hand_over(call=call, volunteer=volunteer)
    except TransferRefused as refused:
        messages.error(request, str(refused))
        return redirect("desk:desk")
    messages.success(request, _("The caller is with your colleague now."))
    return redirect("desk:desk")
