from __future__ import annotations

import base64
import functools
import json
import logging
import secrets
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
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
    MonthlyRollup,
    Organization,
    Revocation,
    RevocationReason,
    Rollup,
    Subject,
)
from tuidang.lib.bulk import bulk_add_counts, db_value
from tuidang.tlog.services import commitment, log_append

logger = logging.getLogger(__name__)


# 80 random bits: sixteen characters to read out over the phone.
RECEIPT_CODE_BYTES = 10


def receipt_code(declaration: Declaration) -> str:
    """The receipt code as a volunteer reads it out: ABCD-EFGH-IJKL-MNOP."""
    code = base64.b32encode(bytes(declaration.receipt_salt)).decode()
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def log_entry(declaration: Declaration) -> bytes:
    """What the public log holds of a declaration: what may be public, and a salted
    commitment to the private fields."""
    return declaration_entry(
        declared_on=declaration.declared_on.isoformat(),
        organizations=tuple(declaration.organizations()),
        region=declaration.region,
        channel=declaration.channel,
        # With the receipt's code and their alias, the declarant can find their entry.
        commitment=commitment(bytes(declaration.receipt_salt), declaration.alias),
    )


def declaration_entry(
    *, declared_on: str, organizations: tuple[str, ...], region: str, channel: str, commitment: str
) -> bytes:
    """A declaration's log entry: the canonical JSON of its public fields (sorted keys, no
    spaces, UTF-8), written out by hand because imports make a million of them a minute;
    a test holds it equal to ``canonical_json`` of the same fields."""
    return (
        # A date and base64 never need escaping.
        f'{{"channel":{_json(channel)},"commitment":"{commitment}","date":"{declared_on}",'
        f'"kind":"declaration","organizations":{_json_list(organizations)},'
        f'"region":{_json(region)},"v":1}}'
    ).encode()


@functools.lru_cache(maxsize=4096)
def _json(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


@functools.lru_cache(maxsize=64)
def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def canonical_json(entry: dict[str, object]) -> bytes:
    """Sorted keys, no spaces, UTF-8: one entry has one byte string."""
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def revocation_entry(revocation: Revocation) -> bytes:
    declaration = revocation.declaration
    return canonical_json(
        {
            "v": 1,
            "kind": "revocation",
            "revokes": declaration.log_index,
            "reason": revocation.reason,
            "date": hotline_today().isoformat(),
            "organizations": declaration.organizations(),
        }
    )


def hotline_today() -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(settings.HOTLINE_TIME_ZONE)).date()


@dataclass(frozen=True)
class Person:
    """Someone renouncing: the caller (no relationship) or a family member they speak for."""

    alias: str
    organizations: frozenset[str]
    relationship: str = ""
    consent_to_publish: bool = False
    statement: str = ""
    # Blank: the province the call came from.
    region: str = ""


def declaration_record(*, call: Call, people: list[Person], recorded_by: User) -> list[Declaration]:
    """Record renunciations made on a call: one declaration per person."""
    unknown = {org for person in people for org in person.organizations} - set(Organization.values)
    if unknown:
        raise ValueError(f"unknown organizations: {sorted(unknown)}")
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
        # In the same transaction: nothing counted that is not in the log, and nothing in
        # the log that is not stored.
        indexes = log_append(entries=[log_entry(declaration) for declaration in created])
        for declaration, index in zip(created, indexes, strict=True):
            declaration.log_index = index
            declaration.save(update_fields=["log_index"])
        rollup_count(created, +1)
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
    """Revoke a declaration (a duplicate, or withdrawn): a new row and a new log entry."""
    with transaction.atomic():
        locked = Declaration.objects.select_for_update().get(pk=declaration.pk)
        existing = Revocation.objects.filter(declaration=locked).first()
        if existing is not None:
            return existing
        revocation = Revocation.objects.create(declaration=locked, reason=reason, revoked_by=by)
        (revocation.log_index,) = log_append(entries=[revocation_entry(revocation)])
        revocation.save(update_fields=["log_index"])
        rollup_count([locked], -1)
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

    def add(
        self, *, day: date, organizations: Iterable[str], region: str, channel: str, step: int
    ) -> None:
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
