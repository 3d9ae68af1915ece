"""Reads only the desk's pages make: the call in front of a volunteer and what is known of
its caller, the queues, and the coordinators' night report."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.http import Http404

from tuidang.calls.models import (
    Call,
    CallDisposition,
    CallType,
    ListenIn,
    TalkingPoint,
    Transfer,
)
from tuidang.declarations.models import Declaration
from tuidang.lib.languages import Language
from tuidang.screening.models import CallerScore, Policy, ScreeningSettings
from tuidang.volunteers.models import Presence, Volunteer

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")


def call_of(volunteer: Volunteer, call_id: int) -> Call:
    """A call the volunteer may act on: their own; coordinators any. Else 404, so that
    a volunteer cannot even learn which calls exist."""
    call = Call.objects.filter(pk=call_id).first()
    if call is None or (
        call.volunteer_id != volunteer.pk
        and not volunteer.is_coordinator
        and not call.transfers.filter(
            to_volunteer=volunteer, state=Transfer.State.CONSULTING
        ).exists()
    ):
        raise Http404
    return call


def current_call(volunteer: Volunteer) -> Call | None:
    """The call in front of the volunteer: connected now, or just ended while in wrap-up."""
    if volunteer.presence == Presence.ON_CALL:
        states = [Call.State.CONNECTED]
    elif volunteer.presence == Presence.WRAP_UP:
        states = [Call.State.CONNECTED, Call.State.COMPLETED]
    else:
        return None
    call = (
        Call.objects.filter(volunteer=volunteer, state__in=states)
        .select_related("hotline_number")
        .order_by("-connected_at")
        .first()
    )
    if call is None and volunteer.presence == Presence.ON_CALL:
        # Talking with a colleague who hands them this call (a warm transfer): it is on
        # their desk already, with what was recorded, and they can record more.
        transfer = (
            Transfer.objects.filter(to_volunteer=volunteer, state=Transfer.State.CONSULTING)
            .select_related("call__hotline_number")
            .first()
        )
        call = transfer.call if transfer is not None else None
    return call


def live_transfer(call: Call) -> Transfer | None:
    """The transfer of ``call`` under way, if any (ringing, or the two talking)."""
    return (
        call.transfers.filter(state__in=[Transfer.State.RINGING, Transfer.State.CONSULTING])
        .select_related("from_volunteer", "to_volunteer")
        .first()
    )


def listener(call: Call) -> ListenIn | None:
    """A coordinator in the call, listening or whispering: the volunteer sees they are."""
    return (
        call.listen_ins.filter(state__in=[ListenIn.State.LISTENING, ListenIn.State.WHISPERING])
        .select_related("coordinator")
        .first()
    )


def transfer_colleagues(volunteer: Volunteer) -> list[Volunteer]:
    """Who a call can be handed to now: the volunteers free to take one, by name (the
    form shows each one's languages, and whether they coordinate or screen)."""
    return list(
        Volunteer.objects.filter(presence=Presence.AVAILABLE)
        .exclude(pk=volunteer.pk)
        .prefetch_related("languages")
        .order_by("display_name")
    )


def queues() -> list[dict[str, Any]]:
    """How many callers wait in each language, every language listed."""
    # Grouped by state and language, the routing index's own order: the waiting calls
    # are counted in it, never the calls table whole (polled every second by every desk).
    waiting: dict[str, int] = {}
    for _state, language, n in (
        Call.objects.filter(state__in=[Call.State.QUEUED, Call.State.OFFERED])
        .values_list("state", "language")
        .annotate(n=Count("pk"))
        .values_list("state", "language", "n")
    ):
        waiting[language] = waiting.get(language, 0) + n
    return [
        {"language": label, "waiting": waiting.get(code, 0)} for code, label in Language.choices
    ]


@dataclass(frozen=True)
class CallerHistory:
    """What the hotline knows of the caller in front of a volunteer: never their number."""

    earlier_calls: int
    last_call_at: datetime | None
    outcomes: dict[str, int]
    call_types: dict[str, int]
    flagged_for_harassment: bool
    declarations: int


def caller_history(call: Call) -> CallerHistory | None:
    """Earlier calls with the same caller key. None for withheld numbers, whose key is
    shared by every withheld caller and so says nothing about this one."""
    if call.withheld:
        return None
    earlier = Call.objects.filter(caller_key=call.caller_key, started_at__lt=call.started_at)
    outcomes = dict(earlier.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    labels = dict(Call.State.choices)
    types = dict(
        CallDisposition.objects.filter(call__in=earlier)
        .values_list("call_type")
        .annotate(n=Count("pk"))
        .values_list("call_type", "n")
    )
    type_labels = dict(CallType.choices)
    return CallerHistory(
        earlier_calls=sum(outcomes.values()),
        last_call_at=earlier.order_by("-started_at").values_list("started_at", flat=True).first(),
        outcomes={str(labels.get(state, state)): n for state, n in outcomes.items()},
        call_types={str(type_labels.get(kind, kind)): n for kind, n in types.items()},
        flagged_for_harassment=CallerScore.objects.filter(
            caller_key=call.caller_key, flagged_at__isnull=False
        ).exists(),
        declarations=Declaration.objects.filter(call__in=earlier).count(),
    )


def talking_points(language: str) -> dict[str, list[TalkingPoint]]:
    """The talking points in a language, by call type label."""
    labels = dict(CallType.choices)
    grouped: dict[str, list[TalkingPoint]] = {}
    for point in TalkingPoint.objects.filter(language=language):
        grouped.setdefault(str(labels[point.call_type]), []).append(point)
    return grouped


# The coordinators' night, hour by hour, in China time.


@dataclass
class HourRow:
    hour: datetime
    calls: int = 0
    flagged: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    @property
    def flagged_share(self) -> float:
        return self.flagged / self.calls if self.calls else 0.0


@dataclass
class NightReport:
    start: datetime
    end: datetime
    hours: list[HourRow]
    conversions: int

    @property
    def calls(self) -> int:
        return sum(row.calls for row in self.hours)

    @property
    def flagged(self) -> int:
        return sum(row.flagged for row in self.hours)

    def actions(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.hours:
            for action, count in row.actions.items():
                totals[action] = totals.get(action, 0) + count
        return totals


def night_report(night: date) -> NightReport:
    """The night beginning on ``night`` in China: 18:00 to 08:00 the next morning."""
    start = datetime.combine(night, time(18), tzinfo=CHINA)
    end = start + timedelta(hours=14)
    threshold = ScreeningSettings.current().screening_group_at
    rows = (
        Call.objects.filter(started_at__gte=start, started_at__lt=end)
        .annotate(hour=TruncHour("started_at", tzinfo=CHINA))
        .values("hour", "screening_policy")
        .annotate(calls=Count("pk"), flagged=Count("pk", filter=Q(screening_score__gte=threshold)))
    )
    hours = {
        start + timedelta(hours=offset): HourRow(start + timedelta(hours=offset))
        for offset in range(14)
    }
    for row in rows:
        hour = hours.setdefault(row["hour"], HourRow(row["hour"]))
        hour.calls += row["calls"]
        hour.flagged += row["flagged"]
        hour.actions[row["screening_policy"]] = row["calls"]
    conversions = CallerScore.objects.filter(converted_at__gte=start, converted_at__lt=end).count()
    return NightReport(
        start=start,
        end=end,
        hours=sorted(hours.values(), key=lambda r: r.hour),
        conversions=conversions,
    )


POLICY_LABELS = dict(Policy.choices)
