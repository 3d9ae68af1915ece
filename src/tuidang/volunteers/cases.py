"""Opening an earlier case by the code a caller reads out."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from tuidang.calls.case_codes import format_case_code, is_valid_case_code
from tuidang.calls.models import Call
from tuidang.volunteers.selectors import volunteer_for


class CaseCodeForm(forms.Form):
    code = forms.CharField(label=_("Case code the caller gives"), max_length=16)

    def clean_code(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["code"] if ch.isdigit())
        if len(digits) != 7:
            raise forms.ValidationError(_("A case code has seven digits."))
        if not is_valid_case_code(digits):
            raise forms.ValidationError(
                _("This code is not right: ask the caller to read it again, digit by digit.")
            )
        return digits


@login_required
@require_GET
def open_case(request: HttpRequest) -> HttpResponse:
    volunteer = volunteer_for(request)
    if volunteer is None:
        raise Http404
    form = CaseCodeForm(request.GET or None)
    case = None
    not_found = False
    if form.is_valid():
        case = (
            Call.objects.filter(case_code=form.cleaned_data["code"])
            .select_related("volunteer")
            .prefetch_related("declarations")
            .first()
        )
        not_found = case is None
    return render(
        request,
        "volunteers/case.html",
        {
            "form": form,
            "case": case,
            "case_code": format_case_code(case.case_code) if case else "",
            "not_found": not_found,
            # A note is read by its author and by coordinators.
            "notes": [
                note
                for note in (case.notes.all() if case else [])
                if volunteer.is_coordinator or note.author_id == volunteer.pk
            ],
        },
        status=400 if request.GET and not form.is_valid() else 200,
    )
