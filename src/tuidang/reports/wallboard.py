"""The wallboard: each language queue now, and today so far; and its read-only links.

What a board shows is read at most once a second for all the screens that show it (the
desk renders it into the cache the hotline's processes share: Redis with ``REDIS_URL``,
else files under var/cache): a screen polls every second and sees a change within two. It holds
counts only, never a caller's data.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls.models import Call
from tuidang.lib.languages import Language
from tuidang.reports.counting import SHORT_ABANDON_SECONDS, hotline_zone, seconds, thresholds
from tuidang.reports.models import ServiceLevel, WallboardLink
from tuidang.shifts.selectors import next_gaps, on_shift
from tuidang.volunteers.models import Presence, Volunteer, VolunteerLanguage

# The board's fragment, rendered once a second for every screen (desk/views/wallboard.py).
CACHE_KEY = "reports:wallboard"
CACHE_SECONDS = 1
WAITING = (Call.State.QUEUED, Call.State.OFFERED)
# How far ahead the board looks for the next coverage gap: the coverage page's fortnight.
GAP_DAYS = 14


@dataclass(frozen=True)
class QueueNow:
    language: str
    waiting: int
    longest_wait_seconds: int
    on_shift: int
    available: int
    ringing: int
    on_call: int
    wrap_up: int
    offered_today: int
    answered_today: int
    in_threshold_today: int
    abandoned_today: int
    # The first hour short of its shifts' minimum, or with no shift; None: none in 14 days.
    next_gap: datetime | None

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
    # The hotline's time zone: the board's times are shown in it, whoever renders it.
    zone: str


def _today_start(now: datetime) -> datetime:
    local = now.astimezone(hotline_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def board_read(now: datetime | None = None) -> Board:
    """Every language queue now, from the database. Rows, not a GROUP BY, so that each read
    goes through its own index (SQLite would group by reading a language's index whole):
    the waiting calls through routing's (state, language, queue time), today's calls
    through their start time."""
    now = now or timezone.now()
    waiting: dict[str, list[datetime]] = defaultdict(list)
    for language, queued_at in Call.objects.filter(state__in=WAITING).values_list(
        "language", "queued_at"
    ):
        waiting[language].append(queued_at or now)
    staff: dict[tuple[str, str], int] = {
        (language, presence): n
        for language, presence, n in VolunteerLanguage.objects.exclude(
            volunteer__presence=Presence.AWAY
        )
        .values("language", "volunteer__presence")
        .annotate(n=Count("id"))
        .values_list("language", "volunteer__presence", "n")
    }
    on_shift_now: dict[str, int] = dict(
        on_shift(Language.values, now)
        .values("language")
        .annotate(n=Count("volunteer", distinct=True))
        .values_list("language", "n")
    )
    gaps = next_gaps(Language.values, now, GAP_DAYS)
    limits = thresholds()
    today: dict[str, Counter[str]] = defaultdict(Counter)
    calls = Call.objects.filter(started_at__gte=_today_start(now), queued_at__isnull=False)
    for language, state, queued, connected, ended in calls.values_list(
        "language", "state", "queued_at", "connected_at", "ended_at"
    ):
        day = today[language]
        day["offered"] += 1
        if connected is not None and queued is not None:
            day["answered"] += 1
            threshold = limits.get(language, ServiceLevel.DEFAULT_SECONDS)
            day["in_time"] += int(seconds(queued, connected) <= threshold)
        elif state == Call.State.ABANDONED and ended is not None and queued is not None:
            day["abandoned"] += int(seconds(queued, ended) >= SHORT_ABANDON_SECONDS)
    queues = []
    for language in Language.values:
        oldest = min(waiting[language], default=None)
        day = today[language]
        queues.append(
            QueueNow(
                language=language,
                waiting=len(waiting[language]),
                longest_wait_seconds=seconds(oldest, now) if oldest else 0,
                on_shift=on_shift_now.get(language, 0),
                available=staff.get((language, Presence.AVAILABLE), 0),
                ringing=staff.get((language, Presence.RINGING), 0),
                on_call=staff.get((language, Presence.ON_CALL), 0),
                wrap_up=staff.get((language, Presence.WRAP_UP), 0),
                offered_today=day["offered"],
                answered_today=day["answered"],
                in_threshold_today=day["in_time"],
                abandoned_today=day["abandoned"],
                next_gap=gaps[language],
            )
        )
    return Board(read_at=now, queues=queues, zone=hotline_zone().key)


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
