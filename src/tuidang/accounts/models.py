from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import models
from django.utils import timezone


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


class SecondFactorFailure(models.Model):
    """A second-factor code tried for an account, kept until the limit's window has passed.

    allauth counts wrong codes per account in the cache; with a cache per process (the
    default without Redis) every app server, and every restart, would allow its own five
    guesses. These rows are shared by every process (accounts/forms.py). A right code
    deletes the account's rows; rows older than the window are deleted as new ones come.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["user", "at"], name="accounts_2fa_failure_user_at"),
            models.Index(fields=["at"], name="accounts_2fa_failure_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class LoginHashWindow(models.Model):
    """How many passwords were hashed for logins in one second, across every app server.

    The store of the fleet's login budget (accounts/budget.py) on PostgreSQL when there
    is no Redis (on SQLite a file of its own keeps it off the single writer): one row per
    second, its ``used`` raised by a conditional UPDATE that cannot
    pass ``LOGIN_HASHES_PER_SECOND`` however many processes race for it. Rows older than
    a minute are deleted as new seconds begin.
    """

    second = models.BigIntegerField(primary_key=True)  # Unix time, whole seconds
    used = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.second}: {self.used}"
