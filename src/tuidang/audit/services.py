"""Writing the audit log. Call `audit_record` in the transaction of the change it records,
so a change and its record are committed together or not at all."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction

from tuidang.audit.models import Action, AuditEvent


def audit_target(record: models.Model) -> tuple[str, str]:
    """How the log names a record: its model label and its public id, else its key."""
    if record.pk is None:
        raise ValueError("the record must be saved before its audit event")
    public_id = getattr(record, "public_id", None)
    return record._meta.label, str(public_id if public_id is not None else record.pk)


@transaction.atomic
def audit_record(
    *, actor: AbstractBaseUser | AnonymousUser, action: Action, target: models.Model
) -> AuditEvent:
    """Record that ``actor`` did ``action`` to ``target``."""
    (event,) = audit_record_many(actor=actor, action=action, targets=[target])
    return event


@transaction.atomic
def audit_record_many(
    *,
    actor: AbstractBaseUser | AnonymousUser,
    action: Action,
    targets: Iterable[models.Model],
) -> list[AuditEvent]:
    """One event per record, in one insert (a page that shows several sealed values)."""
    person = _person(actor)
    events = []
    for target in targets:
        target_type, target_id = audit_target(target)
        events.append(
            AuditEvent(
                actor=person,
                actor_name=person.get_username(),
                action=action,
                target_type=target_type,
                target_id=target_id,
            )
        )
    return AuditEvent.objects.bulk_create(events)


@transaction.atomic
def audit_record_lookup(
    *, actor: AbstractBaseUser | AnonymousUser, kind: type[models.Model], key: str
) -> AuditEvent:
    """Record that ``actor`` looked up a ``kind`` of record by ``key``, found or not: a
    miss names no record, so the event names what was tried."""
    person = _person(actor)
    return AuditEvent.objects.create(
        actor=person,
        actor_name=person.get_username(),
        action=Action.LOOKUP,
        target_type=kind._meta.label,
        target_id=key,
    )


def _person(actor: AbstractBaseUser | AnonymousUser) -> User:
    # Only people are audited, and every view that shows sensitive data requires a
    # login: an anonymous actor here is a bug, and fails rather than log a read no one
    # can be held to.
    if not isinstance(actor, User) or not actor.is_authenticated:
        raise ValueError("only a logged-in person can be recorded in the audit log")
    return actor
