"""Logging in as a browser does: through the login form, from an address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.test import Client
from django.urls import reverse

from tuidang.testing.personas import PASSWORD

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse


def log_in(
    client: Client, username: str, password: str = PASSWORD, address: str = "198.51.100.7"
) -> _MonkeyPatchedWSGIResponse:
    """Post the login form as a browser at ``address`` would."""
    return client.post(
        reverse("login"), {"login": username, "password": password}, REMOTE_ADDR=address
    )
