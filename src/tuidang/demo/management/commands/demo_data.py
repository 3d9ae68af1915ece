"""Load the demo hotline: two numbers, three volunteers, a coordinator and an admin, and a
short history of declarations in the public registry with its log signed.

The coordinator and the admin get an authenticator app secret and recovery codes, printed
with the logins, since they cannot log in without a second factor. Running it again
changes nothing that is already there.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tuidang.calls.models import Call, HotlineNumber, HowHeard
from tuidang.calls.services import calls_reconcile
from tuidang.declarations.imports import Row, import_declarations
from tuidang.declarations.models import DeclarationChannel, Organization, Relationship, Statement
from tuidang.declarations.online import declaration_record_online
from tuidang.declarations.publication import declarations_publish
from tuidang.declarations.services import Person, hotline_today
from tuidang.declarations.statements import statement_approve
from tuidang.demo.history import HistorySize, history_fill
from tuidang.lib.languages import Language
from tuidang.literature.models import BookLanguage, Format, Title
from tuidang.shifts.models import Shift
from tuidang.shifts.services import ShiftRefused, shift_create, slot_assign
from tuidang.tlog.services import log_checkpoint_sign
from tuidang.volunteers.models import Presence, Role, Volunteer, VolunteerLanguage

# Demo-only passwords, printed for whoever runs `make demo`. Never use these elsewhere.
DEMO_PASSWORD = "hotline-demo-2026"  # noqa: S105

NUMBERS = [
    ("+18005550100", "Banknotes line", HowHeard.BANKNOTES),
    ("+18005550199", "Website line", HowHeard.WEBSITE),
]
TITLES = [
    ("九评共产党", BookLanguage.SIMPLIFIED, Format.PRINTED),
    ("九评共产党", BookLanguage.SIMPLIFIED, Format.EBOOK),
    ("Nine Commentaries on the Communist Party", BookLanguage.ENGLISH, Format.PRINTED),
    ("转法轮", BookLanguage.SIMPLIFIED, Format.PRINTED),
    ("Zhuan Falun", BookLanguage.ENGLISH, Format.PRINTED),
]
PEOPLE = [
    # username, display name, role, languages
    ("mei", "Mei (Mandarin)", Role.VOLUNTEER, [Language.MANDARIN]),
    ("wing", "Wing (Cantonese)", Role.VOLUNTEER, [Language.CANTONESE]),
    ("grace", "Grace (English)", Role.VOLUNTEER, [Language.ENGLISH]),
    ("lin", "Lin (coordinator)", Role.COORDINATOR, [Language.MANDARIN, Language.ENGLISH]),
    ("admin", "Administrator", Role.ADMIN, [Language.ENGLISH]),
]


# The registry's demo history: invented declarations over the past weeks, imported as a
# historical registry would be (idempotent by key), so the public total, the statistics
# and the log have something to show and to verify.
HISTORY_SIZE = 60
# Eight weeks of invented calls (demo/history.py at a small scale), so that the reports,
# their charts and occupancy show something true from the first run. No declarations:
# the registry's demo history above is the log's.
CALL_HISTORY = HistorySize(
    calls=8_000, keys=2_000, declarations=0, volunteers=12, span=timedelta(weeks=8)
)
# Codes of the closed list (lib/regions.py): Guangdong, Sichuan, Henan, Shandong, Hunan, ...
PROVINCES = ["CN-GD", "CN-SC", "CN-HA", "CN-SD", "CN-HN", "CN-LN", "CN-FJ", ""]


def demo_history(today: date) -> list[Row]:
    rng = random.Random(2004)  # noqa: S311 - invented demo data, the same on every run
    organizations = list(Organization.values)
    rows = []
    for number in range(1, HISTORY_SIZE + 1):
        relationship = rng.choice(["", "", "", *Relationship.values])
        rows.append(
            Row(
                line=number,
                key=f"demo-{number:04d}",
                declared_on=today - timedelta(days=rng.randrange(42)),
                organizations=frozenset(rng.sample(organizations, rng.randint(1, 3))),
                region=rng.choice(PROVINCES),
                channel=DeclarationChannel.RELAYED
                if relationship
                else rng.choice([DeclarationChannel.HOTLINE] * 4 + [DeclarationChannel.WEB]),
                relationship=relationship,
                alias=f"Demo {number}",
                consent=rng.random() < 0.5,
            )
        )
    return rows


# Where the demo volunteers live, and their shifts: (language, zone, first day from today,
# days of the week it repeats on counted from that day, start, end, min, target, who).
ZONES = {
    "mei": "Asia/Taipei",
    "wing": "America/Toronto",
    "grace": "Europe/Berlin",
    "lin": "America/Toronto",
}
SHIFTS = [
    # Evenings in China, from Taipei: every day.
    (Language.MANDARIN, "Asia/Taipei", range(7), time(19), time(23), 1, 2, ["mei"]),
    # China's late morning is Toronto's night (across midnight there).
    (Language.MANDARIN, "America/Toronto", range(5), time(22), time(2), 1, 2, ["lin"]),
    (Language.CANTONESE, "America/Toronto", range(0, 7, 2), time(20), time(23), 1, 1, ["wing"]),
    (Language.ENGLISH, "Europe/Berlin", range(3), time(9), time(13), 1, 1, ["grace"]),
]
# The Toronto Cantonese evenings answer the banknotes line only: its calls ring them first.
BANKNOTES_ONLY = (Language.CANTONESE, "America/Toronto")


def demo_shifts() -> int:
    """The demo's weekly shifts and who is on their slots (once: none exist yet)."""
    for username, zone in ZONES.items():
        Volunteer.objects.filter(user__username=username, time_zone="").update(time_zone=zone)
    if Shift.objects.exists():
        return 0
    made = 0
    for language, zone, weekdays, start, end, minimum, target, who in SHIFTS:
        today = timezone.now().astimezone(ZoneInfo(zone)).date()
        for offset in weekdays:
            shift, _notes = shift_create(
                language=language,
                time_zone=zone,
                weekly=True,
                first_date=today + timedelta(days=offset),
                last_date=None,
                start_time=start,
                end_time=end,
                min_heads=minimum,
                target_heads=target,
                notice_hours=24,
                number="+18005550100" if (language, zone) == BANKNOTES_ONLY else "",
            )
            made += 1
            for username in who:
                volunteer = Volunteer.objects.get(user__username=username)
                # Every other week: the coverage page shows gaps as well as cover.
                for slot in shift.slots.order_by("starts_at")[::2]:
                    try:
                        slot_assign(slot=slot, volunteer=volunteer, by=volunteer)
                    except ShiftRefused:
                        continue
    return made


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print how to use the demo."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        second_factors: dict[str, tuple[str, str, list[str]]] = {}
        with transaction.atomic():
            for e164, name, how_heard in NUMBERS:
                HotlineNumber.objects.get_or_create(
                    e164=e164, defaults={"name": name, "how_heard": how_heard, "public": True}
                )
            for name, language, book_format in TITLES:
                Title.objects.get_or_create(name=name, language=language, format=book_format)
            for username, display_name, role, languages in PEOPLE:
                user, created = User.objects.get_or_create(username=username)
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.is_staff = role != Role.VOLUNTEER
                    user.is_superuser = role == Role.ADMIN
                    user.save()
                volunteer, _created = Volunteer.objects.get_or_create(
                    user=user,
                    defaults={
                        "display_name": display_name,
                        "role": role,
                        "presence": Presence.AWAY,
                    },
                )
                if not volunteer.phone_address_sealed:
                    volunteer.phone_address = f"client:{username}"  # sealed: set, not looked up
                    volunteer.save(update_fields=["phone_address_sealed"])
                for spoken in languages:
                    VolunteerLanguage.objects.get_or_create(volunteer=volunteer, language=spoken)
                if volunteer.is_coordinator:
                    second_factors[username] = _second_factor(user)
        shifts_made = demo_shifts()
        imported, _skipped = import_declarations(demo_history(hotline_today()))
        statements = demo_statements()
        history_calls = 0
        if not Call.objects.filter(provider_sid__startswith="HIST").exists():
            history_calls = history_fill(size=CALL_HISTORY).calls
        checkpoint = log_checkpoint_sign()  # as the worker would, within a second
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        if imported:
            self.stdout.write(f"The registry holds {imported} invented demo declarations.")
        if checkpoint is not None:
            self.stdout.write(
                f"Its log is signed at size {checkpoint.size} (/log/checkpoint); check it with"
                " `tuidang verify-log --url <this site>`."
            )
        self.stdout.write(_storage_line())
        self.stdout.write(
            "The home page lists the numbers to call (/numbers) and draws the total's history"
            " (/history); the open data is at /data/ (totals.json, daily.csv), and"
            " `tuidang verify-log --figures` recomputes every figure of it from the log."
        )
        self.stdout.write(
            f"Shifts: {Shift.objects.count()} shifts ({shifts_made} new) in Taipei, Toronto and"
            " Berlin time (the Cantonese ones for the banknotes line only),"
            " with the demo volunteers on some of their slots; coordinators see"
            " the coverage page at /desk/coverage/ (gaps in red), volunteers their own"
            " schedule at /desk/shifts/."
        )
        self.stdout.write(
            f"{statements} demo statements made online are published at /statements;"
            " declare online at /declare, and moderate what is declared there at"
            " /desk/statements/ (as lin)."
        )
        if history_calls:
            self.stdout.write(
                f"Eight weeks of invented calls ({history_calls:,}) are counted in the reports."
            )
        self.stdout.write(
            "Coordinators read the reports at /desk/reports/ (charts, CSV), put the live"
            " wallboard at /desk/wallboard/\n(with a read-only link for a wall screen, made"
            " there), and everyone reads their occupancy at /desk/occupancy/."
        )
        self.stdout.write(
            "Declarations recorded at the desk are published in batches by the worker, every"
            " PUBLICATION_INTERVAL_SECONDS (`make demo`: 20 s); the desk says when a receipt"
            " becomes checkable."
        )
        if settings.TELEPHONY_PROVIDER_CLASS:
            stuck = calls_reconcile(dry_run=True)
            self.stdout.write(
                f"The workers' reconciler finds {len(stuck)} calls, offers or volunteers left"
                f" stuck by a lost status callback now; it looks every"
                f" {settings.RECONCILE_INTERVAL_SECONDS} s (`tuidang reconcile --dry-run`),"
                f" asking the provider only about calls not heard from for"
                f" {settings.RECONCILE_QUIET_SECONDS} s."
            )
        self.stdout.write(
            "\nLog in at /accounts/login/ with the password "
            f"{DEMO_PASSWORD!r} as one of:\n"
            + "".join(f"  {u:<6} {d}\n" for u, d, _r, _l in PEOPLE)
            + "\nCoordinators and administrators also need a second factor. Add the secret to"
            " an authenticator app\n(or open the otpauth: link on a phone that has one), or"
            " type one of the recovery codes;\neach recovery code works once.\n"
            + "".join(
                f"  {username:<6} secret {secret}\n"
                f"         {url}\n"
                f"         recovery codes {' '.join(codes[:3])} …\n"
                for username, (secret, url, codes) in second_factors.items()
            )
            + "\nTo place a call: log in as mei in one browser window and press"
            " 'Go available';\nin another window (or a private one) open /sim/, call the"
            " Banknotes line and press 1 for Mandarin.\nMei's simulated phone rings on her"
            " desk: answer, press 1 to accept, and the call is hers.\n"
            "To hand it on: log in as lin in a third window, 'Go available'; on Mei's desk"
            " 'Transfer the call' to Lin\n(warm: the two talk while the caller holds, then"
            " 'Hand the caller over'). Lin's phone rings on her desk.\nFrom Team, Lin can"
            " 'Listen in' on a call, muted, and whisper to the volunteer alone.\n" + _dialect_line()
        )


