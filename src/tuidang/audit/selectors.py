"""Reads of the audit log."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User

from tuidang.audit.models import Action, AuditEvent


def events_since(*, actor: User, action: Action, since: datetime) -> int:
    """How many times ``actor`` did ``action`` since then (the actor's index)."""
    return AuditEvent.objects.filter(actor=actor, action=action, at__gte=since).count()
