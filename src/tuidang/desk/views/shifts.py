"""Shifts on the desk: a volunteer's own schedule (in their zone), signing up for open
slots and dropping their own, the calendar feed; coordinators create shifts, fill slots,
cancel an occurrence, and read the coverage page (and its CSV)."""

from __future__ import annotations

import csv
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tuidang.desk.coverage import DAYS, coverage
from tuidang.desk.decorators import coordinator_required, volunteer_required
from tuidang.desk.forms import AssignForm, ShiftEditForm, ShiftForm
from tuidang.lib.languages import Language
from tuidang.shifts import selectors
from tuidang.shifts.feed import feed_calendar
from tuidang.shifts.models import Assignment, QueueShifts, Shift, Slot
from tuidang.shifts.services import (
    ShiftRefused,
    WallTimeNote,
    assignment_drop,
    calendar_feed_create,
    calendar_feed_revoke,
    queue_shifts_set,
    shift_create,
    shift_delete,
    shift_update,
    slot_assign,
    slot_cancel,
)
from tuidang.shifts.times import Oddity
from tuidang.volunteers.models import Volunteer

CHINA = ZoneInfo("Asia/Shanghai")


@login_required
@require_GET
@volunteer_required
def schedule(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    return _render_schedule(request, volunteer)


def _render_schedule(
    request: HttpRequest, volunteer: Volunteer, new_feed_url: str = ""
) -> HttpResponse:
    now = timezone.now()
    mine = selectors.schedule_of(volunteer, now)
    languages = volunteer.language_codes()
    upcoming = selectors.slots_between(now, now + timedelta(days=DAYS), languages)
    taken = {assignment.slot_id for assignment in mine}
    open_slots = [
        slot
        for slot in upcoming
        if slot.pk not in taken
        and getattr(slot, "heads", 0) < slot.shift.target_heads
        and slot.ends_at > now
    ]
    for assignment in mine:
        notice = timedelta(hours=assignment.slot.shift.notice_hours)
        assignment.droppable = now <= assignment.starts_at - notice  # type: ignore[attr-defined]
    return render(
        request,
        "desk/shifts.html",
        {
            "volunteer": volunteer,
            "mine": mine,
            "open_slots": open_slots,
            "has_feed": selectors.has_feed(volunteer),
            "new_feed_url": new_feed_url,
            "zone": volunteer.zone(),
        },
    )


@login_required
@require_POST
@volunteer_required
def sign_up(request: HttpRequest, volunteer: Volunteer, slot_id: int) -> HttpResponse:
    slot = get_object_or_404(Slot, pk=slot_id)
    try:
        slot_assign(slot=slot, volunteer=volunteer, by=volunteer)
    except ShiftRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("You are on this shift."))
    return redirect("desk:shifts")


@login_required
@require_POST
@volunteer_required
def drop(request: HttpRequest, volunteer: Volunteer, assignment_id: int) -> HttpResponse:
    assignment = get_object_or_404(
        Assignment.objects.select_related("slot__shift"), pk=assignment_id
    )
    if assignment.volunteer_id != volunteer.pk and not volunteer.is_coordinator:
        raise Http404(_("No such shift of yours."))
    slot_id = assignment.slot_id
    try:
        assignment_drop(assignment=assignment, by=volunteer)
    except ShiftRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Taken off the shift."))
    if volunteer.is_coordinator and request.POST.get("back") == "slot":
        return redirect("desk:slot", slot_id=slot_id)
    return redirect("desk:shifts")


