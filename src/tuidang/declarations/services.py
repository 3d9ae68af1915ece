from __future__ import annotations

import base64
import functools
import json
import logging
import re
import secrets
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record, audit_record_many
from tuidang.calls.models import Call
from tuidang.calls.screening import call_renounced
from tuidang.declarations.models import (
    DailyTotal,
    Declaration,
    DeclarationChannel,
    HowHeardTotal,
    MonthlyRollup,
    Organization,
    Relationship,
    Revocation,
    RevocationReason,
    Rollup,
    Subject,
)
from tuidang.declarations.statements import statement_withdraw
from tuidang.lib import memo
from tuidang.lib.bulk import bulk_add_counts, db_value
from tuidang.lib.regions import CODES, UNKNOWN, is_region
from tuidang.tlog.services import commitment

logger = logging.getLogger(__name__)


# 80 random bits: sixteen characters to read out over the phone.
RECEIPT_CODE_BYTES = 10


def receipt_code(declaration: Declaration) -> str:
    """The receipt code as a volunteer reads it out: ABCD-EFGH-IJKL-MNOP."""
    code = base64.b32encode(bytes(declaration.receipt_salt)).decode()
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


class NotOnTheList(ValueError):
    """A value bound for the public log that is not on its closed list: nothing that is
    not on one may ever enter an entry, which can never be edited."""


def log_entry(declaration: Declaration) -> bytes:
    """What the public log holds of a declaration: what may be public, each value from
    its closed list, and a salted commitment to the private fields."""
    return declaration_entry(
        declared_on=declaration.declared_on.isoformat(),
        organizations=tuple(declaration.organizations()),
        # str(): a choice (DeclarationChannel.HOTLINE) as its value, as the row stores it.
        region=str(declaration.region),
        channel=str(declaration.channel),
        # With the receipt's code and their alias, the declarant can find their entry.
        commitment=commitment(bytes(declaration.receipt_salt), declaration.alias),
    )


# Entries of version 1 held the region as free text; version 2 holds a code of
# lib/regions.py (docs/transparency-log.md). Both stay in the log, and both verify.
ENTRY_VERSION = 2


def declaration_entry(
    *, declared_on: str, organizations: tuple[str, ...], region: str, channel: str, commitment: str
) -> bytes:
    """A declaration's log entry: the canonical JSON of its public fields (sorted keys, no
    spaces, UTF-8), written out by hand because imports make a million of them a minute;
    a test holds it equal to ``canonical_json`` of the same fields. Every value is checked
    against its closed list first (NotOnTheList), so the entry is made of those values
    and of the date and commitment, which are checked for their form."""
    # One test for the three on the path of a million rows; the refusal says which.
    if not (channel in _CHANNELS and region in _REGIONS and _is_commitment(commitment)):
        _refuse(channel=channel, region=region, commitment=commitment)
    return (
        f'{{"channel":"{channel}","commitment":"{commitment}",'
        f'"date":"{_date(declared_on)}","kind":"declaration",'
        f'"organizations":{_organizations(organizations)},'
        f'"region":"{region}","v":{ENTRY_VERSION}}}'
    ).encode()


def _refuse(*, channel: str, region: str, commitment: str) -> NoReturn:
    if channel not in _CHANNELS:
        raise NotOnTheList(
            f"channel must be one of {', '.join(DeclarationChannel.values)}, not {channel!r}"
        )
    if region not in _REGIONS:
        raise NotOnTheList(f"region {region!r} is not on the list of regions")
    raise NotOnTheList("the commitment must be a SHA-256 digest in base64")


# A value on one of these lists never needs escaping in JSON.
@functools.lru_cache(maxsize=4096)
def _date(declared_on: str) -> str:
    try:
        if date.fromisoformat(declared_on).isoformat() == declared_on:
            return declared_on
    except (TypeError, ValueError):
        pass
    raise NotOnTheList(f"the date must be a day as YYYY-MM-DD, not {declared_on!r}")


@functools.lru_cache(maxsize=64)
def _organizations(organizations: tuple[str, ...]) -> str:
    """The organizations, at least one, each once, in the order of ``Organization``."""
    if not organizations or list(organizations) != [
        org for org in Organization.values if org in organizations
    ]:
        raise NotOnTheList(
            f"organizations must be some of {', '.join(Organization.values)}, in that order"
        )
    return json.dumps(list(organizations), separators=(",", ":"))


_CHANNELS = frozenset(DeclarationChannel.values)
_REGIONS = CODES | {UNKNOWN}
# 32 bytes in base64: 43 characters and one "=".
_is_commitment = re.compile(r"[A-Za-z0-9+/]{43}=").fullmatch


