"""`tuidang serve` answers the telephony webhooks in a pool of their own: a flood of logins
or page views can take every thread that serves people and callers still get through."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings
from twilio.request_validator import RequestValidator

from tuidang.accounts.budget import FileBudget
from tuidang.accounts.models import LoginHashWindow
from tuidang.calls.models import HotlineNumber, HowHeard
from tuidang.testing.ports import free_port

TOKEN = "pools-auth-token-" + "0" * 16
LINE = "+18005550177"
PEOPLE_THREADS = 2
BUDGET = 2  # password hashes a second, for the whole pool


def _request(url: str, data: dict[str, str] | None = None, **headers: str) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - local
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _headers(url: str) -> dict[str, str]:
    """The headers of ``url``'s answer, whatever its status, by lowercase name."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - local
            return {name.lower(): value for name, value in response.headers.items()}
    except urllib.error.HTTPError as error:
        return {name.lower(): value for name, value in error.headers.items()}


def _database_url() -> str:
    """The test database, for the served processes to share with this test."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    user = database["USER"] or "postgres"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{database['PORT'] or 5432}/{database['NAME']}"


def _wait_for(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")


def _answers(url: str) -> bool:
    try:
        _request(url)
    except OSError:
        return False
    return True


@contextmanager
def _serve(
    tmp_path: Path, *, people_workers: int, people_threads: int, **environment: str
) -> Iterator[tuple[str, str, Path]]:
    """`tuidang serve` on this test's database, with a telephony pool of one process and
    one thread; the URLs of both pools, and the folder of held requests."""
    people_port, telephony_port = free_port(), free_port()
    hold_dir = tmp_path / "hold"
    hold_dir.mkdir()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tuidang.testing.held.settings",
        DATABASE_URL=_database_url(),
        VAR_DIR=str(tmp_path / "var"),
        TWILIO_AUTH_TOKEN=TOKEN,
        TASKS_BACKEND="immediate",
        HOLD_DIR=str(hold_dir),
        **environment,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "tuidang.manage", "serve", "--no-worker",
         "--port", str(people_port), "--workers", str(people_workers),
         "--threads", str(people_threads), "--telephony-port", str(telephony_port),
         "--telephony-workers", "1", "--telephony-threads", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    people, telephony = f"http://127.0.0.1:{people_port}", f"http://127.0.0.1:{telephony_port}"
    try:
        _wait_for(lambda: _answers(people + "/") and _answers(telephony + "/"), "both pools")
        yield people, telephony, hold_dir
    finally:
        (hold_dir / "release").touch()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A pool for people of one process and two threads."""
    with _serve(tmp_path, people_workers=1, people_threads=PEOPLE_THREADS) as urls:
        yield urls


def _niceness_of_servers_on(url: str) -> set[int]:
    """The CPU niceness of every granian process serving ``url``'s port (Linux's /proc)."""
    port = url.rsplit(":", 1)[1]
    found: set[int] = set()
    for process in Path("/proc").glob("[0-9]*"):
        try:
            arguments = (process / "cmdline").read_bytes().split(b"\0")
            stat = (process / "stat").read_text()
        except OSError:
            continue
        if b"granian" in b" ".join(arguments) and port.encode() in arguments:
            found.add(int(stat.rsplit(")", 1)[1].split()[16]))  # field 19: nice
    return found


def _incoming_call(base: str, caller: int = 12345678, line: str = LINE) -> tuple[int, str]:
    url = f"{base}/telephony/twilio/voice"
    params = {
        "AccountSid": "AC" + "0" * 32, "CallSid": f"CA{caller:032d}", "CallStatus": "ringing",
        "Direction": "inbound", "From": f"+86138{caller:08d}", "To": line, "Called": line,
        "FromCountry": "CN", "ToCountry": "US",
    }  # fmt: skip
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    return _request(url, params, **{"X-Twilio-Signature": signature})


