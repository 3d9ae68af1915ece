"""Reports from the kept counts: the coordinators' page with its charts, the same as CSV,
and each volunteer's occupancy (coordinators see everyone's)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from tuidang.desk.decorators import coordinator_required, volunteer_required
from tuidang.reports import charts
from tuidang.reports.selectors import BREAKDOWNS, Report, Row, latest_day, occupancy, report
from tuidang.volunteers.models import Volunteer

# Ten years of days at most: a report is read from day cells, but not without end.
LONGEST_SPAN_DAYS = 3660


class SpanForm(forms.Form):
    first = forms.DateField(label=gettext_lazy("From"))
    last = forms.DateField(label=gettext_lazy("To"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = cleaned.get("first"), cleaned.get("last")
        if first and last:
            if last < first:
                raise forms.ValidationError(gettext_lazy("The last day is before the first."))
            if (last - first).days > LONGEST_SPAN_DAYS:
                raise forms.ValidationError(gettext_lazy("Ask for ten years at most."))
        return cleaned


class ReportForm(SpanForm):
    by = forms.ChoiceField(label=gettext_lazy("By"), choices=list(BREAKDOWNS.items()))


def _form(request: HttpRequest, form_class: type[SpanForm]) -> SpanForm:
    """The form bound to the query, or to the last four weeks when nothing was asked."""
    if "first" in request.GET or "last" in request.GET:
        return form_class(request.GET)
    last = latest_day()
    return form_class({"first": last - timedelta(days=27), "last": last, "by": "day"})


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _charts(first: date, last: date) -> list[tuple[str, SafeString]]:
    by_hour = report(first=first, last=last, by="hour")
    by_day = report(first=first, last=last, by="day")
    by_channel = report(first=first, last=last, by="channel")
    offered, answered = _("Offered"), _("Answered")
    level = _("Service level")

    def calls(title: str, rows: list[Row], testid: str) -> SafeString:
        return charts.columns(
            title=title,
            labels=[row.label for row in rows],
            bars=[
                charts.Series(offered, [row.offered for row in rows]),
                charts.Series(answered, [row.answered for row in rows]),
            ],
            line=charts.Series(level, [row.service_level or 0 for row in rows]),
            testid=testid,
        )

    hour_title = _("Calls and service level by hour of day")
    day_title = _("Calls and service level by day")
    channel_title = _("Channel mix (calls offered)")
    renunciations_title = _("Renunciations by day")
    renunciations = [row.renunciations for row in by_day.rows]
    return [
        (hour_title, calls(hour_title, by_hour.rows, "chart-hour")),
        (day_title, calls(day_title, by_day.rows, "chart-day")),
        (
            channel_title,
            charts.shares(
                title=channel_title,
                parts=[(row.label, row.offered) for row in by_channel.rows],
                testid="chart-channel",
            ),
        ),
        (
            renunciations_title,
            charts.columns(
                title=renunciations_title,
                labels=[row.label for row in by_day.rows],
                bars=[charts.Series(_("Renunciations"), renunciations)],
                testid="chart-renunciations",
            ),
        ),
    ]


@login_required
@require_GET
@coordinator_required
def reports(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    form = _form(request, ReportForm)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        context["report"] = report(first=first, last=last, by=form.cleaned_data["by"])
        context["by_label"] = BREAKDOWNS[form.cleaned_data["by"]]
        context["charts"] = _charts(first, last)
        context["query"] = request.GET.urlencode() or (
            f"first={first.isoformat()}&last={last.isoformat()}&by=day"
        )
    return render(request, "desk/reports.html", context, status=200 if form.is_valid() else 400)


COLUMNS = (
    ("offered", gettext_lazy("Offered")),
    ("answered", gettext_lazy("Answered")),
    ("answered_in_threshold", gettext_lazy("Answered within threshold")),
    ("abandoned", gettext_lazy("Abandoned")),
    ("abandoned_short", gettext_lazy("Abandoned within 5 s")),
    ("voicemails", gettext_lazy("Voicemails")),
    ("callbacks_made", gettext_lazy("Callbacks made")),
    ("callbacks_reached", gettext_lazy("Callbacks reached")),
    ("screened", gettext_lazy("Screened away")),
    ("longest_wait_seconds", gettext_lazy("Longest wait (s)")),
    ("talk_seconds", gettext_lazy("Talk (s)")),
    ("renunciations", gettext_lazy("Renunciations")),
    ("book_requests", gettext_lazy("Book requests")),
)


def _csv_row(row: Row) -> list[object]:
    return [
        row.label,
        *[row.counts[name] for name, _label in COLUMNS],
        _percent(row.service_level),
        _seconds(row.average_answer_seconds),
        _seconds(row.average_talk_seconds),
        _seconds(row.average_wrap_up_seconds),
        "" if row.renunciations_per_answered is None else f"{row.renunciations_per_answered:.2f}",
    ]


@login_required
@require_GET
@coordinator_required
def reports_csv(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    form = _form(request, ReportForm)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    result: Report = report(
        first=form.cleaned_data["first"],
        last=form.cleaned_data["last"],
        by=form.cleaned_data["by"],
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"calls-{result.first.isoformat()}-{result.last.isoformat()}-{result.by}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(
        [
            str(BREAKDOWNS[result.by]),
            *[str(label) for _name, label in COLUMNS],
            _("Service level (%)"),
            _("Average speed of answer (s)"),
            _("Average talk (s)"),
            _("Average wrap-up (s)"),
            _("Renunciations per answered call"),
        ]
    )
    for row in [*result.rows, *([result.total] if result.total else [])]:
        writer.writerow(_csv_row(row))
    return response


@login_required
@require_GET
@volunteer_required
def volunteer_occupancy(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    """Coordinators see every volunteer's occupancy; a volunteer sees only their own."""
    form = _form(request, SpanForm)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        context["rows"] = occupancy(
            first=form.cleaned_data["first"],
            last=form.cleaned_data["last"],
            volunteer=None if volunteer.is_coordinator else volunteer,
        )
    return render(request, "desk/occupancy.html", context, status=200 if form.is_valid() else 400)