@login_required
@require_POST
@volunteer_required
def feed_new(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    """A new secret URL, shown in this answer only: it is never stored (only its hash is),
    nor put in a message that would wait in a cookie or the session."""
    token = calendar_feed_create(volunteer=volunteer)
    url = request.build_absolute_uri(reverse("desk:feed", args=[token]))
    return _render_schedule(request, volunteer, new_feed_url=url)


@login_required
@require_POST
@volunteer_required
def feed_revoke(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    calendar_feed_revoke(volunteer=volunteer)
    messages.success(request, _("Your calendar URL no longer works."))
    return redirect("desk:shifts")


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The calendar app's request: no login, the secret URL is the key; a revoked or
    unknown one is 404 at once."""
    volunteer = selectors.feed_owner(token) if len(token) < 100 else None
    if volunteer is None:
        raise Http404("No such calendar.")
    body = feed_calendar(volunteer, now=timezone.now(), host=request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def _note_text(note: WallTimeNote, zone: str) -> str:
    values = {
        "date": note.local_date.isoformat(),
        "time": note.wall_time.strftime("%H:%M"),
        "zone": zone,
        "at": note.instant.astimezone(ZoneInfo(zone)).strftime("%H:%M %Z"),
    }
    if note.skipped:
        text = _(
            "On %(date)s the clocks skip %(time)s in %(zone)s: that occurrence does not happen."
        )
    elif note.oddity == Oddity.GAP:
        text = _(
            "On %(date)s %(time)s does not exist in %(zone)s (clocks go forward): "
            "that time is taken as %(at)s."
        )
    else:
        text = _(
            "On %(date)s %(time)s happens twice in %(zone)s (clocks go back): "
            "the first, %(at)s, is taken."
        )
    return text % values


@login_required
@require_http_methods(["GET", "POST"])
@coordinator_required
def shift_new(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    initial = {
        "time_zone": volunteer.time_zone or settings.TIME_ZONE,
        "weekly": True,
        "min_heads": 1,
        "target_heads": 2,
        "notice_hours": 24,
        **{
            key: request.GET[key]
            for key in ("language", "first_date", "start_time")
            if key in request.GET
        },
    }
    form = ShiftForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            shift, notes = shift_create(
                language=data["language"],
                time_zone=data["time_zone"],
                weekly=data["weekly"],
                first_date=data["first_date"],
                last_date=data["last_date"],
                start_time=data["start_time"],
                end_time=data["end_time"],
                min_heads=data["min_heads"],
                target_heads=data["target_heads"],
                notice_hours=data["notice_hours"],
                number=data["number"] or "",
            )
        except ShiftRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Shift created: %(shift)s.") % {"shift": shift})
            for note in notes:
                messages.warning(request, _note_text(note, shift.time_zone))
            return redirect(reverse("desk:coverage") + f"?language={shift.language}")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "desk/shift_new.html", {"form": form, "volunteer": volunteer}, status=status
    )


def _assignable(slot: Slot) -> QuerySet[Volunteer]:
    return (
        Volunteer.objects.filter(languages__language=slot.language)
        .exclude(assignments__slot=slot)
        .order_by("display_name")
    )


@login_required
@require_GET
@coordinator_required
def slot_detail(request: HttpRequest, volunteer: Volunteer, slot_id: int) -> HttpResponse:
    slot = get_object_or_404(Slot.objects.select_related("shift"), pk=slot_id)
    return _render_slot(request, volunteer, slot)


def _render_slot(
    request: HttpRequest,
    volunteer: Volunteer,
    slot: Slot,
    form: AssignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    choices = [(v.pk, v.display_name) for v in _assignable(slot)]
    return render(
        request,
        "desk/slot.html",
        {
            "volunteer": volunteer,
            "slot": slot,
            "shift": slot.shift,
            "on_slot": slot.assignments.select_related("volunteer").order_by(
                "volunteer__display_name"
            ),
            "form": form or AssignForm(choices=choices),
            "shift_zone": slot.shift.zone(),
            "china": CHINA,
        },
        status=status,
    )


@login_required
@require_POST
@coordinator_required
def slot_assign_view(request: HttpRequest, volunteer: Volunteer, slot_id: int) -> HttpResponse:
    slot = get_object_or_404(Slot.objects.select_related("shift"), pk=slot_id)
    choices = [(v.pk, v.display_name) for v in _assignable(slot)]
    form = AssignForm(request.POST, choices=choices)
    if not form.is_valid():
        return _render_slot(request, volunteer, slot, form=form, status=400)
    chosen = Volunteer.objects.get(pk=form.cleaned_data["volunteer"])
    try:
        slot_assign(slot=slot, volunteer=chosen, by=volunteer)
    except ShiftRefused as refused:
        form.add_error("volunteer", str(refused))
        return _render_slot(request, volunteer, slot, form=form, status=400)
    messages.success(request, _("%(name)s is on this shift.") % {"name": chosen.display_name})
    return redirect("desk:slot", slot_id=slot.pk)


@login_required
@require_POST
@coordinator_required
def slot_cancel_view(request: HttpRequest, volunteer: Volunteer, slot_id: int) -> HttpResponse:
    slot = get_object_or_404(Slot, pk=slot_id)
    slot_cancel(slot=slot)
    messages.success(request, _("This occurrence is cancelled; its volunteers were taken off."))
    return redirect("desk:slot", slot_id=slot.pk)


@login_required
@require_http_methods(["GET", "POST"])
@coordinator_required
def shift_edit(request: HttpRequest, volunteer: Volunteer, shift_id: int) -> HttpResponse:
    shift = get_object_or_404(Shift, pk=shift_id)
    initial = {
        field: getattr(shift, field)
        for field in (
            "start_time",
            "end_time",
            "last_date",
            "min_heads",
            "target_heads",
            "notice_hours",
        )
    }
    form = ShiftEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            removed = shift_update(shift=shift, by=volunteer, **form.cleaned_data)
        except ShiftRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                ngettext(
                    "Shift changed; %(count)s volunteer was taken off a date it no longer has.",
                    "Shift changed; %(count)s volunteers were taken off dates it no longer has.",
                    removed,
                )
                % {"count": removed},
            )
            return redirect(reverse("desk:coverage") + f"?language={shift.language}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "desk/shift_edit.html",
        {"form": form, "shift": shift, "volunteer": volunteer},
        status=status,
    )


@login_required
@require_POST
@coordinator_required
def shift_delete_view(request: HttpRequest, volunteer: Volunteer, shift_id: int) -> HttpResponse:
    shift = get_object_or_404(Shift, pk=shift_id)
    language = shift.language
    removed = shift_delete(shift=shift, by=volunteer)
    messages.success(
        request,
        ngettext(
            "Shift deleted from now on; %(count)s volunteer was taken off its dates ahead.",
            "Shift deleted from now on; %(count)s volunteers were taken off its dates ahead.",
            removed,
        )
        % {"count": removed},
    )
    return redirect(reverse("desk:coverage") + f"?language={language}")


def _languages(request: HttpRequest) -> list[str]:
    chosen = request.GET.get("language", "")
    if chosen in Language.values:
        return [chosen]
    found = set(Shift.objects.values_list("language", flat=True).distinct())
    return [code for code in Language.values if code in found] or [Language.MANDARIN.value]


@login_required
@require_GET
@coordinator_required
def coverage_page(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    languages = _languages(request)
    table = coverage(languages, timezone.now())
    fallback = dict(QueueShifts.objects.values_list("language", "off_shift_fallback"))
    return render(
        request,
        "desk/coverage.html",
        {
            "volunteer": volunteer,
            "table": [
                (Language(code).label, code, fallback.get(code, True), hours)
                for code, hours in table.items()
            ],
            "china": CHINA,
            "zone": volunteer.zone(),
            "days": DAYS,
            "queue_languages": Language.choices,
        },
    )


@login_required
@require_GET
@coordinator_required
def coverage_csv(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    zone = volunteer.zone()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="coverage.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "language",
            "starts_utc",
            "china_time",
            "your_time",
            "scheduled",
            "minimum",
            "target",
            "expected_calls",
            "gap",
        ]
    )
    for language, hours in coverage(_languages(request), timezone.now()).items():
        for hour in hours:
            writer.writerow(
                [
                    language,
                    hour.starts_at.strftime("%Y-%m-%dT%H:%MZ"),
                    hour.starts_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                    hour.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
                    hour.scheduled,
                    hour.minimum,
                    hour.target,
                    hour.expected_calls,
                    "gap" if hour.gap else "short" if hour.short else "",
                ]
            )
    return response


@login_required
@require_POST
@coordinator_required
def queue_setting(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in Language.values:
        messages.error(request, _("Choose a language queue."))
        return redirect("desk:coverage")
    queue_shifts_set(language=language, off_shift_fallback=request.POST.get("fallback") == "on")
    messages.success(request, _("Saved."))
    return redirect(reverse("desk:coverage") + f"?language={language}")
