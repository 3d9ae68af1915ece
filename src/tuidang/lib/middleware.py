"""HTTP middleware of our own (the headers Django and django-csp do not set)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotFound
from django.utils.cache import add_never_cache_headers


class NoStoreForPeopleMiddleware:
    """No cache, shared or private, keeps a page shown to a person with an account.

    A volunteer's desk shows case codes, aliases and notes; a browser's disk cache or a
    proxy on a shared machine must not keep a copy after they log out. Every response to
    an authenticated user, every response that sets or clears the session cookie
    (logging in and out), and every page that carries a CSRF token (the login form and
    any other form: such a page is made for one visitor anyway) is sent with
    ``Cache-Control: no-store``. Anonymous public pages without a form and static files
    stay cacheable.

    It sits above the session, CSRF and authentication middleware, so it sees the
    response as they left it: a page that rendered ``{% csrf_token %}`` has the CSRF
    cookie set on it (Django renews it whenever a token is used).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        cookies = response.cookies
        personal = settings.SESSION_COOKIE_NAME in cookies or settings.CSRF_COOKIE_NAME in cookies
        if authenticated or personal:
            add_never_cache_headers(response)
        return response


# A load balancer polls every pool (lib/health.py).
PROBES = frozenset({"/healthz", "/readyz"})


class OnlyThesePathsMiddleware:
    """In a pool that serves some paths only (``SERVE_ONLY_PATHS``), 404 for every other.

    `tuidang serve` runs the telephony webhooks in a pool of their own; if its port were
    reached for a login or a page, that request would take a thread meant for a caller.
    Without the setting (every other process) it answers nothing itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.only = tuple(settings.SERVE_ONLY_PATHS)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if self.only and not request.path.startswith(self.only) and request.path not in PROBES:
            return HttpResponseNotFound(b"Not found\n", content_type="text/plain")
        return self.get_response(request)


class ContentLengthMiddleware:
    """Every answer with a body in hand says how long it is, so the server sends it whole.

    Without a ``Content-Length``, granian sends the body chunked, its last chunk in a
    write of its own (seen with strace). Under Nagle's algorithm a second small write
    waits for the client to acknowledge the first, which a client waiting for the end of
    the answer may delay (Linux: 40 ms or more). Django's CommonMiddleware sets the length
    too, but the telephony pool does not run it (``TELEPHONY_MIDDLEWARE``). Outermost, so
    that answers made by other middleware are counted too. An answer that has no body by
    definition (1xx, 204 such as a status callback's, 304) must not say a length
    (RFC 9110, 8.6).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        bodiless = response.status_code < 200 or response.status_code in (204, 304)
        if not (response.streaming or bodiless or "Content-Length" in response):
            response["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        return response
