"""A refused login waits on a thread kept for waiting; nothing else waits, and the threads
that serve pages are never the ones waiting (accounts/tarpit.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.test import RequestFactory
from pytest_django.fixtures import Settings

from tuidang.accounts.tarpit import LoginTarpit, login_tarpit

LOGIN = "/accounts/login/"


class Application:
    """A WSGI application answering each path with the status it is given; while
    ``hold`` is set for a path, it keeps the request until ``release`` is set."""

    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses
        self.inside = 0
        self.most_inside = 0
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.hold: set[str] = set()
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.entered.release()
        if environ["PATH_INFO"] in self.hold:
            assert self.release.wait(10)
        with self._count:
            self.inside -= 1
        start_response(self.statuses[environ["PATH_INFO"]], [("Content-Type", "text/plain")])
        return [b"answer"]


class Waits:
    """The tarpit's sleep: records each wait and lasts until ``over`` is set."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.over = threading.Event()
        self.count = 0

    def __call__(self, seconds: float) -> None:
        self.count += 1
        self.started.release()
        assert self.over.wait(10)


def _environ(method: str, path: str) -> dict[str, Any]:
    request = RequestFactory().generic(method, path)
    return dict(request.environ)


def _call(gate: LoginTarpit, method: str, path: str) -> str:
    answered: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        answered.append(status)

    body = gate(_environ(method, path), start_response)
    assert b"".join(body) == b"answer"
    return answered[0]


def _gate(app: Application, waits: Waits, *, working: int = 2, slots: int = 2) -> LoginTarpit:
    return LoginTarpit(
        app, working=working, slots=slots, seconds=1.0, login_path=LOGIN, sleep=waits
    )


def test_a_refused_login_is_answered_after_the_wait_and_others_at_once() -> None:
    app = Application({LOGIN: "429 Too Many Requests", "/": "200 OK"})
    waits = Waits()
    gate = _gate(app, waits)
    with ThreadPoolExecutor(max_workers=1) as pool:
        refused = pool.submit(_call, gate, "POST", LOGIN)
        assert waits.started.acquire(timeout=10)
        assert not refused.done()  # told nothing while it waits
        waits.over.set()
        assert refused.result(timeout=10).startswith("429")
    # The form, a login that went through, and any other page: no wait.
    app.statuses[LOGIN] = "200 OK"
    assert _call(gate, "GET", LOGIN) == "200 OK"
    assert _call(gate, "POST", LOGIN) == "200 OK"
    assert _call(gate, "POST", "/") == "200 OK"
    assert waits.count == 1


def test_when_every_waiting_place_is_taken_the_next_refusal_is_answered_at_once() -> None:
    app = Application({LOGIN: "429 Too Many Requests"})
    waits = Waits()
    gate = _gate(app, waits, slots=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        waiting = [pool.submit(_call, gate, "POST", LOGIN) for _ in range(2)]
        assert waits.started.acquire(timeout=10) and waits.started.acquire(timeout=10)
        assert _call(gate, "POST", LOGIN).startswith("429")  # no place: at once
        assert not any(one.done() for one in waiting)
        waits.over.set()
        assert all(one.result(timeout=10).startswith("429") for one in waiting)
    assert waits.count == 2


def test_a_refusal_waits_without_its_working_thread() -> None:
    """With one working thread, a page is served while a refused login waits."""
    app = Application({LOGIN: "429 Too Many Requests", "/": "200 OK"})
    waits = Waits()
    gate = _gate(app, waits, working=1, slots=1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        refused = pool.submit(_call, gate, "POST", LOGIN)
        assert waits.started.acquire(timeout=10)
        assert _call(gate, "GET", "/") == "200 OK"
        waits.over.set()
        refused.result(timeout=10)


def test_no_more_than_the_working_threads_are_in_the_application_at_once() -> None:
    app = Application({"/slow/": "200 OK"})
    app.hold.add("/slow/")
    gate = _gate(app, Waits(), working=2)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = [pool.submit(_call, gate, "GET", "/slow/") for _ in range(4)]
        assert app.entered.acquire(timeout=10) and app.entered.acquire(timeout=10)
        # The other two wait at the gate, not in the application.
        assert not app.entered.acquire(timeout=0.3)
        app.release.set()
        assert [one.result(timeout=10) for one in answers] == ["200 OK"] * 4
    assert app.most_inside == 2


def test_only_a_pool_that_keeps_threads_for_waiting_has_the_gate(settings: Settings) -> None:
    def application(environ: Any, start_response: Any) -> list[bytes]:
        return []

    settings.SERVE_WORKING_THREADS = 0
    assert login_tarpit(application) is application
    settings.SERVE_WORKING_THREADS = 2
    gate = login_tarpit(application)
    assert isinstance(gate, LoginTarpit)
    assert gate.login_path == LOGIN
    assert gate.seconds == pytest.approx(settings.LOGIN_TARPIT_MS / 1000)
