from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tuidang.conftest import PASSWORD


def log_in(client: Client, username: str, password: str = PASSWORD, address: str = "198.51.100.7"):
    """Post the login form as a browser at ``address`` would."""
    return client.post(
        reverse("login"), {"login": username, "password": password}, REMOTE_ADDR=address
    )
