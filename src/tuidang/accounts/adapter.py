from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from tuidang.lib.crypto import DecryptionError, key_version
from tuidang.vault.sealing import Sealer, unseal_bytes
from tuidang.vault.stores import Resealed, SealedStore


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
    (vault/sealing.py) and re-sealed by ``tuidang rotate-keys`` (``SecretStore``). allauth
    passes only the text, not its row, so the associated data binds a secret to the table
    and the field.
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


class SecretStore(SealedStore):
    """The second-factor secrets sealed inside allauth's ``Authenticator.data``, for key
    rotation (registered in accounts/apps.py)."""

    label = "mfa.Authenticator.data"
    names = ("secret", "seed")  # TOTP secrets and recovery-code seeds

    def _sealed(self, data: dict[str, Any]) -> Iterator[tuple[str, int]]:
        for name in self.names:
            stored = data.get(name)
            if isinstance(stored, str) and (version := sealed_secret_version(stored)) is not None:
                yield stored, version

    def holds_sealed_data(self) -> bool:
        from allauth.mfa.models import Authenticator

        for data in Authenticator.objects.values_list("data", flat=True).iterator():
            if any(self._sealed(data)):
                return True
        return False

    def versions(self) -> Iterator[int]:
        from allauth.mfa.models import Authenticator

        for data in Authenticator.objects.values_list("data", flat=True):
            for _stored, version in self._sealed(data):
                yield version

    def reseal(self, sealer: Sealer, *, batch_size: int, pause: float) -> Resealed:
        """Re-seal TOTP secrets and recovery-code seeds (and seal any stored in clear)."""
        from allauth.mfa.models import Authenticator

        done = Resealed()
        for pk, data in Authenticator.objects.order_by("pk").values_list("pk", "data"):
            resealed = dict(data)
            for name in self.names:
                stored = data.get(name)
                if not isinstance(stored, str) or sealed_secret_version(stored) == sealer.version:
                    continue
                try:
                    resealed[name] = seal_secret(unseal_secret(stored), sealer=sealer)
                except (DecryptionError, ValueError) as exc:
                    done.unreadable.append(f"{self.label} row {pk}: {exc}")
            if resealed == data:
                continue
            # Compare-and-swap, as for columns: a factor changed meanwhile is looked at again.
            if Authenticator.objects.filter(pk=pk, data=data).update(data=resealed):
                done.changed += 1
            else:
                done.conflicts += 1
        return done

    def opening_under(self, versions: set[int]) -> int:
        from allauth.mfa.models import Authenticator

        found = 0
        for data in Authenticator.objects.values_list("data", flat=True).iterator():
            for stored, version in self._sealed(data):
                if version in versions:
                    try:
                        unseal_secret(stored)
                    except (DecryptionError, ValueError):
                        continue
                    found += 1
        return found
