"""A refused login waits before it is told so, on threads kept for waiting.

The budget of password hashes (accounts/budget.py) keeps a flood of failed logins from
hashing, but a refusal still costs a request's worth of processor time, and a flood's
clients send their next guess the moment the last is answered: eight of them kept both
cores of a small server busy refusing 250 logins a second, and a webhook that had to
take a core from that work answered twice as slowly at the tail, whatever the pools'
priorities (docs/benchmarks.md, "A failed-login flood beside the night"). Holding each
refusal for ``LOGIN_TARPIT_MS`` before answering paces such a client to one guess per
wait, at no cost: a waiting thread sleeps.

The waiting is done on threads of their own. The pool for people runs
``LOGIN_TARPIT_SLOTS`` threads beside its working ones (lib's serve command), and this
gate lets only the working ones into the application at once, as before: more threads in
the application would only queue on the interpreter's lock. A refusal gives its working
thread back before it waits; when every waiting place is taken, the next refusal is
answered at once. So a flood can take the waiting places, never the threads that serve
pages and the desk, and a volunteer with the account's device cookie, who is never
refused over the budget, never waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Answered to a login refused for now: over the budget, or locked out by django-axes.
REFUSED = "429"


class LoginTarpit:
    """The WSGI application, at most ``working`` requests in it at once, and each login
    it refuses held ``seconds`` (at most ``slots`` held at once) before it is answered."""

    def __init__(
        self,
        application: WSGIApplication,
        *,
        working: int,
        slots: int,
        seconds: float,
        login_path: str,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.application = application
        self.working = threading.BoundedSemaphore(working)
        self.slots = threading.BoundedSemaphore(slots) if slots else None
        self.seconds = seconds
        self.login_path = login_path
        self.sleep = sleep

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not (
            self.slots
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO") == self.login_path
        ):
            with self.working:
                return self.application(environ, start_response)

        answer: list[Any] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = [status, headers, exc_info]
            return _no_write

        with self.working:
            body = self.application(environ, keep)
        if answer[0].startswith(REFUSED) and self.slots.acquire(blocking=False):
            try:
                self.sleep(self.seconds)
            finally:
                self.slots.release()
        start_response(*answer)
        return body


def _no_write(data: bytes) -> None:
    # Django answers with the body it returns, never through start_response's write().
    raise NotImplementedError("write() is not offered before the answer is sent")


def login_tarpit(application: WSGIApplication) -> WSGIApplication:
    """``application`` behind the gate, where the server keeps threads for waiting
    (``SERVE_WORKING_THREADS``, set by lib's serve command); else ``application``."""
    if not settings.SERVE_WORKING_THREADS:
        return application
    return LoginTarpit(
        application,
        working=settings.SERVE_WORKING_THREADS,
        slots=settings.LOGIN_TARPIT_SLOTS,
        seconds=settings.LOGIN_TARPIT_MS / 1000,
        login_path=reverse("login"),
    )
