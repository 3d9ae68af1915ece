"""Load the demo hotline: two numbers, three volunteers, a coordinator and an admin, and a
short history of declarations in the public registry with its log signed.

The coordinator and the admin get an authenticator app secret and recovery codes, printed
with the logins, since they cannot log in without a second factor. Running it again
changes nothing that is already there.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

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

from tuidang.calls.models import HotlineNumber, HowHeard
from tuidang.calls.services import calls_reconcile
from tuidang.declarations.imports import Row, import_declarations
from tuidang.declarations.models import DeclarationChannel, Organization, Relationship
from tuidang.declarations.services import hotline_today
from tuidang.lib.languages import Language
from tuidang.literature.models import BookLanguage, Format, Title
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


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print how to use the demo."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        second_factors: dict[str, tuple[str, str, list[str]]] = {}
        with transaction.atomic():
            for e164, name, how_heard in NUMBERS:
                HotlineNumber.objects.get_or_create(
                    e164=e164, defaults={"name": name, "how_heard": how_heard}
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
        imported, _skipped = import_declarations(demo_history(hotline_today()))
        checkpoint = log_checkpoint_sign()  # as the worker would, within a second
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        if imported:
            self.stdout.write(f"The registry holds {imported} invented demo declarations.")
        if checkpoint is not None:
            self.stdout.write(
                f"Its log is signed at size {checkpoint.size} (/log/checkpoint); check it with"
                " `tuidang verify-log --url <this site>`."
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
                f" {settings.RECONCILE_INTERVAL_SECONDS} s (`tuidang reconcile --dry-run`)."
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
            " desk: answer, press 1 to accept, and the call is hers.\n" + _dialect_line()
        )


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
