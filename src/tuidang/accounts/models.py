from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db import models


class UsedTOTPStep(models.Model):
    """The latest time step whose code an authenticator app has logged in with.

    allauth remembers a used code in the cache for one period; with a cache per process
    (the default without Redis) another app server would take the same code again. This
    row is shared by every process, and a code is accepted only for a later step than the
    last one used (RFC 6238, section 5.2).
    """

    authenticator = models.OneToOneField(
        Authenticator, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_step = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.authenticator_id}: {self.last_step}"
