"""allauth's second-factor forms, refusing a TOTP code that was already used anywhere and
limiting wrong codes per account whichever process they reach."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core.internal.cryptokit import compare_user_code
from allauth.core.internal.ratelimit import get_rates
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from tuidang.accounts.models import SecondFactorFailure, UsedTOTPStep


def totp_step_claim(*, authenticator: Authenticator, code: str) -> bool:
    """Record that ``code`` was used; False if its time step (or a later one) already was.

    The conditional UPDATE is atomic on SQLite and PostgreSQL: of two logins racing with
    the same code, one moves the step and the other finds nothing to update.
    """
    secret = decrypt(authenticator.data["secret"])
    steps = [
        step
        for step in yield_hotp_counters_from_time()
        if compare_user_code(actual=code, expected=format_hotp_value(hotp_value(secret, step)))
    ]
    if not steps:
        return False
    step = steps[-1]
    with transaction.atomic():
        moved = UsedTOTPStep.objects.filter(authenticator=authenticator, last_step__lt=step).update(
            last_step=step
        )
        if moved:
            return True
        if UsedTOTPStep.objects.filter(authenticator=authenticator).exists():
            return False
        try:
            with transaction.atomic():
                UsedTOTPStep.objects.create(authenticator=authenticator, last_step=step)
        except IntegrityError:
            return False  # the same code, claimed a moment ago by another login
    return True


def second_factor_limit() -> tuple[int, timedelta] | None:
    """allauth's per-account limit on wrong codes (``ACCOUNT_LOGIN_ATTEMPTS_LIMIT`` in
    ``ACCOUNT_LOGIN_ATTEMPTS_TIMEOUT`` seconds, 5 in 5 minutes), or None if it is off."""
    for rate in get_rates(app="allauth.account", action="login_failed"):
        if rate.per == "key":
            return rate.amount, timedelta(seconds=rate.duration)
    return None


def second_factor_attempt_record(*, user: AbstractBaseUser) -> None:
    """Count a code about to be checked for ``user``, refusing it with allauth's "too many
    failed login attempts" if the account's limit is already reached.

    The row is written before it is counted, each in its own statement and outside any
    transaction of ours, so that logins racing on several processes all see each other's
    rows: the race can refuse one attempt too many, never allow one. A refused attempt
    takes its row back, so the lock ends when the window has passed over the failures.
    The row stays if the code is wrong; a right one clears them all.
    """
    limit = second_factor_limit()
    if limit is None:
        return
    amount, window = limit
    now = timezone.now()
    SecondFactorFailure.objects.filter(at__lte=now - window).delete()
    attempt = SecondFactorFailure.objects.create(user_id=user.pk, at=now)
    if SecondFactorFailure.objects.filter(user_id=user.pk, at__gt=now - window).count() > amount:
        attempt.delete()
        raise get_account_adapter().validation_error("too_many_login_attempts")


def second_factor_failures_clear(*, user: AbstractBaseUser) -> None:
    SecondFactorFailure.objects.filter(user_id=user.pk).delete()


class _RefusesUsedCodes(mfa_forms.BaseAuthenticateForm):
    def clean_code(self) -> str:
        second_factor_attempt_record(user=self.user)
        code: str = super().clean_code()
        authenticator: Authenticator = self.authenticator
        if authenticator.type == Authenticator.Type.TOTP and not totp_step_claim(
            authenticator=authenticator, code=code
        ):
            raise get_adapter().validation_error("incorrect_code")
        second_factor_failures_clear(user=self.user)
        return code


class AuthenticateForm(_RefusesUsedCodes, mfa_forms.AuthenticateForm):
    pass


class ReauthenticateForm(_RefusesUsedCodes, mfa_forms.ReauthenticateForm):
    pass
