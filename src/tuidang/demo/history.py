"""A year of invented history, for benchmarks and for the tests that watch query plans.

``history_fill`` writes, below the ORM (``lib/bulk.py``, as the registry import does):
volunteers in several languages; calls over the past year, most of them from a small
pool of hired callers' keys that ring again and again and a few from genuine callers
(their offers, voicemails and the volunteers who took them); a screening score for every
caller key and blocks on many of the hired ones; declarations with their log entries,
through the registry's own import (``declarations.imports``); and the reports' counts of
those calls with the volunteers' hours they imply (``reports``).

Caller keys are those of the numbers ``history_number(n)``, so a benchmark that dials one
of them meets the key's whole year.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from stdnum import damm

from tuidang.calls.models import Call, HotlineNumber, HowHeard, Offer, Voicemail
from tuidang.declarations.imports import Row, import_declarations
from tuidang.lib.bulk import bulk_insert, db_value
from tuidang.lib.languages import Language
from tuidang.lib.phone import caller_key
from tuidang.reports.counting import counts_backfill, floor_hour, hotline_zone
from tuidang.reports.models import PresenceHour, VolunteerHour
from tuidang.screening.models import Block, CallerScore, Policy
from tuidang.volunteers.models import Presence, Role, Volunteer, VolunteerLanguage

# Bumped whenever what is generated changes: benchmarks keep a built year by it.
VERSION = 2
# Rows written per statement batch.
CHUNK = 20_000
# Share of the calls made by hired callers, and of the keys that are theirs.
HIRED_CALLS = 0.8
HIRED_KEYS = 0.05
YEAR = timedelta(days=365)
LANGUAGES = [Language.MANDARIN, Language.CANTONESE, Language.ENGLISH]
# Codes of the closed list (lib/regions.py), as calls and declarations keep them.
REGIONS = ["CN-GD", "CN-SD", "CN-HA", "CN-SC", "CN-JS", "CN-HE", "CN-HN", "CN-BJ"]
ORGANIZATIONS = [
    frozenset({"party"}),
    frozenset({"youth_league"}),
    frozenset({"young_pioneers"}),
    frozenset({"party", "youth_league"}),
]
CHANNELS = ["hotline", "relayed", "web", "email"]
HISTORY_USERNAME = "history-{:03d}"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class HistorySize:
    calls: int = 2_000_000
    keys: int = 500_000
    declarations: int = 500_000
    volunteers: int = 300
    # How far back the calls go (the demo's eight weeks; a year for the benchmarks).
    span: timedelta = YEAR


@dataclass(frozen=True)
class HistoryFilled:
    calls: int
    offers: int
    voicemails: int
    scores: int
    blocks: int
    declarations: int
    volunteers: int
    volunteer_hours: int = 0


def history_number(n: int) -> str:
    """The caller number of history's ``n``-th caller key (a mainland mobile number)."""
    return f"+86139{n:08d}"


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def history_fill(
    *, size: HistorySize, seed: int = 14, progress: Progress = _quiet
) -> HistoryFilled:
    """Fill the default database with ``size`` of history ending now (see the module)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible invented data, not a secret
    now = timezone.now()
    number = _hotline_number()
    volunteers = _volunteers(size.volunteers, now)
    progress("volunteers", len(volunteers), size.volunteers)
    keys = [caller_key(history_number(n)) for n in range(size.keys)]
    hired = max(1, int(size.keys * HIRED_KEYS))
    calls = offers = voicemails = 0
    for chunk in _call_chunks(size, rng, now):
        first_id = _next_id(Call)
        rows, offer_rows, voicemail_rows = _call_rows(
            chunk, first_id, keys, hired, volunteers, number, rng
        )
        with transaction.atomic():
            bulk_insert(Call, CALL_FIELDS, rows)
            bulk_insert(Offer, OFFER_FIELDS, offer_rows)
            bulk_insert(Voicemail, VOICEMAIL_FIELDS, voicemail_rows)
        calls, offers, voicemails = (
            calls + len(rows),
            offers + len(offer_rows),
            voicemails + len(voicemail_rows),
        )
        progress("calls", calls, size.calls)
    _reset_sequence(Call)
    scores, blocks = _screening(keys, hired, rng, now)
    progress("screening", scores, size.keys)
    declared = 0
    for rows_ in _declaration_chunks(size.declarations, rng, now.date()):
        imported, _skipped = import_declarations(rows_)
        declared += imported
        progress("declarations", declared, size.declarations)
    volunteer_hours = _kept_counts(size, now, random.Random(seed + 1))  # noqa: S311 - invented
    progress("reports' counts", volunteer_hours, volunteer_hours)
    _analyze()
    return HistoryFilled(
        calls=calls,
        offers=offers,
        voicemails=voicemails,
        scores=scores,
        blocks=blocks,
        declarations=declared,
        volunteers=len(volunteers),
        volunteer_hours=volunteer_hours,
    )


def _kept_counts(size: HistorySize, now: datetime, rng: random.Random) -> int:
    """The reports' counts of the calls just written (``reports.counting``, as the job
    keeps them), and the volunteers' hours their calls imply: each call's talk, an invented
    wrap-up after it, and the rest of the hour available. How many volunteer hours."""
    zone = hotline_zone()
    counts_backfill(
        first=(now - size.span).astimezone(zone).date(), last=now.astimezone(zone).date()
    )
    hours: dict[tuple[datetime, int], list[int]] = {}
    answered = Call.objects.filter(
        provider_sid__startswith="HIST", volunteer__isnull=False, connected_at__isnull=False
    ).values_list("volunteer_id", "connected_at", "ended_at")
    for volunteer_id, connected, ended in answered.iterator(chunk_size=CHUNK):
        if connected is None or ended is None or volunteer_id is None:
            continue  # never: the filter says so, the row's types do not
        cell = hours.setdefault((floor_hour(connected), volunteer_id), [0, 0])
        cell[0] += int((ended - connected).total_seconds())
        cell[1] += rng.randint(20, 180)
    rows = (
        VolunteerHour(
            hour=hour,
            volunteer_id=volunteer_id,
            talk_seconds=talk,
            wrap_up_seconds=wrap,
            available_seconds=max(0, 3600 - talk - wrap),
        )
        for (hour, volunteer_id), (talk, wrap) in hours.items()
    )
    VolunteerHour.objects.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
    everyone: dict[datetime, list[int]] = {}
    for (hour, _volunteer), (talk, wrap) in hours.items():
        total = everyone.setdefault(hour, [0, 0, 0])
        total[0] += talk
        total[1] += wrap
        total[2] += max(0, 3600 - talk - wrap)
    PresenceHour.objects.bulk_create(
        (
            PresenceHour(
                hour=hour,
                local_day=hour.astimezone(zone).date(),
                local_hour=hour.astimezone(zone).hour,
                talk_seconds=talk,
                wrap_up_seconds=wrap,
                available_seconds=available,
            )
            for hour, (talk, wrap, available) in everyone.items()
        ),
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    return len(hours)


def _hotline_number() -> HotlineNumber:
    number, _created = HotlineNumber.objects.get_or_create(
        e164="+14155550100", defaults={"name": "History line", "how_heard": HowHeard.BANKNOTES}
    )
    return number


def _volunteers(count: int, now: datetime) -> list[tuple[int, str]]:
    """``count`` volunteers (one coordinator in ten), away; (id, first language) each."""
    user_model = get_user_model()
    password = make_password(None)  # unusable: history's volunteers never log in
    made: list[tuple[int, str]] = []
    for n in range(count):
        username = HISTORY_USERNAME.format(n)
        user, _created = user_model.objects.get_or_create(
            username=username, defaults={"password": password}
        )
        languages = [LANGUAGES[n % 3]] + ([LANGUAGES[(n + 1) % 3]] if n % 4 == 0 else [])
        volunteer, created = Volunteer.objects.get_or_create(
            user=user,
            defaults={
                "display_name": f"Volunteer {n}",
                "role": Role.COORDINATOR if n % 10 == 0 else Role.VOLUNTEER,
                "presence": Presence.AWAY,
                "presence_since": now,
                "screener": n % 7 == 0,
            },
        )
        if created:
            volunteer.phone_address = f"client:{username}"  # sealed: set once the row is made
            volunteer.save(update_fields=["phone_address_sealed"])
            VolunteerLanguage.objects.bulk_create(
                VolunteerLanguage(volunteer=volunteer, language=language) for language in languages
            )
        made.append((volunteer.pk, languages[0]))
    return made


def _call_chunks(size: HistorySize, rng: random.Random, now: datetime) -> Iterator[list[float]]:
    """The calls' start times in order, as seconds before now, a chunk at a time."""
    span = size.span.total_seconds()
    step = span / max(1, size.calls)
    for start in range(0, size.calls, CHUNK):
        count = min(CHUNK, size.calls - start)
        yield [span - (start + i) * step - rng.random() * step for i in range(count)]


