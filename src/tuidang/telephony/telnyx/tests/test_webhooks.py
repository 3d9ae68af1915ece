"""The Telnyx adapter, driven by requests recorded as Telnyx's TeXML sends them.

Each request is signed Telnyx's way, with a key pair made for the test: Ed25519 over
``<telnyx-timestamp>|<raw body>``, checked against ``TELNYX_PUBLIC_KEY``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.calls.models import Call
from tuidang.telephony.telnyx.signature import TOLERANCE_SECONDS
from tuidang.testing.personas import HotlineNumbers

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "hotline.example.org"
FORM = "application/x-www-form-urlencoded"
KEY = Ed25519PrivateKey.generate()
SOMEONE_ELSES_KEY = Ed25519PrivateKey.generate()


def public_key(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load(name: str, **overrides: str) -> tuple[str, dict[str, str]]:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return data["path"], {**data["params"], **overrides}


def signature_headers(
    body: bytes, *, key: Ed25519PrivateKey = KEY, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(stamp.encode() + b"|" + body)
    return {
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": stamp,
    }


def post(
    client: Client, path: str, body: bytes, headers: dict[str, str]
) -> _MonkeyPatchedWSGIResponse:
    return client.post(
        path, body, content_type=FORM, headers={"host": HOST, **headers}, secure=True
    )


def signed_post(
    client: Client, path: str, params: dict[str, str], **signing: Any
) -> _MonkeyPatchedWSGIResponse:
    body = urlencode(params).encode()
    return post(client, path, body, signature_headers(body, **signing))


@pytest.fixture(autouse=True)
def _telnyx_account(settings: Settings) -> None:
    settings.ALLOWED_HOSTS = [HOST, "testserver"]
    settings.TELNYX_PUBLIC_KEY = public_key(KEY)


def test_an_incoming_call_hears_the_language_menu(client: Client, numbers: HotlineNumbers) -> None:
    path, params = load("incoming_call")
    response = signed_post(client, path, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    body = response.content.decode()
    assert (
        "<Gather" in body
        and 'action="https://hotline.example.org/telephony/telnyx/language"' in body
    )
    assert 'language="cmn-CN"' in body
    call = Call.objects.get()
    assert call.provider_sid == params["CallSid"]
    assert call.how_heard == "banknotes"
    assert call.region == "CN-BJ"
    assert call.state == Call.State.IVR


def test_the_recorded_digit_puts_the_caller_in_the_mandarin_queue(
    client: Client, numbers: HotlineNumbers
) -> None:
    signed_post(client, *load("incoming_call"))
    response = signed_post(client, *load("language_digit"))
    body = response.content.decode()
    assert "<Enqueue" in body and ">cmn</Enqueue>" in body
    assert 'waitUrl="https://hotline.example.org/telephony/telnyx/wait"' in body
    assert Call.objects.get().state == Call.State.QUEUED


def test_a_retried_incoming_call_is_recorded_once(client: Client, numbers: HotlineNumbers) -> None:
    path, params = load("incoming_call")
    first = signed_post(client, path, params)
    second = signed_post(client, path, params)
    assert first.content == second.content
    assert Call.objects.count() == 1


def _forged(body: bytes) -> dict[str, str]:
    headers = signature_headers(body)
    headers["telnyx-signature-ed25519"] = base64.b64encode(bytes(64)).decode()
    return headers


def _missing(name: str) -> Callable[[bytes], dict[str, str]]:
    def headers(body: bytes) -> dict[str, str]:
        signed = signature_headers(body)
        del signed[name]
        return signed

    return headers


def _stamped(seconds_off: int) -> Callable[[bytes], dict[str, str]]:
    return lambda body: signature_headers(body, timestamp=int(time.time()) + seconds_off)


def _timestamp_changed(body: bytes) -> dict[str, str]:
    headers = signature_headers(body, timestamp=int(time.time()) - 10)
    return {**headers, "telnyx-timestamp": str(int(time.time()))}


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: {},
        _missing("telnyx-signature-ed25519"),
        _missing("telnyx-timestamp"),
        lambda body: {**signature_headers(body), "telnyx-signature-ed25519": "not base64!"},
        lambda body: {**signature_headers(body), "telnyx-signature-ed25519": "\u00e9abc="},
        lambda body: {**signature_headers(body), "telnyx-timestamp": "yesterday"},
        _forged,
        lambda body: signature_headers(body, key=SOMEONE_ELSES_KEY),
        _stamped(-TOLERANCE_SECONDS - 1),  # stale: a request replayed later
        _stamped(TOLERANCE_SECONDS + 60),  # from a clock far ahead
        _timestamp_changed,
    ],
    ids=[
        "no-headers",
        "no-signature",
        "no-timestamp",
        "signature-not-base64",
        "signature-not-ascii",
        "timestamp-not-a-number",
        "forged",
        "wrong-key",
        "stale",
        "future",
        "timestamp-changed",
    ],
)
def test_a_badly_signed_webhook_gets_403_and_changes_nothing(
    client: Client, numbers: HotlineNumbers, headers: Callable[[bytes], dict[str, str]]
) -> None:
    path, params = load("incoming_call")
    body = urlencode(params).encode()
    response = post(client, path, body, headers(body))
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_a_signature_for_another_body_gets_403(client: Client, numbers: HotlineNumbers) -> None:
    path, params = load("incoming_call")
    signed = signature_headers(urlencode(params).encode())
    tampered = urlencode({**params, "To": "+18005550199"}).encode()
    assert post(client, path, tampered, signed).status_code == 403
    assert not Call.objects.exists()


def test_a_request_replayed_after_the_tolerance_gets_403(
    client: Client, numbers: HotlineNumbers, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, params = load("incoming_call")
    body = urlencode(params).encode()
    recorded = signature_headers(body)
    assert post(client, path, body, recorded).status_code == 200
    later = time.time() + TOLERANCE_SECONDS + 1
    monkeypatch.setattr("tuidang.telephony.telnyx.signature.time.time", lambda: later)
    Call.objects.all().delete()
    assert post(client, path, body, recorded).status_code == 403
    assert not Call.objects.exists()


def test_a_timestamp_within_the_tolerance_is_accepted(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    response = signed_post(client, path, params, timestamp=int(time.time()) - TOLERANCE_SECONDS + 5)
    assert response.status_code == 200


def test_a_get_is_refused_as_its_parameters_would_go_unsigned(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    response = client.get(
        path, params, headers={"host": HOST, **signature_headers(b"")}, secure=True
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_without_a_public_key_nothing_is_accepted(
    client: Client, numbers: HotlineNumbers, settings: Settings
) -> None:
    settings.TELNYX_PUBLIC_KEY = ""
    assert signed_post(client, *load("incoming_call")).status_code == 403
    settings.TELNYX_PUBLIC_KEY = "not a key"
    assert signed_post(client, *load("incoming_call")).status_code == 403
    assert not Call.objects.exists()


def test_each_provider_takes_only_its_own_signature(
    client: Client, numbers: HotlineNumbers
) -> None:
    from django.conf import settings
    from twilio.request_validator import RequestValidator

    path, params = load("incoming_call")
    twilio_signed = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
        f"https://{HOST}{path}", params
    )
    body = urlencode(params).encode()
    assert post(client, path, body, {"x-twilio-signature": twilio_signed}).status_code == 403
    telnyx_signed = signature_headers(body)
    assert post(client, "/telephony/twilio/voice", body, telnyx_signed).status_code == 403
    assert not Call.objects.exists()


def test_the_cached_language_menu_leads_each_provider_to_its_own_webhooks(
    client: Client, numbers: HotlineNumbers
) -> None:
    from django.conf import settings
    from twilio.request_validator import RequestValidator

    path, params = load("incoming_call")
    twilio_params = {**params, "CallSid": "CA" + "3" * 32}
    url = f"https://{HOST}/telephony/twilio/voice"
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, twilio_params)
    by_twilio = client.post(
        "/telephony/twilio/voice",
        twilio_params,
        headers={"host": HOST, "x-twilio-signature": signature},
        secure=True,
    )
    by_telnyx = signed_post(client, path, params)
    assert "/telephony/twilio/language" in by_twilio.content.decode()
    assert "/telephony/telnyx/language" in by_telnyx.content.decode()
    assert "/telephony/twilio/" not in by_telnyx.content.decode()


def test_status_callbacks_are_idempotent_and_ignore_older_sequence_numbers(
    client: Client, numbers: HotlineNumbers
) -> None:
    signed_post(client, *load("incoming_call"))
    path, params = load("status_completed")
    assert signed_post(client, path, params).status_code == 204
    call = Call.objects.get()
    assert call.state == Call.State.DISCONNECTED  # hung up in the menu
    assert call.duration_seconds == 47
    ended_at = call.ended_at
    signed_post(client, path, params)
    signed_post(client, path, {**params, "CallStatus": "ringing", "SequenceNumber": "0"})
    call.refresh_from_db()
    assert call.state == Call.State.DISCONNECTED
    assert call.provider_status == "completed"
    assert call.ended_at == ended_at


def test_a_webhook_without_a_call_sid_is_a_bad_request(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    del params["CallSid"]
    assert signed_post(client, path, params).status_code == 400


def test_keys_and_numbers_out_of_bounds_are_refused_by_the_shared_views(
    client: Client, numbers: HotlineNumbers
) -> None:
    signed_post(client, *load("incoming_call"))
    menu_again = signed_post(client, *load("language_digit", Digits="1" * 5000))
    assert menu_again.status_code == 200
    assert 'action="https://hotline.example.org/telephony/telnyx/language"' in (
        menu_again.content.decode()
    )
    assert Call.objects.get().language == ""
    path, params = load("status_completed", SequenceNumber=str(2**63), CallDuration=str(2**63))
    assert signed_post(client, path, params).status_code == 204
    call = Call.objects.get()
    assert call.state == Call.State.DISCONNECTED
    assert (call.provider_sequence, call.duration_seconds) == (-1, None)