@pytest.mark.django_db(transaction=True)
def test_a_call_is_answered_while_every_thread_serving_people_is_taken(
    served: tuple[str, str, Path],
) -> None:
    HotlineNumber.objects.create(e164=LINE, name="Pools line", how_heard=HowHeard.BANKNOTES)
    people, telephony, hold_dir = served

    with ThreadPoolExecutor(max_workers=PEOPLE_THREADS + 1) as pool:
        held: list[Future[tuple[int, str]]] = [
            pool.submit(_request, people + "/hold/") for _ in range(PEOPLE_THREADS)
        ]
        _wait_for(
            lambda: len(list(hold_dir.glob("held-*"))) == PEOPLE_THREADS,
            "every thread of the pool for people taken",
        )
        # One more person waits for a thread of their pool, and gets none yet.
        waiting = pool.submit(_request, people + "/accounts/login/")

        status, twiml = _incoming_call(telephony)

        assert status == 200
        assert "<Gather" in twiml  # the caller hears the language menu
        assert not any(request.done() for request in [*held, waiting])  # still all taken

        (hold_dir / "release").touch()
        assert [request.result()[0] for request in held] == [200] * PEOPLE_THREADS
        assert waiting.result()[0] == 200


@pytest.mark.django_db(transaction=True)
def test_the_telephony_pool_answers_nothing_but_the_webhooks_and_comes_first_for_the_cpu(
    served: tuple[str, str, Path],
) -> None:
    people, telephony, _ = served
    assert _request(telephony + "/accounts/login/")[0] == 404
    assert _request(telephony + "/admin/")[0] == 404
    assert _request(people + "/accounts/login/")[0] == 200
    # Where both want a core, the webhooks' processes come first.
    assert _niceness_of_servers_on(people) == {os.nice(0) + 10}
    assert _niceness_of_servers_on(telephony) == {os.nice(0)}
    # Nor does it run what serves a person (TELEPHONY_MIDDLEWARE): no page policy, no
    # CSRF cookie; its answers still carry their request's id.
    page = _headers(people + "/accounts/login/")
    webhook = _headers(telephony + "/telephony/twilio/voice")  # unsigned: the view's 403
    assert "content-security-policy" in page and "set-cookie" in page
    assert "content-security-policy" not in webhook and "set-cookie" not in webhook
    assert "x-request-id" in webhook
    assert webhook["x-content-type-options"] == "nosniff"  # SecurityMiddleware's headers


def test_every_answer_of_both_pools_is_sent_whole_with_its_length(
    served: tuple[str, str, Path],
) -> None:
    # A chunked answer ends with a write of its own, which Nagle's algorithm may hold
    # until the client acknowledges the first (lib/middleware.py).
    people, telephony, _ = served
    for url in [
        telephony + "/telephony/twilio/voice",  # unsigned: the view's 403
        telephony + "/accounts/login/",  # the pool's 404
        telephony + "/healthz",
        people + "/healthz",
        people + "/accounts/login/",
    ]:
        headers = _headers(url)
        assert "transfer-encoding" not in headers, url
        assert int(headers["content-length"]) > 0, url


def test_a_process_limited_to_some_paths_refuses_others(settings: Settings) -> None:
    settings.SERVE_ONLY_PATHS = ["/telephony/"]
    client = Client()
    assert client.get("/accounts/login/").status_code == 404
    assert client.get("/").status_code == 404
    # Unsigned, so refused, but by the webhook's own check: the path is served.
    assert client.post("/telephony/twilio/voice").status_code == 403


def test_every_process_serves_every_path_by_default() -> None:
    assert django_settings.SERVE_ONLY_PATHS == []


def _fail_logins(people: str, client: int, attempts: int) -> list[int]:
    """One browser's flood: its failed logins sent all at once (not each after the last
    answer, which would pace the flood by how fast the server hashes), each from a new
    address (behind the trusted proxy)."""
    page = requests.get(f"{people}/accounts/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None

    def attempt(n: int) -> int:
        return requests.post(
            f"{people}/accounts/login/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "login": f"u{client}x{n}",
                "password": "x",
            },
            cookies=page.cookies,
            headers={"X-Forwarded-For": f"10.{client}.0.{n + 1}", "Referer": people + "/"},
            allow_redirects=False,
            timeout=120,
        ).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return list(pool.map(attempt, range(attempts)))