CALL_FIELDS = [
    "id", "provider_sid", "hotline_number", "how_heard", "caller_key", "region",
    "last_digits", "withheld", "case_code", "language", "menu_attempts", "state",
    "volunteer", "started_at", "queued_at", "connected_at", "ended_at",
    "duration_seconds", "provider_status", "screening_policy", "screening_score",
    "challenge_digit", "first_call", "harassment_flagged", "provider_sequence",
]  # fmt: skip
OFFER_FIELDS = ["token", "call", "volunteer", "state", "leg_sid", "created_at", "responded_at"]
VOICEMAIL_FIELDS = [
    "public_id", "call", "recording_sid", "provider_url", "duration_seconds", "state",
    "stored_name", "created_at", "callback_number_sealed", "callback_outcome",
]  # fmt: skip


def _next_id(model: type[Call]) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def _case_code(n: int) -> str:
    """A valid nine-digit code, distinct per call (a random new call's may still meet one,
    and then draws again, as it does in a year's real history)."""
    body = f"{10_000_000 + (n * 7_919_993) % 90_000_000}"
    return body + damm.calc_check_digit(body)


def _call_rows(
    ago: list[float],
    first_id: int,
    keys: list[str],
    hired: int,
    volunteers: list[tuple[int, str]],
    number: HotlineNumber,
    rng: random.Random,
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]:
    now = timezone.now()
    rows: list[tuple[object, ...]] = []
    offers: list[tuple[object, ...]] = []
    voicemails: list[tuple[object, ...]] = []
    for i, seconds in enumerate(ago):
        pk = first_id + i
        started = now - timedelta(seconds=seconds)
        is_hired = rng.random() < HIRED_CALLS
        n = rng.randrange(hired) if is_hired else rng.randrange(hired, len(keys))
        key = keys[n]
        volunteer_id, language = volunteers[rng.randrange(len(volunteers))]
        queued = connected = ended = None
        duration = rng.randint(1, 20)
        volunteer: int | None = None
        policy, score = Policy.NORMAL, 0.0
        if is_hired:
            score = rng.uniform(2, 12)
            state = rng.choice([Call.State.SCREENED, Call.State.DISCONNECTED, Call.State.ABANDONED])
            policy = Policy.MESSAGE if state == Call.State.SCREENED else Policy.SCREENING_GROUP
            if state == Call.State.ABANDONED:
                queued = started + timedelta(seconds=8)
        else:
            roll = rng.random()
            queued = started + timedelta(seconds=rng.randint(5, 15))
            if roll < 0.85:
                state, volunteer = Call.State.COMPLETED, volunteer_id
                connected = queued + timedelta(seconds=rng.randint(5, 240))
                duration = rng.randint(120, 1800)
            elif roll < 0.95:
                state = Call.State.VOICEMAIL
                duration = rng.randint(60, 300)
            else:
                state = Call.State.ABANDONED
        ended = started + timedelta(seconds=duration)
        rows.append(
            (
                pk, f"HIST{pk:012d}", number.pk, number.how_heard, key,
                REGIONS[n % len(REGIONS)], f"{n % 10_000:04d}", False, _case_code(pk),
                language, 0, state, volunteer, db_value(started),
                db_value(queued) if queued else None,
                db_value(connected) if connected else None, db_value(ended), duration,
                "completed", policy, score, "", False, False, 3,
            )
        )  # fmt: skip
        if connected is not None and queued is not None:
            offered = db_value(queued + timedelta(seconds=1))
            answered = db_value(connected - timedelta(seconds=1))
            offers.append(
                (
                    _uuid(),
                    pk,
                    volunteer,
                    Offer.State.ACCEPTED,
                    f"HLEG{pk:012d}",
                    offered,
                    answered,
                )
            )
            if rng.random() < 0.1:  # a first volunteer let it ring out
                other = volunteers[rng.randrange(len(volunteers))][0]
                offers.append((_uuid(), pk, other, Offer.State.MISSED, "", offered, offered))
        if state == Call.State.VOICEMAIL:
            voicemails.append(
                (
                    _uuid(), pk, f"HREC{pk:012d}", "", rng.randint(5, 120),
                    Voicemail.State.STORED, "", db_value(ended), b"", "reached",
                )
            )  # fmt: skip
    return rows, offers, voicemails


