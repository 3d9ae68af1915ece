"""Who must have a second factor, and whether they have one.

Coordinators and administrators hold what an intruder wants most (the team, screening,
declarations before publication, keys), so they cannot use the hotline without a second
factor; ``MFA_REQUIRED_FOR_VOLUNTEERS`` extends that to every volunteer.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from tuidang.volunteers.models import Volunteer

# Recovery codes are a way back in for someone who lost their device, not a factor of
# their own: an account counts as protected by an authenticator app or a security key.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def second_factor_required(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return True
    volunteer = Volunteer.objects.filter(user_id=user.pk).only("role").first()
    if volunteer is not None and volunteer.is_coordinator:
        return True
    required: bool = settings.MFA_REQUIRED_FOR_VOLUNTEERS
    return required


def has_second_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    found: bool = Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()
    return found
