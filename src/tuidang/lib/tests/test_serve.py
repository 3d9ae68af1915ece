"""`tuidang serve`: the web server as a deployment runs it."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tuidang.testing.ports import free_port

CALLER = "+8613812345678"


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local URL
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _serve_one_webhook(tmp_path: Path, **settings: str) -> tuple[int | None, str, int]:
    """`tuidang serve` asked for a webhook as a provider may send it, the caller's number
    in the query: its answer's status, and what the server printed meanwhile."""
    port, telephony_port = free_port(), free_port()
    env = dict(os.environ, VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="tuidang.config.settings",
               **settings)  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "tuidang.manage", "serve", "--no-worker",
         "--port", str(port), "--workers", "1", "--threads", "1",
         "--telephony-port", str(telephony_port), "--telephony-workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        status = None
        while status is None and time.monotonic() < deadline:
            try:
                status = _get(
                    f"http://127.0.0.1:{port}/telephony/twilio/voice?From=%2B8613812345678"
                )
            except OSError:
                time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    log = output.decode()
    return status, log.replace(f"127.0.0.1:{telephony_port}", ""), port


def test_its_access_log_names_the_path_and_never_the_callers_number_or_an_address(
    tmp_path: Path,
) -> None:
    status, log, port = _serve_one_webhook(tmp_path)
    assert status == 403  # unsigned
    assert '"GET /telephony/twilio/voice" 403' in log
    assert CALLER.removeprefix("+") not in log
    assert "127.0.0.1" not in log.replace(f"127.0.0.1:{port}", "")  # who asked is not kept


def test_behind_the_proxy_it_leaves_the_access_log_to_the_proxy(tmp_path: Path) -> None:
    """ACCESS_LOG=false, as the deployments set it: HAProxy logs the same line."""
    status, log, _port = _serve_one_webhook(tmp_path, ACCESS_LOG="false")
    assert status == 403
    assert "Serving at" in log  # the server's own lines still come
    assert '/telephony/twilio/voice"' not in log


def test_each_server_process_loads_every_view_and_spares_it_the_full_garbage_passes(
    tmp_path: Path,
) -> None:
    probe = (
        "import gc, sys, tuidang.config.wsgi; "
        "print(gc.get_freeze_count() > 10_000, 'tuidang.telephony.twiml.views' in sys.modules)"
    )
    env = dict(os.environ, VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="tuidang.config.settings")
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "True"]


def test_it_refuses_to_start_until_a_telephony_provider_is_chosen(tmp_path: Path) -> None:
    """Never the simulated network by default: it would play the provider for anyone."""
    env = dict(os.environ, VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="tuidang.config.settings")
    env.pop("TELEPHONY_PROVIDER", None)
    result = subprocess.run(
        [sys.executable, "-m", "tuidang.manage", "serve", "--no-worker",
         "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Choose a telephony provider: TELEPHONY_PROVIDER=twilio or telnyx" in result.stderr