def _uuid() -> object:
    """Random, as the models' own: a second fill must not meet the first one's."""
    return db_value(uuid.uuid4())


SCORE_FIELDS = [
    "caller_key", "score", "updated_at", "flagged_at", "converted_at",
    "block_policy", "block_expires_at",
]  # fmt: skip


SCORE_FIELDS = [
    "caller_key", "score", "updated_at", "flagged_at", "converted_at",
    "block_policy", "block_expires_at",
]  # fmt: skip


def _screening(keys: list[str], hired: int, rng: random.Random, now: datetime) -> tuple[int, int]:
    """A score for every key (hired ones high), and a block on most hired keys."""
    existing = set(CallerScore.objects.values_list("caller_key", flat=True))
    updated = db_value(now - timedelta(hours=1))
    scores, blocks = [], []
    for n, key in enumerate(keys):
        if key in existing:
            continue
        is_hired = n < hired
        policy = ""
        expires = None
        if is_hired and rng.random() < 0.6:
            policy = rng.choice([Policy.MESSAGE, Policy.SCREENING_GROUP])
            until = now + timedelta(hours=rng.randint(-2000, 48))
            expires = db_value(until)
            created = db_value(until - timedelta(hours=24))
            blocks.append((key, policy, "history", created, expires))
            if until < now:
                policy, expires = "", None
        score = rng.uniform(4, 15) if is_hired else rng.uniform(0, 1)
        scores.append((key, score, updated, None, None, policy, expires))
    for start in range(0, len(scores), CHUNK):
        with transaction.atomic():
            bulk_insert(
                CallerScore,
                SCORE_FIELDS,
                scores[start : start + CHUNK],
            )
    for start in range(0, len(blocks), CHUNK):
        with transaction.atomic():
            bulk_insert(
                Block,
                ["caller_key", "policy", "reason", "created_at", "expires_at"],
                blocks[start : start + CHUNK],
            )
    return len(scores), len(blocks)


