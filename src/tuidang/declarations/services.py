from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration, DeclarationChannel, Organization, Subject
from tuidang.screening.services import screening_renounced

logger = logging.getLogger(__name__)


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
            family = bool(person.relationship)
            declaration = Declaration(
                call=call,
                subject=Subject.FAMILY if family else Subject.SELF,
                relationship=person.relationship,
                declared_on=today,
                region=person.region.strip() or call.region,
                source=call.channel,
                channel=DeclarationChannel.RELAYED if family else DeclarationChannel.HOTLINE,
                consent_to_publish=person.consent_to_publish,
                recorded_by=recorded_by,
                **{org: org in person.organizations for org in Organization.values},
            )
            declaration.alias = person.alias.strip()
            declaration.statement = person.statement.strip()
            declaration.save()
            created.append(declaration)
    if created:
        # A caller once flagged for harassment who renounces is a conversion.
        screening_renounced(call=call)
    logger.info("Recorded %s declaration(s) on call %s", len(created), call.case_code)
    return created
