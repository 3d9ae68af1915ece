"""Who read or changed which sensitive record, and when: append-only.

An event names its record by model label and public id (or primary key) only; it never
holds text that could identify a caller. Rows can be added, never changed or removed:
the model refuses it, and so does the database itself (triggers created in the
migration, on SQLite and PostgreSQL), so neither a bug nor the admin nor raw SQL through
the application's connection rewrites history.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """An audit event was about to be changed or deleted."""


class Action(models.TextChoices):
    VIEW = "view", _("viewed")
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    DELETE = "delete", _("deleted")
    EXPORT = "export", _("exported")
    PLAY = "play", _("played")
    CALL = "call", _("called back")
    # A case looked up by its code, found or not: the event names the code tried.
    LOOKUP = "lookup", _("looked up")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    # PROTECT: an account that read sensitive data cannot be deleted, only deactivated,
    # so the log keeps saying who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who"),
    )
    # The username at the time, as the log reads it even after a rename.
    actor_name = models.CharField(_("username"), max_length=150)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    # The record: its model ("calls.CallNote") and its public id, or its primary key
    # for models without one. Not a foreign key: the record may later be deleted by
    # retention, and the event must stay.
    target_type = models.CharField(_("kind of record"), max_length=100)
    target_id = models.CharField(_("record"), max_length=64)
    at = models.DateTimeField(_("when"), default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-pk"]
        indexes = [
            # The admin lists the newest first and filters by record and by person.
            models.Index(fields=["-at"], name="audit_newest_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_record_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.target_type} {self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")
