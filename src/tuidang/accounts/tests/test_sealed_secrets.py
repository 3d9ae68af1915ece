"""Second-factor secrets are sealed at rest, and rotate with every other sealed value."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.core.management import call_command
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.accounts.adapter import sealed_secret_version
from tuidang.testing.personas import PASSWORD, TOTP_SECRET, totp_code
from tuidang.vault.models import DataKey
from tuidang.volunteers.models import Volunteer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse


def log_in_with_code(client: Client, username: str) -> _MonkeyPatchedWSGIResponse:
    client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    return client.post("/accounts/2fa/authenticate/", {"code": totp_code()})


def stored_data(kind: str) -> dict[str, Any]:
    """Authenticator.data as the database holds it, read below the ORM."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE type = %s", [kind])
        [(raw,)] = cursor.fetchall()
    return raw if isinstance(raw, dict) else json.loads(raw)


@pytest.mark.django_db
def test_a_totp_secret_and_recovery_seed_never_reach_the_database_in_clear(lin: Volunteer) -> None:
    RecoveryCodes.activate(lin.user)
    totp = stored_data(Authenticator.Type.TOTP)
    assert TOTP_SECRET not in json.dumps(totp)
    assert sealed_secret_version(totp["secret"]) is not None
    recovery = stored_data(Authenticator.Type.RECOVERY_CODES)
    assert sealed_secret_version(recovery["seed"]) is not None
    # The codes the coordinator wrote down still work, from the sealed seed.
    codes = RecoveryCodes(Authenticator.objects.get(type="recovery_codes")).get_unused_codes()
    assert len(codes) == 10


@pytest.mark.django_db
def test_after_a_key_rotation_the_code_from_the_app_still_logs_in(
    client: Client, lin: Volunteer, settings: Settings
) -> None:
    settings.FIELD_KEY_CACHE_SECONDS = 0
    settings.VAR_DIR = settings.VAR_DIR / "rotation-secrets"
    before = sealed_secret_version(stored_data(Authenticator.Type.TOTP)["secret"])

    call_command("rotate_keys", pause=0, verbosity=0)

    [key] = DataKey.objects.all()
    assert key.version != before
    assert sealed_secret_version(stored_data(Authenticator.Type.TOTP)["secret"]) == key.version
    response = log_in_with_code(client, "lin")
    assert response.status_code == 302
    assert client.get("/desk/").status_code == 200


@pytest.mark.django_db
def test_a_secret_stored_in_clear_before_sealing_is_sealed_by_the_next_rotation(
    client: Client, lin: Volunteer, settings: Settings
) -> None:
    settings.FIELD_KEY_CACHE_SECONDS = 0
    settings.VAR_DIR = settings.VAR_DIR / "rotation-secrets"
    Authenticator.objects.filter(type="totp").update(data={"secret": TOTP_SECRET})
    assert log_in_with_code(client, "lin").status_code == 302  # still opens, as it was

    call_command("rotate_keys", pause=0, verbosity=0)

    assert sealed_secret_version(stored_data(Authenticator.Type.TOTP)["secret"]) is not None
    client.logout()
    assert TOTP_SECRET not in json.dumps(stored_data(Authenticator.Type.TOTP))
