"""Declaring online: the web form's path into the registry, beside the desk's.

A declaration made online is stored exactly as one recorded at the desk (a row per
person, alias and statement sealed, a receipt salt) and becomes public the same way: the
next batch appends it to the log and counts it (publication.py). It differs only where
the web does: no call, no volunteer, the channel and how-heard are the web's, and the
same form posted twice (its token) records its people once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date

from django.db import IntegrityError, transaction

from tuidang.calls.models import HowHeard
from tuidang.declarations.models import (
    Declaration,
    DeclarationChannel,
    OnlineSubmission,
    Organization,
    Relationship,
    Statement,
    StatementStatus,
    Subject,
)
from tuidang.declarations.services import (
    RECEIPT_CODE_BYTES,
    NotOnTheList,
    Person,
    hotline_today,
)
from tuidang.lib.regions import is_region

logger = logging.getLogger(__name__)


def declaration_record_online(
    *, token: str, people: list[Person], hold_statements: bool
) -> tuple[list[Declaration], bool]:
    """Record the people of one posted form; (their declarations, whether the form had
    been recorded before). A consented statement waits for moderation; held (a flood,
    or no proof of work), it waits behind the others."""
    earlier = _recorded(token)
    if earlier is not None:
        return earlier, True
    for person in people:
        unknown = set(person.organizations) - set(Organization.values)
        if unknown or not person.organizations:
            raise NotOnTheList(f"organizations must be some of {', '.join(Organization.values)}")
        if not is_region(person.region):
            raise NotOnTheList(f"region {person.region!r} is not on the list of regions")
        if person.relationship and person.relationship not in Relationship.values:
            raise NotOnTheList(f"relationship must be one of {', '.join(Relationship.values)}")
        if not person.alias.strip():
            raise ValueError("a declaration needs the name its receipt is checked with")
    today = hotline_today()
    try:
        with transaction.atomic():
            # Taken first: a second post of the same form waits here, then finds it taken.
            submission = OnlineSubmission.objects.create(token=_key(token))
            created = [_declaration(person, today=today) for person in people]
            for declaration, person in zip(created, people, strict=True):
                if person.consent_to_publish and person.statement.strip():
                    Statement.objects.create(
                        declaration=declaration,
                        status=StatementStatus.HELD if hold_statements else StatementStatus.PENDING,
                        region=declaration.region,
                        declared_on=today,
                        **{org: getattr(declaration, org) for org in Organization.values},
                    )
            submission.declarations = [declaration.pk for declaration in created]
            submission.save(update_fields=["declarations"])
    except IntegrityError:
        # The same form, posted at the same moment by a second request, won the race.
        again = _recorded(token)
        if again is None:
            raise
        return again, True
    logger.info("Recorded %s declaration(s) online", len(created))
    return created, False


def _declaration(person: Person, *, today: date) -> Declaration:
    family = bool(person.relationship)
    declaration = Declaration(
        subject=Subject.FAMILY if family else Subject.SELF,
        relationship=person.relationship,
        declared_on=today,
        region=person.region,
        how_heard=HowHeard.WEBSITE,
        channel=DeclarationChannel.WEB,
        consent_to_publish=person.consent_to_publish,
        **{org: org in person.organizations for org in Organization.values},
    )
    declaration.alias = person.alias.strip()
    declaration.statement = person.statement.strip()
    declaration.receipt_salt = secrets.token_bytes(RECEIPT_CODE_BYTES)
    declaration.save()
    return declaration


def _key(token: str) -> str:
    """What is kept of a form's token: its SHA-256, a fixed 64 characters."""
    return hashlib.sha256(token.encode()).hexdigest()


def declarations_of_form(*, token: str) -> list[Declaration] | None:
    """The declarations a form (by its token) recorded, or None if it recorded none."""
    return _recorded(token)


def _recorded(token: str) -> list[Declaration] | None:
    submission = OnlineSubmission.objects.filter(token=_key(token)).first()
    if submission is None:
        return None
    by_id = Declaration.objects.in_bulk(submission.declarations)
    return [by_id[pk] for pk in submission.declarations if pk in by_id]
