"""allauth's second-factor forms, refusing a TOTP code that was already used anywhere."""

from __future__ import annotations

from allauth.core.internal.cryptokit import compare_user_code
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.db import IntegrityError, transaction

from tuidang.accounts.models import UsedTOTPStep


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


class _RefusesUsedCodes(mfa_forms.BaseAuthenticateForm):
    def clean_code(self) -> str:
        code: str = super().clean_code()
        authenticator: Authenticator = self.authenticator
        if authenticator.type == Authenticator.Type.TOTP and not totp_step_claim(
            authenticator=authenticator, code=code
        ):
            raise get_adapter().validation_error("incorrect_code")
        return code


class AuthenticateForm(_RefusesUsedCodes, mfa_forms.AuthenticateForm):
    pass


class ReauthenticateForm(_RefusesUsedCodes, mfa_forms.ReauthenticateForm):
    pass