def canonical_json(entry: dict[str, object]) -> bytes:
    """Sorted keys, no spaces, UTF-8: one entry has one byte string."""
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def revocation_entry(revocation: Revocation, *, day: date | None = None) -> bytes:
    """A revocation's log entry, dated ``day`` (its batch's; by default today)."""
    declaration = revocation.declaration
    if revocation.reason not in RevocationReason.values:
        raise NotOnTheList(
            f"reason must be one of {', '.join(RevocationReason.values)}, not {revocation.reason!r}"
        )
    if not isinstance(declaration.log_index, int):
        raise NotOnTheList("only a declaration in the log can be revoked")
    organizations = tuple(declaration.organizations())
    _organizations(organizations)
    return canonical_json(
        {
            "v": 1,
            "kind": "revocation",
            "revokes": declaration.log_index,
            "reason": revocation.reason,
            "date": (day or hotline_today()).isoformat(),
            "organizations": list(organizations),
        }
    )


def hotline_today() -> date:
    return hotline_time(timezone.now()).date()


def hotline_time(moment: datetime) -> datetime:
    """``moment`` in the hotline's time zone (HOTLINE_TIME_ZONE)."""
    return moment.astimezone(zoneinfo.ZoneInfo(settings.HOTLINE_TIME_ZONE))


@dataclass(frozen=True)
class Person:
    """Someone renouncing: the caller (no relationship) or a family member they speak for."""

    alias: str
    organizations: frozenset[str]
    relationship: str = ""
    consent_to_publish: bool = False
    statement: str = ""
    # A code of lib/regions.py; blank: the region the call came from.
    region: str = ""


def declaration_record(*, call: Call, people: list[Person], recorded_by: User) -> list[Declaration]:
    """Record renunciations made on a call: one declaration per person."""
    unknown = {org for person in people for org in person.organizations} - set(Organization.values)
    if unknown:
        raise NotOnTheList(f"unknown organizations: {sorted(unknown)}")
    for person in people:
        if not is_region(person.region.strip() or call.region):
            raise NotOnTheList(f"region {person.region!r} is not on the list of regions")
        if person.relationship and person.relationship not in Relationship.values:
            raise NotOnTheList(f"relationship must be one of {', '.join(Relationship.values)}")
    today = hotline_today()
    created = []
    with transaction.atomic():
        for person in people:
            if not person.organizations:
                raise ValueError("a declaration leaves at least one organization")
            if not person.alias.strip():
                raise ValueError("a declaration needs the name its receipt is checked with")
            family = bool(person.relationship)
            declaration = Declaration(
                call=call,
                subject=Subject.FAMILY if family else Subject.SELF,
                relationship=person.relationship,
                declared_on=today,
                region=person.region.strip() or call.region,
                how_heard=call.how_heard,
                channel=DeclarationChannel.RELAYED if family else DeclarationChannel.HOTLINE,
                consent_to_publish=person.consent_to_publish,
                recorded_by=recorded_by,
                **{org: org in person.organizations for org in Organization.values},
            )
            declaration.alias = person.alias.strip()
            declaration.statement = person.statement.strip()
            declaration.receipt_salt = secrets.token_bytes(RECEIPT_CODE_BYTES)
            declaration.save()
            created.append(declaration)
        # Stored now, durable before it is public: the next batch appends it to the log and
        # counts it (declarations/publication.py), so the log's growth does not say when.
        audit_record_many(actor=recorded_by, action=Action.CREATE, targets=created)
        for declaration in created:
            if _is_duplicate(declaration, call):
                declaration_revoke(
                    declaration=declaration, reason=RevocationReason.DUPLICATE, by=None
                )
    if created:
        # A caller once flagged for harassment who renounces is a conversion.
        call_renounced(call=call)
    logger.info("Recorded %s declaration(s) on call %s", len(created), call.case_code)
    return created


def _is_duplicate(declaration: Declaration, call: Call) -> bool:
    """The counting rule (docs/counting.md): the same caller key, alias and organizations
    within DUPLICATE_WINDOW_DAYS is one person declaring again."""
    if call.withheld or not declaration.alias:
        return False
    since = declaration.declared_on - timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    earlier = (
        Declaration.objects.filter(
            call__caller_key=call.caller_key,
            declared_on__gte=since,
            revocation__isnull=True,
            subject=declaration.subject,
            relationship=declaration.relationship,
            party=declaration.party,
            youth_league=declaration.youth_league,
            young_pioneers=declaration.young_pioneers,
        )
        .exclude(pk=declaration.pk)
        .filter(created_at__lte=declaration.created_at)
    )
    # Aliases are sealed: compare them once opened, among this caller's few declarations.
    return any(other.alias == declaration.alias for other in earlier)