# Declarations made online with a statement, published by the demo's coordinator: what
# /statements shows from the first start. The form's token keeps them from being made twice.
DEMO_STATEMENTS = [
    ("清风", "CN-GD", ("youth_league",), "我今天退出共青团，心里踏实了。"),
    ("明月", "CN-SC", ("party",), "看了九评，明白了真相，声明退党。"),
    ("山水", "CN-HB", ("young_pioneers",), "小时候戴过红领巾，今天声明退出少先队。"),
]


def demo_statements() -> int:
    """The demo statements, declared online, approved and in the log; how many."""
    people = [
        Person(
            alias=alias,
            organizations=frozenset(organizations),
            region=region,
            statement=text,
            consent_to_publish=True,
        )
        for alias, region, organizations, text in DEMO_STATEMENTS
    ]
    declarations, again = declaration_record_online(
        token="demo-statements",  # noqa: S106 - the form's idempotency key, not a secret
        people=people,
        hold_statements=False,
    )
    if not again:
        coordinator = get_user_model().objects.get(username="lin")
        for declaration in declarations:
            statement = Statement.objects.get(declaration=declaration)
            statement_approve(
                statement=statement,
                text=declaration.statement,
                alias=declaration.alias,
                by=coordinator,
            )
        declarations_publish()  # as the worker's next batch would
    return len(declarations)


