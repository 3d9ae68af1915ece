"""Telnyx's TeXML REST API as the calls domain's provider, against a stub of it on 127.0.0.1.

The stub records every request and answers as Telnyx documents it; the tests assert what
the provider sent: the paths under /v2/texml/Accounts/<account>/, the JSON bodies, the
bearer token, and that the token goes nowhere else and is never logged.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from tuidang.telephony.telnyx.client import TelnyxError, TelnyxProvider

API_KEY = "KEY0123456789ABCDEF_test-only"
ACCOUNT = "0b6d7c5e-4f3a-4b2c-9d1e-8f7a6b5c4d3e"
APPLICATION = "1293384261075731499"
AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt "


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Stub:
    base: str
    seen: list[Seen] = field(default_factory=list)
    # (method, path) -> (status, body); anything else is a 404.
    answers: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub(base="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append(
                Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status, reply = state.answers.get((self.command, self.path), (404, b"{}"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def provider(stub: Stub, settings: Settings) -> TelnyxProvider:
    settings.TELNYX_API_KEY = API_KEY
    settings.TELNYX_ACCOUNT_SID = ACCOUNT
    settings.TELNYX_APPLICATION_SID = APPLICATION
    settings.PUBLIC_BASE_URL = "https://hotline.example.org"
    return TelnyxProvider(api_base=f"{stub.base}/v2")


TOKEN = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
CALLS = f"/v2/texml/Accounts/{ACCOUNT}/Calls"
PLACED = json.dumps({"call_sid": "v3:leg-1", "from": "+18005550100", "status": "queued"})


def test_ringing_an_offer_places_a_call_that_asks_the_offers_webhook(
    stub: Stub, provider: TelnyxProvider
) -> None:
    stub.answers[("POST", CALLS)] = (200, PLACED.encode())
    token = TOKEN
    leg = provider.ring_offer(
        to="sip:mei@example.org", from_="+18005550100", offer_token=token, timeout=20
    )
    assert leg == "v3:leg-1"
    [request] = stub.seen
    assert (request.method, request.path) == ("POST", CALLS)
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "ApplicationSid": APPLICATION,
        "To": "sip:mei@example.org",
        "From": "+18005550100",
        "Url": f"https://hotline.example.org/telephony/telnyx/offer/{token}",
        "StatusCallback": f"https://hotline.example.org/telephony/telnyx/offer/{token}/status",
        "StatusCallbackEvent": "completed",
        "Timeout": 20,
    }


def test_ringing_a_callback_asks_the_callbacks_webhook(
    stub: Stub, provider: TelnyxProvider
) -> None:
    stub.answers[("POST", CALLS)] = (200, json.dumps({"data": {"call_sid": "v3:leg-2"}}).encode())
    voicemail = "00000000-0000-4000-8000-000000000001"
    leg = provider.ring_callback(
        to="+15551230000", from_="+18005550100", voicemail_id=voicemail, volunteer_id=7, timeout=30
    )
    assert leg == "v3:leg-2"
    sent = json.loads(stub.seen[0].body)
    assert sent["Url"] == f"https://hotline.example.org/telephony/telnyx/callback/{voicemail}/7"
    assert sent["StatusCallback"].endswith(f"/telephony/telnyx/callback/{voicemail}/7/status")
    assert sent["Timeout"] == 30


def test_a_call_placed_without_a_call_sid_is_an_error(stub: Stub, provider: TelnyxProvider) -> None:
    stub.answers[("POST", CALLS)] = (200, b'{"status": "queued"}')
    with pytest.raises(TelnyxError):
        provider.ring_offer(to="+15551230000", from_="+18005550100", offer_token=TOKEN, timeout=20)


def test_hanging_up_completes_the_leg(stub: Stub, provider: TelnyxProvider) -> None:
    stub.answers[("POST", f"{CALLS}/v3:leg-1")] = (200, b'{"status": "completed"}')
    provider.hang_up(leg_id="v3:leg-1")
    [request] = stub.seen
    assert (request.method, request.path) == ("POST", f"{CALLS}/v3:leg-1")
    assert json.loads(request.body) == {"Status": "completed"}
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


def test_an_error_names_the_status_and_never_the_key(stub: Stub, provider: TelnyxProvider) -> None:
    with pytest.raises(TelnyxError) as error:
        provider.hang_up(leg_id="v3:gone")
    assert error.value.status == 404
    assert API_KEY not in str(error.value)


def test_a_recording_at_the_api_is_fetched_with_the_key(
    stub: Stub, provider: TelnyxProvider
) -> None:
    path = f"/v2/texml/Accounts/{ACCOUNT}/Recordings/rec-1.wav"
    stub.answers[("GET", path)] = (200, AUDIO)
    assert provider.fetch_recording(url=stub.base + path) == AUDIO
    assert stub.seen[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_a_recording_elsewhere_is_fetched_without_the_key(
    stub: Stub, provider: TelnyxProvider
) -> None:
    # The same stub under another name: another host, as a storage link would be.
    elsewhere = stub.base.replace("127.0.0.1", "localhost")
    stub.answers[("GET", "/recordings/rec-1.wav")] = (200, AUDIO)
    assert provider.fetch_recording(url=f"{elsewhere}/recordings/rec-1.wav") == AUDIO
    assert "authorization" not in stub.seen[0].headers


def test_deleting_a_recording_and_one_already_gone(stub: Stub, provider: TelnyxProvider) -> None:
    path = f"/v2/texml/Accounts/{ACCOUNT}/Recordings/rec-1.json"
    stub.answers[("DELETE", path)] = (204, b"")
    provider.delete_recording(recording_id="rec-1")
    provider.delete_recording(recording_id="rec-2")  # 404: already gone, not an error
    assert [(r.method, r.path) for r in stub.seen] == [
        ("DELETE", path),
        ("DELETE", f"/v2/texml/Accounts/{ACCOUNT}/Recordings/rec-2.json"),
    ]
    stub.answers[("DELETE", path)] = (500, b"{}")
    with pytest.raises(TelnyxError):
        provider.delete_recording(recording_id="rec-1")


def test_ids_cannot_leave_their_place_in_the_path(stub: Stub, provider: TelnyxProvider) -> None:
    provider.delete_recording(recording_id="../../Calls/x")
    assert stub.seen[0].path == f"/v2/texml/Accounts/{ACCOUNT}/Recordings/..%2F..%2FCalls%2Fx.json"


def test_the_key_is_never_logged(
    stub: Stub, provider: TelnyxProvider, caplog: pytest.LogCaptureFixture
) -> None:
    stub.answers[("POST", CALLS)] = (200, PLACED.encode())
    with caplog.at_level(logging.DEBUG):
        provider.ring_offer(to="+15551230000", from_="+18005550100", offer_token=TOKEN, timeout=20)
        with pytest.raises(TelnyxError):
            provider.hang_up(leg_id="v3:leg-1")  # a 404 from the stub
    assert caplog.records  # requests and urllib3 did log
    assert API_KEY not in caplog.text


def test_telnyx_is_chosen_by_name_and_needs_its_secrets(tmp_path: Path) -> None:
    probe = "from tuidang.config import settings; print(settings.TELEPHONY_PROVIDER_CLASS)"
    base = dict(os.environ, VAR_DIR=str(tmp_path), TELEPHONY_PROVIDER="telnyx")
    for name in ("TELNYX_API_KEY", "TELNYX_PUBLIC_KEY"):
        base.pop(name, None)
    missing = subprocess.run(
        [sys.executable, "-c", probe], env=base, capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0
    assert "TELNYX_API_KEY" in missing.stderr
    key_file = tmp_path / "api_key"
    key_file.write_text("KEY-from-a-file\n")
    configured = dict(base, TELNYX_API_KEY_FILE=str(key_file), TELNYX_PUBLIC_KEY="A" * 43 + "=")
    result = subprocess.run(
        [sys.executable, "-c", probe], env=configured, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "tuidang.telephony.telnyx.client.TelnyxProvider"


def test_where_a_leg_stands_is_asked_of_its_call_resource(
    stub: Stub, provider: TelnyxProvider
) -> None:
    from tuidang.calls.ports import LegOutcome

    stub.answers[("GET", f"{CALLS}/v3:leg-1")] = (
        200,
        json.dumps({"call_sid": "v3:leg-1", "status": "completed"}).encode(),
    )
    stub.answers[("GET", f"{CALLS}/v3:leg-2")] = (
        200,
        json.dumps({"data": {"call_sid": "v3:leg-2", "status": "in-progress"}}).encode(),
    )
    assert provider.call_state(leg_id="v3:leg-1") == LegOutcome.COMPLETED
    assert provider.call_state(leg_id="v3:leg-2") == LegOutcome.ANSWERED
    assert stub.seen[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_a_leg_telnyx_does_not_know_is_unknown(stub: Stub, provider: TelnyxProvider) -> None:
    from tuidang.calls.ports import LegUnknown

    with pytest.raises(LegUnknown):
        provider.call_state(leg_id="v3:never")
