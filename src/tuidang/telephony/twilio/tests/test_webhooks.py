"""The Twilio adapter, driven by requests recorded as Twilio documents them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.test import Client, override_settings
from pytest_django.fixtures import Settings
from twilio.request_validator import RequestValidator

from tuidang.calls.models import Call
from tuidang.testing.personas import HotlineNumbers
from tuidang.volunteers.models import Volunteer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "hotline.example.org"


def load(name: str, **overrides: str) -> tuple[str, dict[str, str]]:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return data["path"], {**data["params"], **overrides}


def signed_post(
    client: Client,
    path: str,
    params: dict[str, str],
    *,
    url: str | None = None,
    token: str | None = None,
) -> _MonkeyPatchedWSGIResponse:
    from django.conf import settings

    url = url or f"https://{HOST}{path}"
    signature = RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    return client.post(
        path, params, headers={"host": HOST, "x-twilio-signature": signature}, secure=True
    )


@pytest.fixture(autouse=True, params=["every pool", "telephony pool"])
def _served_by(request: pytest.FixtureRequest, settings: Settings) -> None:
    """Each test twice: as a process serving every path answers, and as the telephony
    pool of `tuidang serve` does, with its own short middleware (TELEPHONY_MIDDLEWARE)."""
    settings.ALLOWED_HOSTS = [HOST, "testserver"]
    if request.param == "telephony pool":
        settings.SERVE_ONLY_PATHS = settings.TELEPHONY_POOL_PATHS
        settings.MIDDLEWARE = settings.TELEPHONY_MIDDLEWARE


def test_an_incoming_call_hears_the_language_menu(client: Client, numbers: HotlineNumbers) -> None:
    path, params = load("incoming_call")
    response = signed_post(client, path, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    body = response.content.decode()
    assert (
        "<Gather" in body
        and 'action="https://hotline.example.org/telephony/twilio/language"' in body
    )
    assert 'language="cmn-CN"' in body
    call = Call.objects.get()
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
    assert 'waitUrl="https://hotline.example.org/telephony/twilio/wait"' in body
    assert Call.objects.get().state == Call.State.QUEUED


def test_a_retried_incoming_call_is_recorded_once(client: Client, numbers: HotlineNumbers) -> None:
    path, params = load("incoming_call")
    first = signed_post(client, path, params)
    second = signed_post(client, path, params)
    assert first.content == second.content
    assert Call.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-twilio-signature": "bm90IGEgc2lnbmF0dXJl"},
    ],
    ids=["missing", "garbage"],
)
def test_an_unsigned_or_badly_signed_webhook_gets_403_and_changes_nothing(
    client: Client, numbers: HotlineNumbers, headers: dict[str, str]
) -> None:
    path, params = load("incoming_call")
    response = client.post(path, params, headers={"host": HOST, **headers}, secure=True)
    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_a_webhook_signed_with_another_token_gets_403(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    response = signed_post(client, path, params, token="someone-elses-auth-token")
    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_a_signature_for_altered_parameters_gets_403(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    url = f"https://{HOST}{path}"
    from django.conf import settings

    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    tampered = {**params, "To": "+18005550199"}
    response = client.post(
        path, tampered, headers={"host": HOST, "x-twilio-signature": signature}, secure=True
    )
    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_behind_a_proxy_the_public_url_is_what_is_validated(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    with override_settings(PUBLIC_BASE_URL="https://calls.example.net"):
        # Twilio signed the public URL; the app sees the proxy's internal host.
        ok = signed_post(client, path, params, url=f"https://calls.example.net{path}")
        wrong = signed_post(client, path, {**params, "CallSid": "CA" + "1" * 32})
    assert ok.status_code == 200
    assert 'action="https://calls.example.net/telephony/twilio/language"' in ok.content.decode()
    assert wrong.status_code == 403


def test_a_signature_that_is_not_ascii_gets_403_and_changes_nothing(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    response = client.post(
        path, params, headers={"host": HOST, "x-twilio-signature": "\u00e9abc="}, secure=True
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_a_signature_over_the_url_with_its_default_port_is_accepted(
    client: Client, numbers: HotlineNumbers
) -> None:
    # Twilio's signing is inconsistent about ports; the library accepts either form.
    path, params = load("incoming_call")
    with_port = signed_post(client, path, params, url=f"https://{HOST}:443{path}")
    assert with_port.status_code == 200
    assert Call.objects.count() == 1


@pytest.mark.parametrize(
    ("signed_with", "announced", "status"),
    [("HMAC_SHA256", "HMAC_SHA256", 200), ("HMAC_SHA1", "HMAC_SHA256", 403),
     ("HMAC_SHA1", "HMAC_MD5", 403)],
)  # fmt: skip
def test_the_announced_signature_algorithm_is_the_one_checked(
    client: Client, numbers: HotlineNumbers, signed_with: str, announced: str, status: int
) -> None:
    from django.conf import settings

    path, params = load("incoming_call")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    signature = validator.compute_signature(f"https://{HOST}{path}", params, signed_with)
    response = client.post(
        path,
        params,
        headers={
            "host": HOST,
            "x-twilio-signature": signature,
            "x-twilio-webhooks-signature-settings": f"algorithm={announced}",
        },
        secure=True,
    )
    assert response.status_code == status
    assert Call.objects.exists() == (status == 200)


def test_unknown_parameters_and_empty_location_fields_are_tolerated(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call", SomethingTwilioAddsNextYear="yes", FromState="")
    assert signed_post(client, path, params).status_code == 200


def test_a_get_webhook_is_validated_against_its_query_string(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    from urllib.parse import urlencode

    from django.conf import settings

    url = f"https://{HOST}{path}?{urlencode(params)}"
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, {})
    response = client.get(
        path, params, headers={"host": HOST, "x-twilio-signature": signature}, secure=True
    )
    assert response.status_code == 200
    assert Call.objects.count() == 1


def test_a_call_to_a_number_we_do_not_know_hears_a_message_and_is_logged(
    client: Client, numbers: HotlineNumbers, caplog: pytest.LogCaptureFixture
) -> None:
    path, params = load("incoming_call", To="+15555550000", Called="+15555550000")
    response = signed_post(client, path, params)
    body = response.content.decode()
    assert response.status_code == 200
    assert "not in service" in body and "<Hangup" in body
    assert Call.objects.count() == 0
    assert "not a hotline number" in caplog.text


def test_a_webhook_without_a_call_sid_is_a_bad_request(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("incoming_call")
    del params["CallSid"]
    assert signed_post(client, path, params).status_code == 400


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
    # The same callback again, and an older one arriving late, change nothing.
    signed_post(client, path, params)
    signed_post(client, path, {**params, "CallStatus": "ringing", "SequenceNumber": "0"})
    call.refresh_from_db()
    assert call.state == Call.State.DISCONNECTED
    assert call.provider_status == "completed"
    assert call.ended_at == ended_at


def test_a_status_callback_for_an_unknown_call_is_acknowledged(
    client: Client, numbers: HotlineNumbers
) -> None:
    path, params = load("status_completed", CallSid="CA" + "9" * 32)
    assert signed_post(client, path, params).status_code == 204


def test_a_caller_hears_the_menu_when_the_flood_check_after_the_call_fails(
    client: Client,
    numbers: HotlineNumbers,
    transactional_db: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    from django.db import DatabaseError

    from tuidang.screening import flood as screening

    def broken(*args: object, **kwargs: object) -> bool:
        raise DatabaseError("the flood check failed")

    monkeypatch.setattr(screening, "FLOOD_RECHECK", timedelta(0))
    monkeypatch.setattr(screening, "_flood_evaluate", broken)
    response = signed_post(client, *load("incoming_call"))
    assert response.status_code == 200
    assert "<Gather" in response.content.decode()
    assert Call.objects.get().state == Call.State.IVR


def test_the_next_caller_hears_a_greeting_changed_between_two_calls(
    client: Client, numbers: HotlineNumbers
) -> None:
    from tuidang.calls.models import NumberPrompt
    from tuidang.calls.prompts import PromptKind
    from tuidang.lib.languages import Language

    first = signed_post(client, *load("incoming_call"))
    assert "这里是退党热线" in first.content.decode()
    NumberPrompt.objects.create(
        number=numbers["banknotes"], kind=PromptKind.GREETING, language=Language.MANDARIN,
        text="您好，纸币热线。",
    )  # fmt: skip
    second = signed_post(client, *load("incoming_call", CallSid="CA" + "1" * 32))
    body = second.content.decode()
    assert "您好，纸币热线。" in body and "这里是退党热线" not in body


def test_a_new_caller_is_stored_with_one_read_and_one_insert(
    client: Client, numbers: HotlineNumbers, transactional_db: None
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_post(client, *load("incoming_call"))  # fills the caches
    path, params = load("incoming_call", CallSid="CA" + "2" * 32, From="+8613912345678")
    with CaptureQueriesContext(connection) as queries:
        response = signed_post(client, path, params)
    assert "<Gather" in response.content.decode()
    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    assert statements == ["SELECT", "INSERT"]  # no BEGIN, no COMMIT


def test_a_retried_incoming_call_outside_any_transaction_is_recorded_once(
    client: Client, numbers: HotlineNumbers, transactional_db: None
) -> None:
    path, params = load("incoming_call")
    first = signed_post(client, path, params)
    second = signed_post(client, path, params)
    assert first.content == second.content
    assert Call.objects.count() == 1


# --- Numbers from the outside are bounded; only ASCII digits are digits ---------------


@pytest.mark.parametrize(
    "digits", ["1" * 5000, "١", "１"], ids=["thousands", "arabic-indic", "fullwidth"]
)
def test_a_language_choice_that_is_not_one_ascii_key_hears_the_menu_again(
    client: Client, numbers: HotlineNumbers, digits: str
) -> None:
    signed_post(client, *load("incoming_call"))
    response = signed_post(client, *load("language_digit", Digits=digits))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'action="https://hotline.example.org/telephony/twilio/language"' in body
    assert "<Enqueue" not in body
    call = Call.objects.get()
    assert call.state == Call.State.IVR
    assert call.language == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SequenceNumber", str(2**63)),
        ("SequenceNumber", str(2**31)),
        ("CallDuration", str(2**63)),
        ("CallDuration", str(2**31)),
        ("CallDuration", "٤٧"),
    ],
    ids=["sequence-2^63", "sequence-2^31", "duration-2^63", "duration-2^31", "duration-arabic"],
)  # fmt: skip
def test_a_status_callback_with_a_number_out_of_bounds_is_stored_without_it(
    client: Client, numbers: HotlineNumbers, name: str, value: str
) -> None:
    signed_post(client, *load("incoming_call"))
    path, params = load("status_completed", **{name: value})
    assert signed_post(client, path, params).status_code == 204
    call = Call.objects.get()
    assert call.state == Call.State.DISCONNECTED  # the callback itself still counts
    if name == "SequenceNumber":
        assert call.provider_sequence == -1
        assert call.duration_seconds == 47
    else:
        assert call.provider_sequence == 3
        assert call.duration_seconds is None


@pytest.mark.parametrize("volunteer_id", [987654, 2**70], ids=["unknown", "beyond-any-column"])
def test_a_callback_result_for_a_volunteer_who_does_not_exist_hangs_up_and_is_recorded(
    client: Client, numbers: HotlineNumbers, transactional_db: None, volunteer_id: int
) -> None:
    from tuidang.calls.models import CallbackOutcome, Voicemail

    signed_post(client, *load("incoming_call"))
    voicemail = Voicemail(call=Call.objects.get(), recording_sid="RE" + "1" * 32)
    voicemail.callback_number = "+8613800138000"
    voicemail.save()
    path = f"/telephony/twilio/callback/{voicemail.public_id}/{volunteer_id}/done"
    params = {"CallSid": "CA" + "7" * 32, "DialCallStatus": "completed"}
    response = signed_post(client, path, params)
    assert response.status_code == 200
    assert "<Hangup" in response.content.decode()
    voicemail.refresh_from_db()
    assert voicemail.callback_outcome == CallbackOutcome.REACHED
    assert voicemail.callback_by is None
    assert voicemail.callback_number_sealed == b""  # reached: the number is gone


# --- A prompt text stored with a bad placeholder -------------------------------------


@pytest.mark.parametrize(
    "text", ["您好{", "您好{0}", "您好{ahead:d}", "您好{ahead.__class__}"],
    ids=["brace", "positional", "format-spec", "attribute"],
)  # fmt: skip
def test_a_bad_greeting_stored_in_the_database_is_replaced_by_the_built_in_one_and_logged(
    client: Client, numbers: HotlineNumbers, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    from tuidang.calls.models import NumberPrompt
    from tuidang.calls.prompts import PromptKind
    from tuidang.lib.languages import Language

    # Stored below the admin's checks, as a direct INSERT would.
    NumberPrompt.objects.create(kind=PromptKind.GREETING, language=Language.MANDARIN, text=text)
    response = signed_post(client, *load("incoming_call"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "这里是退党热线" in body and "您好{" not in body and "&lt;class" not in body
    assert "<Gather" in body
    assert "greeting" in caplog.text and "built-in text" in caplog.text


def test_a_bad_hold_prompt_stored_in_the_database_is_replaced_by_the_built_in_one(
    client: Client, numbers: HotlineNumbers, mei: Volunteer, caplog: pytest.LogCaptureFixture
) -> None:
    from tuidang.calls.models import NumberPrompt
    from tuidang.calls.prompts import PromptKind
    from tuidang.lib.languages import Language
    from tuidang.volunteers.models import Presence

    # On duty but busy: the caller holds and hears how many are ahead.
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.ON_CALL)

    NumberPrompt.objects.create(
        kind=PromptKind.HOLD, language=Language.MANDARIN, text="前面有{ahead:d}人。"
    )
    signed_post(client, *load("incoming_call"))
    signed_post(client, *load("language_digit"))
    _, params = load("language_digit")
    del params["Digits"]
    response = signed_post(client, "/telephony/twilio/wait", params)
    assert response.status_code == 200
    assert "您前面还有0位来电者" in response.content.decode()
    assert "built-in text" in caplog.text