def _dialect_line() -> str:
    """Which provider's webhooks the simulated network calls, and how to see the other."""
    if settings.SIMULATOR_DIALECT == "telnyx":
        return (
            "The simulated network speaks Telnyx's TeXML: its webhooks go to /telephony/telnyx/,"
            " signed with Ed25519.\n"
        )
    return (
        "The simulated network speaks Twilio's TwiML (/telephony/twilio/, HMAC-signed);"
        " `SIMULATOR_DIALECT=telnyx make demo`\nplays Telnyx's TeXML instead"
        " (/telephony/telnyx/, Ed25519-signed).\n"
    )


def _second_factor(user: AbstractBaseUser) -> tuple[str, str, list[str]]:
    """The demo account's authenticator app secret, its otpauth: URL and its unused
    recovery codes, set up through allauth on the first run and read back after."""
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
    else:
        secret = decrypt(totp.data["secret"])
    recovery = Authenticator.objects.filter(
        user=user, type=Authenticator.Type.RECOVERY_CODES
    ).first()
    codes = (
        RecoveryCodes(recovery) if recovery is not None else RecoveryCodes.activate(user)
    ).get_unused_codes()
    url = get_mfa_adapter().build_totp_url(user, secret)
    return secret, url, codes


def _storage_line() -> str:
    """Where voicemail recordings and uploaded prompts go (STORAGE_BACKEND, lib/storage.py)."""
    kept = {
        "database": "in the database, where every app server and worker reads them",
        "s3": "in the S3 bucket S3_BUCKET names, shared by every app server and worker",
        "files": "under VAR_DIR on this machine only",
    }[settings.STORAGE_BACKEND]
    return (
        f"Voicemail recordings (sealed) and uploaded prompts are kept {kept}"
        f" (STORAGE_BACKEND={settings.STORAGE_BACKEND}; docs/deployment.md)."
    )