def declaration_revoke(*, declaration: Declaration, reason: str, by: User | None) -> Revocation:
    """Revoke a declaration (a duplicate, or withdrawn): a new row, and with the next batch
    a new log entry, which takes it out of the counts (declarations/publication.py)."""
    if reason not in RevocationReason.values:
        raise NotOnTheList(f"reason must be one of {', '.join(RevocationReason.values)}")
    with transaction.atomic():
        locked = Declaration.objects.select_for_update().get(pk=declaration.pk)
        existing = Revocation.objects.filter(declaration=locked).first()
        if existing is not None:
            return existing
        revocation = Revocation.objects.create(declaration=locked, reason=reason, revoked_by=by)
        # Withdrawn or a duplicate, its statement leaves the published list.
        statement_withdraw(declaration_id=locked.pk)
        if by is not None:  # None: the duplicate rule, not a person
            audit_record(actor=by, action=Action.CHANGE, target=locked)
    logger.info("Declaration %s revoked: %s", declaration.log_index, reason)
    return revocation


def rollup_count(declarations: list[Declaration], step: int) -> None:
    """Count declarations into (or, revoked, out of) the rollups and daily totals, in the
    caller's transaction. Atomic increments: concurrent writers never lose a count."""
    tally = Tally()
    for declaration in declarations:
        tally.add(
            day=declaration.declared_on,
            organizations=declaration.organizations(),
            region=declaration.region,
            channel=declaration.channel,
            step=step,
            how_heard=declaration.how_heard,
        )
    tally.save()


class Tally:
    """Counts gathered in memory, then added to the rollups with one upsert per cell."""

    # Where each organization counts in a day's totals (after the people); built once,
    # as an import adds hundreds of thousands of declarations.
    _COLUMN = {organization: 1 + i for i, organization in enumerate(Organization.values)}

    def __init__(self) -> None:
        self.cells: Counter[tuple[date, str, str, str]] = Counter()
        self.days: dict[date, list[int]] = {}
        self.heard: Counter[tuple[date, str]] = Counter()

    def add(
        self,
        *,
        day: date,
        organizations: Iterable[str],
        region: str,
        channel: str,
        step: int,
        how_heard: str = "",
    ) -> None:
        self.heard[day.replace(day=1), how_heard] += step
        totals = self.days.get(day)
        if totals is None:
            totals = self.days[day] = [0] * (1 + len(self._COLUMN))
        totals[0] += step
        for organization in organizations:
            self.cells[day, organization, region, channel] += step
            totals[self._COLUMN[organization]] += step

    def save(self) -> None:
        days: Counter[tuple[Any, ...]] = Counter()
        months: Counter[tuple[Any, ...]] = Counter()
        stored = {day: (db_value(day), db_value(day.replace(day=1))) for day in self.days}
        for (day, organization, region, channel), step in self.cells.items():
            as_day, as_month = stored[day]
            days[as_day, organization, region, channel] += step
            months[as_month, organization, region, channel] += step
        cell = ["organization", "region", "channel"]
        bulk_add_counts(Rollup, ["day", *cell], ["count"], {k: (n,) for k, n in days.items()})
        bulk_add_counts(
            MonthlyRollup, ["month", *cell], ["count"], {k: (n,) for k, n in months.items()}
        )
        bulk_add_counts(
            DailyTotal,
            ["day"],
            ["people", *Organization.values],
            {(stored[day][0],): tuple(totals) for day, totals in self.days.items()},
        )
        bulk_add_counts(
            HowHeardTotal,
            ["month", "how_heard"],
            ["people"],
            {(db_value(month), heard): (n,) for (month, heard), n in self.heard.items()},
        )
        transaction.on_commit(statistics_changed)


# What is cached from the rollups (the public pages, the open data) is keyed by this
# generation, which moves once the transaction that changed them (a publication, an
# import's batch) commits: a cached page is never older than the last publication.
STATISTICS_GENERATION = "declarations:statistics-generation"


def statistics_generation() -> str:
    """The current generation; a new random one when the cache lost it, so that nothing
    cached under an earlier one is ever taken for current."""
    return str(cache.get_or_set(STATISTICS_GENERATION, secrets.token_hex, timeout=None))


def statistics_changed() -> None:
    cache.set(STATISTICS_GENERATION, secrets.token_hex(), timeout=None)
    memo.forget()  # this process's public pages; the others' within memo.HOLD_SECONDS