@pytest.mark.django_db(transaction=True)
def test_during_a_login_flood_on_two_processes_calls_are_answered_and_the_budget_holds(
    tmp_path: Path,
) -> None:
    """The short version of bench/login_flood.py: failed logins from many addresses on a
    pool for people of two processes, while calls come in."""
    HotlineNumber.objects.create(e164=LINE, name="Pools line", how_heard=HowHeard.BANKNOTES)
    with (
        # Without Redis (whose counters expire within seconds, too soon to count them
        # afterwards; its budget races in accounts/tests/test_login_budget.py): the budget
        # is then the database's, or on SQLite a file of its own, both kept to be read here.
        _serve(
            tmp_path, people_workers=2, people_threads=2, TRUSTED_PROXY_COUNT="1", REDIS_URL=""
        ) as (
            people,
            telephony,
            _,
        ),
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        flood = [pool.submit(_fail_logins, people, client, 8) for client in range(4)]
        calls = [_incoming_call(telephony, caller) for caller in range(10)]
        statuses = [status for attempts in flood for status in attempts.result()]

    assert all(status == 200 and "<Gather" in twiml for status, twiml in calls)
    hashed = statuses.count(200)  # a wrong password, checked and refused
    assert statuses.count(429) > 0  # past the budget: refused without hashing
    assert hashed + statuses.count(429) == len(statuses)
    # Both processes took from one budget, never more than it allows in a second: on
    # SQLite a file of its own, never the database the webhooks write to.
    if connection.vendor == "sqlite":
        assert not LoginHashWindow.objects.exists()
        windows = list(FileBudget(tmp_path / "var" / "login-budget").spent().values())
    else:
        windows = list(LoginHashWindow.objects.values_list("used", flat=True))
    assert sum(windows) == hashed
    assert max(windows) <= BUDGET


def _refused_login(
    people: str, token: str, cookies: requests.cookies.RequestsCookieJar, n: int
) -> tuple[int, float]:
    started = time.monotonic()
    status = requests.post(
        f"{people}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": f"guess{n}", "password": "x"},
        cookies=cookies,
        headers={"X-Forwarded-For": f"10.9.0.{n + 1}", "Referer": people + "/"},
        allow_redirects=False,
        timeout=60,
    ).status_code
    return status, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_refused_logins_wait_on_threads_of_their_own_while_pages_and_calls_are_answered(
    tmp_path: Path,
) -> None:
    """A login refused over the budget is answered only after the tarpit's wait, on one of
    the threads kept for waiting: the pool's working threads still serve pages, and a
    refusal finding every waiting place taken is answered at once (accounts/tarpit.py)."""
    HotlineNumber.objects.create(e164=LINE, name="Pools line", how_heard=HowHeard.BANKNOTES)
    # Long beside what a refusal, a page and a call take, even on a loaded machine.
    wait, places = 6.0, 4
    with (
        _serve(
            tmp_path,
            people_workers=1,
            people_threads=PEOPLE_THREADS,
            LOGIN_HASHES_PER_SECOND="0",  # every login without a device cookie is refused
            LOGIN_TARPIT_MS=str(int(wait * 1000)),
            LOGIN_TARPIT_SLOTS=str(places),
            TRUSTED_PROXY_COUNT="1",
            REDIS_URL="",
        ) as (people, telephony, _),
        ThreadPoolExecutor(max_workers=places + 1) as pool,
    ):
        form = requests.get(f"{people}/accounts/login/", timeout=60)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None
        refusals = [
            pool.submit(_refused_login, people, token.group(1), form.cookies, n)
            for n in range(places + 1)
        ]
        time.sleep(1.0)  # each refused by a working thread, and waiting
        page, call = _request(people + "/"), _incoming_call(telephony)
        waiting = [not refusal.done() for refusal in refusals]
        answers = [refusal.result() for refusal in refusals]

    assert page[0] == 200
    assert call[0] == 200 and "<Gather" in call[1]
    # The page and the call were answered while the refusals waited.
    assert waiting.count(True) == places
    assert [status for status, _ in answers] == [429] * (places + 1)
    # Every waiting place taken: one refusal was answered at once, the others waited.
    assert sorted(seconds >= wait for _, seconds in answers) == [False] + [True] * places


def test_the_two_pools_cannot_share_a_port() -> None:
    with pytest.raises(CommandError, match="port of their own"):
        call_command("serve", "--no-worker", "--port", "9123", "--telephony-port", "9123")


def test_a_telephony_port_that_is_not_a_number_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEPHONY_PORT", "eighty")
    with pytest.raises(CommandError, match="invalid int value: 'eighty'"):
        call_command("serve", "--no-worker")
