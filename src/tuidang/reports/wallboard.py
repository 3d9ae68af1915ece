"""The wallboard: each language queue now, and today so far; and its read-only links.

What a board shows is read at most once a second for all the screens that show it (the
desk renders it into the configured cache, Redis when ``REDIS_URL`` is set, so every app
server shares it): a screen polls every second and sees a change within two. It holds
counts only, never a caller's data.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls.models import Call
from tuidang.lib.languages import Language
from tuidang.reports.counting import SHORT_ABANDON_SECONDS, hotline_zone, thresholds
from tuidang.reports.models import ServiceLevel, WallboardLink
from tuidang.volunteers.models import Presence, Volunteer, VolunteerLanguage

# The board's fragment, rendered once a second for every screen (desk/views/wallboard.py).
CACHE_KEY = "reports:wallboard"
CACHE_SECONDS = 1
WAITING = (Call.State.QUEUED, Call.State.OFFERED)


@dataclass(frozen=True)
class QueueNow:
    language: str
    waiting: int
    longest_wait_seconds: int
    available: int
    ringing: int
    on_call: int
    wrap_up: int
    offered_today: int
    answered_today: int
    in_threshold_today: int
    abandoned_today: int

    @property
    def label(self) -> str:
        """The queue's language, named in the reader's language."""
        return str(Language(self.language).label)

    @property
    def service_level_today(self) -> float | None:
        """As in the reports: answered in time, of those answered or abandoned after 5 s."""
        whole = self.answered_today + self.abandoned_today
        return self.in_threshold_today / whole if whole else None


@dataclass(frozen=True)
class Board:
    read_at: datetime
    queues: list[QueueNow]


def _today_start(now: datetime) -> datetime:
    local = now.astimezone(hotline_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def board_read(now: datetime | None = None) -> Board:
    """Every language queue now, from the database: four small queries."""
    now = now or timezone.now()
    waiting = {
        row["language"]: row
        for row in Call.objects.filter(state__in=WAITING)
        .values("language")
        .annotate(n=Count("id"), since=Min("queued_at"))
    }
    staff: dict[tuple[str, str], int] = {
        (language, presence): n
        for language, presence, n in VolunteerLanguage.objects.exclude(
            volunteer__presence=Presence.AWAY
        )
        .values("language", "volunteer__presence")
        .annotate(n=Count("id"))
        .values_list("language", "volunteer__presence", "n")
    }
    limits = thresholds()
    in_time = Q()
    for language in Language.values:
        limit = timedelta(seconds=limits.get(language, ServiceLevel.DEFAULT_SECONDS))
        in_time |= Q(language=language, connected_at__lte=F("queued_at") + limit)
    short = timedelta(seconds=SHORT_ABANDON_SECONDS)
    today = {
        row["language"]: row
        for row in Call.objects.filter(started_at__gte=_today_start(now), queued_at__isnull=False)
        .values("language")
        .annotate(
            offered=Count("id"),
            answered=Count("id", filter=Q(connected_at__isnull=False)),
            in_time=Count("id", filter=in_time & Q(connected_at__isnull=False)),
            abandoned=Count(
                "id",
                filter=Q(state=Call.State.ABANDONED, ended_at__gte=F("queued_at") + short),
            ),
        )
    }
    queues = []
    for language in Language.values:
        here = waiting.get(language, {})
        since = here.get("since")
        day = today.get(language, {})
        queues.append(
            QueueNow(
                language=language,
                waiting=here.get("n", 0),
                longest_wait_seconds=int((now - since).total_seconds()) if since else 0,
                available=staff.get((language, Presence.AVAILABLE), 0),
                ringing=staff.get((language, Presence.RINGING), 0),
                on_call=staff.get((language, Presence.ON_CALL), 0),
                wrap_up=staff.get((language, Presence.WRAP_UP), 0),
                offered_today=day.get("offered", 0),
                answered_today=day.get("answered", 0),
                in_threshold_today=day.get("in_time", 0),
                abandoned_today=day.get("abandoned", 0),
            )
        )
    return Board(read_at=now, queues=queues)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def wallboard_link_create(*, name: str, coordinator: Volunteer) -> tuple[WallboardLink, str]:
    """A new read-only link; its token is returned once and only its hash is kept."""
    token = secrets.token_urlsafe(32)
    link = WallboardLink.objects.create(
        name=name.strip(), token_hash=_hash(token), created_by=coordinator
    )
    audit_record(actor=coordinator.user, action=Action.CREATE, target=link)
    return link, token


@transaction.atomic
def wallboard_link_revoke(*, link: WallboardLink, coordinator: Volunteer) -> None:
    """Close the link: the next request through it, even a screen's poll, is refused."""
    if WallboardLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        audit_record(actor=coordinator.user, action=Action.CHANGE, target=link)


def wallboard_link_open(token: str) -> WallboardLink | None:
    """The live link this token opens, or None."""
    return WallboardLink.objects.filter(token_hash=_hash(token), revoked_at__isnull=True).first()