def _declaration_chunks(total: int, rng: random.Random, today: date) -> Iterator[list[Row]]:
    """Declarations spread over the past year, as the registry import takes them."""
    for start in range(0, total, CHUNK):
        count = min(CHUNK, total - start)
        rows = []
        for i in range(count):
            n = start + i
            digest = hashlib.sha256(f"history-declaration-{n}".encode()).hexdigest()[:24]
            rows.append(
                Row(
                    line=n + 2,
                    key=f"year-{digest}",
                    declared_on=today - timedelta(days=365 - n * 365 // max(1, total)),
                    organizations=rng.choice(ORGANIZATIONS),
                    region=rng.choice(REGIONS),
                    channel=rng.choice(CHANNELS),
                    relationship="",
                    alias="",
                    consent=False,
                )
            )
        yield rows


def _reset_sequence(model: type[Call]) -> None:
    """Calls were written with their ids: PostgreSQL's sequence must move past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _analyze() -> None:
    """Fresh statistics, as after any bulk load, so the planner knows the tables' sizes.
    On PostgreSQL a VACUUM too, as autovacuum would have run over a year: until then the
    first read of each row writes (its hint bits), and an index-only scan reads the
    table anyway (no visibility map). A year copied before that did about half the
    requests a second of one vacuumed (docs/benchmarks.md, the year). VACUUM runs in no
    transaction: a year filled inside one (the demo's) is analysed only."""
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")
