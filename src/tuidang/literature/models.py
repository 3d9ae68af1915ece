"""Books callers ask for: the catalogue coordinators keep, and requests tied to calls."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuidang.calls.models import Call
from tuidang.vault.fields import Sealed
from tuidang.volunteers.models import Volunteer


class BookLanguage(models.TextChoices):
    SIMPLIFIED = "zh-hans", _("Chinese (simplified)")
    TRADITIONAL = "zh-hant", _("Chinese (traditional)")
    ENGLISH = "en", _("English")


class Format(models.TextChoices):
    PRINTED = "printed", _("Printed")
    EBOOK = "ebook", _("E-book")
    AUDIO = "audio", _("Audio")


class Title(models.Model):
    name = models.CharField(_("title"), max_length=200)
    language = models.CharField(_("language"), max_length=8, choices=BookLanguage.choices)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    link = models.URLField(_("link to send"), blank=True)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["name", "language", "format"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language", "format"], name="one_edition")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_language_display()}, {self.get_format_display()})"


class Delivery(models.TextChoices):
    READ = "read", _("Read over the phone")
    LINK = "link", _("A link")
    POST = "post", _("By post")


class BookRequest(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("To fulfil")
        SENT = "sent", _("Sent")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="book_requests")
    titles = models.ManyToManyField(Title, related_name="requests")
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery.choices)
    # A postal address (or where to send a link) identifies someone: sealed at rest, and
    # emptied once the book is sent.
    address_sealed = models.BinaryField(blank=True)
    address = Sealed("address_sealed")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    requested_by = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The coordinators' queue: open requests, oldest first.
            models.Index(fields=["state", "created_at"], name="book_request_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"Book request on {self.call}"
