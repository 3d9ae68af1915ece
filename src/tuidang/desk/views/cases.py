"""Opening an earlier case by the code a caller reads out."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record_many
from tuidang.calls.case_codes import (
    CODE_DIGITS,
    OLDER_CODE_DIGITS,
    case_code_digits,
    format_case_code,
    is_valid_case_code,
)
from tuidang.calls.services import CaseLookupLimited, case_look_up
from tuidang.declarations.models import Declaration, RevocationReason
from tuidang.declarations.services import declaration_revoke, receipt_code
from tuidang.desk.decorators import coordinator_required, volunteer_required
from tuidang.volunteers.models import Volunteer


class CaseCodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Case code the caller gives"), max_length=16)

    def clean_code(self) -> str:
        digits = case_code_digits(self.cleaned_data["code"])
        if len(digits) not in (CODE_DIGITS, OLDER_CODE_DIGITS):
            raise forms.ValidationError(
                gettext_lazy("A case code has nine digits (seven for older calls).")
            )
        if not is_valid_case_code(digits):
            raise forms.ValidationError(
                gettext_lazy(
                    "This code is not right: ask the caller to read it again, digit by digit."
                )
            )
        return digits


@login_required
@require_GET
@volunteer_required
def open_case(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    form = CaseCodeForm(request.GET or None)
    case = None
    not_found = False
    if form.is_valid():
        try:
            case = case_look_up(code=form.cleaned_data["code"], volunteer=volunteer)
        except CaseLookupLimited as limited:
            response = render(
                request, "desk/case.html", {"form": form, "limited": True}, status=429
            )
            response["Retry-After"] = str(limited.retry_after_seconds)
            return response
        not_found = case is None
    # A note is read by its author and by coordinators.
    notes = [
        note
        for note in (case.notes.all() if case else [])
        if volunteer.is_coordinator or note.author_id == volunteer.pk
    ]
    audit_record_many(actor=request.user, action=Action.VIEW, targets=notes)
    declarations = (
        list(case.declarations.select_related("revocation").order_by("pk")) if case else []
    )
    # A receipt's code is read again to a caller who lost it (or never heard it).
    audit_record_many(actor=request.user, action=Action.VIEW, targets=declarations)
    return render(
        request,
        "desk/case.html",
        {
            "form": form,
            "case": case,
            "case_code": format_case_code(case.case_code) if case else "",
            "not_found": not_found,
            "can_revoke": volunteer.is_coordinator,
            "notes": notes,
            "receipts": [
                {"declaration": declaration, "code": receipt_code(declaration)}
                for declaration in declarations
            ],
        },
        status=400 if request.GET and not form.is_valid() else 200,
    )


@login_required
@require_POST
@coordinator_required
def revoke(request: HttpRequest, coordinator: Volunteer, declaration_id: int) -> HttpResponse:
    """Coordinators revoke a declaration: a duplicate found by hand, or a withdrawal."""
    # Published or not: a revocation of a pending declaration is published in its batch.
    declaration = get_object_or_404(Declaration, pk=declaration_id)
    reason = request.POST.get("reason", "")
    if reason not in RevocationReason.values:
        return HttpResponseBadRequest("reason must be duplicate or withdrawn\n")
    assert isinstance(request.user, User)
    declaration_revoke(declaration=declaration, reason=reason, by=request.user)
    messages.success(request, _("The declaration is revoked; the log records it."))
    case = declaration.call
    return redirect(f"{reverse('desk:open-case')}?code={case.case_code if case else ''}")
