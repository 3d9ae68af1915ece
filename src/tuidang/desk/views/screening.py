"""The coordinators' screening page (blocks, flood mode, the night report) and the
volunteer's harassment flag on the desk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tuidang.calls.case_codes import case_code_digits, is_valid_case_code
from tuidang.calls.models import Call
from tuidang.calls.screening import call_flag_harassment
from tuidang.desk.decorators import coordinator_required, volunteer_required
from tuidang.desk.selectors import CHINA, POLICY_LABELS, call_of, night_report
from tuidang.screening.models import Block, FloodState, Policy, ScreeningEvent
from tuidang.screening.services import block_create, block_lift
from tuidang.volunteers.models import Volunteer


class BlockForm(forms.Form):
    case_code = forms.CharField(label=gettext_lazy("Case code of a call from this caller"))
    policy = forms.ChoiceField(
        label=gettext_lazy("Policy"),
        choices=[
            (p.value, p.label) for p in (Policy.SCREENING_GROUP, Policy.MESSAGE, Policy.REJECT)
        ],
    )
    hours = forms.IntegerField(
        label=gettext_lazy("For how many hours"), min_value=1, max_value=24 * 90
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def clean_case_code(self) -> Call:
        digits = case_code_digits(self.cleaned_data["case_code"])
        if not is_valid_case_code(digits):
            raise forms.ValidationError(gettext_lazy("This is not a valid case code."))
        call = Call.objects.filter(case_code=digits).first()
        if call is None:
            raise forms.ValidationError(gettext_lazy("No call has this case code."))
        if call.withheld:
            raise forms.ValidationError(
                gettext_lazy(
                    "This caller withheld their number: blocking them would block every "
                    "withheld caller."
                )
            )
        return call


# The nights a report can be asked for: none before the hotline, and none further ahead
# than a year (a night's hours are China time, so the calendar's ends would overflow).
FIRST_NIGHT = date(2000, 1, 1)
NIGHTS_AHEAD = 366


class NightForm(forms.Form):
    night = forms.DateField(label=gettext_lazy("Night"), required=False)

    def __init__(self, *args: Any, tonight: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last = tonight + timedelta(days=NIGHTS_AHEAD)

    def clean_night(self) -> date | None:
        night: date | None = self.cleaned_data["night"]
        if night is not None and not FIRST_NIGHT <= night <= self.last:
            raise forms.ValidationError(
                gettext_lazy(
                    "No night report for that date: choose one from %(first)s to %(last)s."
                ),
                params={"first": FIRST_NIGHT.isoformat(), "last": self.last.isoformat()},
            )
        return night


@login_required
@require_GET
@coordinator_required
def dashboard(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return _render_dashboard(request, BlockForm())


def _render_dashboard(request: HttpRequest, form: BlockForm, status: int = 200) -> HttpResponse:
    now = timezone.now()
    local = now.astimezone(CHINA)
    tonight = (local - timedelta(hours=8)).date()  # before 08:00 the night began yesterday
    night_form = NightForm(request.GET, tonight=tonight)
    if night_form.is_valid():
        night = night_form.cleaned_data["night"] or tonight
    else:
        night, status = tonight, 400
    report = night_report(night)
    # Named by the last call of the key (its case code and region), never by the key.
    last_call = Call.objects.filter(caller_key=OuterRef("caller_key")).order_by("-started_at")
    blocks = (
        Block.objects.filter(lifted_at__isnull=True, expires_at__gt=now)
        .annotate(
            last_case_code=Subquery(last_call.values("case_code")[:1]),
            last_region=Subquery(last_call.values("region")[:1]),
        )
        .order_by("-created_at")[:200]
    )
    context = {
        "flood": FloodState.objects.order_by("pk").first(),
        "report": report,
        "night": night,
        "night_form": night_form,
        "previous_night": night - timedelta(days=1) if night > FIRST_NIGHT else None,
        "next_night": night + timedelta(days=1) if night < night_form.last else None,
        "policy_labels": POLICY_LABELS,
        "blocks": blocks,
        "events": ScreeningEvent.objects.annotate(
            last_case_code=Subquery(last_call.values("case_code")[:1])
        ).order_by("-at")[:50],
        "form": form,
    }
    return render(request, "desk/screening.html", context, status=status)


@login_required
@require_POST
@coordinator_required
def block(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = BlockForm(request.POST)
    if not form.is_valid():
        return _render_dashboard(request, form, status=400)
    call: Call = form.cleaned_data["case_code"]
    block_create(
        caller_key=call.caller_key,
        policy=form.cleaned_data["policy"],
        hours=form.cleaned_data["hours"],
        reason=form.cleaned_data["reason"],
        actor=user,
    )
    messages.success(request, _("The caller is blocked."))
    return redirect("desk:screening")


@login_required
@require_POST
@coordinator_required
def lift(request: HttpRequest, coordinator: Volunteer, block_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    block_lift(block=get_object_or_404(Block, pk=block_id), actor=user)
    messages.success(request, _("The block is lifted."))
    return redirect("desk:screening")


@login_required
@require_POST
@volunteer_required
def flag(request: HttpRequest, volunteer: Volunteer, call_id: int) -> HttpResponse:
    """A volunteer flags the call in front of them as harassment."""
    call = call_of(volunteer, call_id)
    assert isinstance(request.user, User)
    if not call.withheld:
        call_flag_harassment(call=call, actor=request.user)
    messages.success(request, _("Flagged as harassment."))
    return redirect("desk:desk")
