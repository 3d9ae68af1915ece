from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by administrators; nobody signs up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Leave failed passwords to django-axes (tuidang.accounts.lockout).

        allauth's own limit counts failures per username, so anyone who knows a
        volunteer's name could keep them out by failing on purpose. axes counts per
        (username, address) and per address instead. allauth still limits second-factor
        codes per account: only someone who already has the password reaches that step.
        """
