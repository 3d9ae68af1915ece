"""LOG_FORMAT=json: one JSON object a line, with the request's and the call's ids, and
never a caller's number."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.calls.models import Call
from tuidang.lib.logcontext import logging_config
from tuidang.telephony.twilio.tests.test_webhooks import HOST, load, signed_post
from tuidang.testing.personas import HotlineNumbers, go_available
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

CANARY = "+8613912345678"


@pytest.fixture
def json_lines(settings: Settings) -> Iterator[io.StringIO]:
    """The root logger writing as LOG_FORMAT=json configures it, into a buffer."""
    settings.LOG_FORMAT = "json"
    settings.ALLOWED_HOSTS = [HOST, "testserver"]
    config = logging_config(log_format="json", level="INFO")
    buffer = io.StringIO()
    config["handlers"]["console"]["stream"] = buffer
    root = logging.getLogger()
    kept = (list(root.handlers), root.level)
    logging.config.dictConfig(config)
    try:
        yield buffer
    finally:
        root.handlers[:] = kept[0]
        root.setLevel(kept[1])


def lines(buffer: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line]


def test_webhook_lines_carry_the_request_and_call_ids_and_no_number(
    client: Client, numbers: HotlineNumbers, mei: Volunteer, json_lines: io.StringIO
) -> None:
    path, params = load("incoming_call", From=CANARY, Caller=CANARY)
    first = signed_post(client, path, params)
    assert first.status_code == 200
    go_available(mei)  # the caller's choice of language then rings her: lines to read
    path, digit = load("language_digit", CallSid=params["CallSid"], From=CANARY, Caller=CANARY)
    second = signed_post(client, path, digit)
    assert second.status_code == 200
    call = Call.objects.get()
    logged = lines(json_lines)
    received = [line for line in logged if line["logger"] == "tuidang.calls.services.arrival"]
    assert received and received[0]["call_id"] == str(call.pk)
    assert received[0]["request_id"] == first["X-Request-ID"]
    queued = [line for line in logged if line["request_id"] == second["X-Request-ID"]]
    assert any(line["message"].startswith("Offered call") for line in queued)
    assert all(line["call_id"] == str(call.pk) for line in queued)
    text = json_lines.getvalue()
    assert CANARY not in text and CANARY.removeprefix("+86") not in text


def test_a_plain_request_id_from_the_proxy_is_kept_and_any_other_replaced(client: Client) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "proxy-4f2a9c1e"})
    assert kept["X-Request-ID"] == "proxy-4f2a9c1e"
    replaced = client.get("/healthz", headers={"X-Request-ID": "+8613912345678 <x>"})
    assert replaced["X-Request-ID"] != "+8613912345678 <x>"
    assert len(replaced["X-Request-ID"]) == 32


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of plain, json"):
        logging_config(log_format="xml", level="INFO")
