import re

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.testing.personas import PASSWORD
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

# After the password is confirmed again, as allauth asks before any change.
PAGES = [
    "login",
    "account_reauthenticate",
    "account_change_password",
    "mfa_index",
    "mfa_deactivate_totp",
    "mfa_generate_recovery_codes",
    "mfa_list_webauthn",
    "mfa_add_webauthn",
    "logout",
]


def inline_scripts(html: str) -> list[str]:
    """Scripts the Content Security Policy would block: inline code, not data or files."""
    return [
        tag
        for tag in re.findall(r"<script[^>]*>", html)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]


@pytest.mark.parametrize("name", PAGES)
def test_account_pages_are_in_the_hotlines_look_without_inline_code(
    name: str, lin: Volunteer
) -> None:
    client = Client()
    if name != "login":
        client.force_login(lin.user)
        client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse(name))
    assert page.status_code == 200, page.get("Location")
    assert 'class="brand"' in page.text  # the project's base.html
    assert inline_scripts(page.text) == []
    assert "style=" not in page.text


def test_new_recovery_codes_are_shown_once_generated(client: Client, lin: Volunteer) -> None:
    client.force_login(lin.user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.post(reverse("mfa_generate_recovery_codes")).status_code == 302
    page = client.get(reverse("mfa_view_recovery_codes"))
    assert page.status_code == 200
    assert re.search(r"\b\d{8}\b", page.text)
    assert "mfa/js/recovery_codes.js" in page.text  # copying them needs its script
