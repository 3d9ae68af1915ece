from __future__ import annotations

import base64
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from tuidang.lib.crypto import Sealer, key_version, unseal_bytes


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by administrators; nobody signs up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Leave failed passwords to django-axes (tuidang.accounts.lockout).

        allauth's own limit counts failures per username, so anyone who knows a
        volunteer's name could keep them out by failing on purpose. axes counts per
        (username, address) and per address instead. Second-factor codes are still
        limited per account (accounts/forms.py): only someone who already has the password
        reaches that step.
        """


class MFAAdapter(DefaultMFAAdapter):
    """Keep second-factor secrets sealed at rest.

    allauth stores each TOTP secret and recovery-code seed in ``Authenticator.data``;
    in clear, a copy of the database would hand over the second factor of every account
    whose password is also known. They are sealed like every identifying field
    (lib/crypto.py) and re-sealed by ``tuidang rotate-keys``. allauth passes only the
    text, not its row, so the associated data binds a secret to the table and the field.
    """

    def encrypt(self, text: str) -> str:
        return seal_secret(text)

    def decrypt(self, encrypted_text: str) -> str:
        return unseal_secret(encrypted_text)


SEALED_PREFIX = "sealed:"
SECRET_PLACE = {"table": "mfa_authenticator", "row": "", "field": "secret"}


def seal_secret(text: str, *, sealer: Sealer | None = None) -> str:
    blob = (sealer or Sealer()).seal(text.encode(), **SECRET_PLACE)
    return SEALED_PREFIX + base64.urlsafe_b64encode(blob).decode()


def unseal_secret(stored: str) -> str:
    """The secret; a value stored before secrets were sealed is returned as it is."""
    if not stored.startswith(SEALED_PREFIX):
        return stored
    blob = base64.urlsafe_b64decode(stored.removeprefix(SEALED_PREFIX))
    return unseal_bytes(blob, **SECRET_PLACE).decode()


def sealed_secret_version(stored: str) -> int | None:
    """The data key version a stored secret is sealed under (None: it is in clear)."""
    if not stored.startswith(SEALED_PREFIX):
        return None
    return key_version(base64.urlsafe_b64decode(stored.removeprefix(SEALED_PREFIX)))
