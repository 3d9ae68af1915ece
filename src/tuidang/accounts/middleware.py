"""Two rules every signed-in request passes: a second factor where one is required, and a
session that ends after too long, or after too long without the person doing anything;
and the fleet's budget of password hashing that every login passes first."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from tuidang.accounts.budget import (
    DEVICE_COOKIE,
    device_cookie_admits,
    device_cookie_value,
    login_hash_take,
)
from tuidang.accounts.policy import has_second_factor, second_factor_required
from tuidang.volunteers.models import Presence, Volunteer

# What someone who must set up a second factor may still reach: the setup itself (and
# the password check allauth asks for before it), logging out and the language switch.
SETUP_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "mfa_generate_recovery_codes",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
        "account_reauthenticate",
        "mfa_reauthenticate",
        "logout",
        "account_logout",
        "set_language",
        "language",
    }
)

# Pages poll these on their own every few seconds; a poll is not the person at the desk.
POLL_URL_NAMES = frozenset(
    {"desk:live", "desk:team-live", "simulator:phone", "simulator:call-panel"}
)

STARTED_KEY = "accounts.started"
LAST_SEEN_KEY = "accounts.last_seen"
# Writing the session on every request costs a database write each time; activity is
# recorded at most once a minute, which an idle timeout of minutes does not notice.
LAST_SEEN_RESOLUTION = 60


class SecondFactorRequiredMiddleware:
    """Send someone who must have a second factor and has none to set one up, and
    refuse them every other page until they have."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SETUP_URL_NAMES:
            return None
        if not second_factor_required(user) or has_second_factor(user):
            return None
        messages.warning(
            request,
            _("Set up a second factor (an authenticator app or a security key) to continue."),
        )
        return HttpResponseRedirect(resolve_url("mfa_index"))


class SessionExpiryMiddleware:
    """End a login SESSION_COOKIE_AGE seconds after it began, and after
    SESSION_IDLE_TIMEOUT seconds without a request from the person.

    Django's own expiry moves forward whenever the session is written, so on its own it
    never ends a session in use; the start of the login is kept in the session instead.
    The desk's polling keeps a volunteer signed in while they are on duty (available, on
    a call, in wrap-up), never while they are away.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            expired = self._expired_response(request)
            if expired is not None:
                return expired
        return self.get_response(request)

    def _expired_response(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        now = int(time.time())
        started = session.get(STARTED_KEY)
        last_seen = session.get(LAST_SEEN_KEY)
        if not isinstance(started, int) or not isinstance(last_seen, int):
            session[STARTED_KEY] = session[LAST_SEEN_KEY] = now
            return None
        too_old = now - started >= settings.SESSION_COOKIE_AGE
        idle = now - last_seen >= settings.SESSION_IDLE_TIMEOUT
        if too_old or idle:
            logout(request)
            messages.info(request, _("Your session has ended. Please log in again."))
            return self._to_login(request)
        if now - last_seen >= LAST_SEEN_RESOLUTION and self._is_activity(request):
            session[LAST_SEEN_KEY] = now
        return None

    def _is_activity(self, request: HttpRequest) -> bool:
        try:
            view_name = resolve(request.path_info).view_name
        except Resolver404:
            return True
        if view_name not in POLL_URL_NAMES:
            return True
        presence = (
            Volunteer.objects.filter(user_id=request.user.pk or 0)
            .values_list("presence", flat=True)
            .first()
        )
        return presence is not None and presence != Presence.AWAY

    def _to_login(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("HX-Request"):
            # An htmx poll would swap the login page into a corner of the desk; tell
            # htmx to load it as the whole page instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
            return response
        next_url = request.get_full_path() if request.method in ("GET", "HEAD") else None
        if next_url is None:
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        return redirect_to_login(next_url)


# How long a login refused over the budget is told to wait: the budget is per second.
RETRY_AFTER_SECONDS = 2


class LoginBudgetMiddleware:
    """Refuse a login over the fleet's budget of password hashes before anything hashes.

    A login that django-axes has locked out goes on to axes' own 429 (it hashes nothing
    either); one from a browser with the account's device cookie goes on without taking
    from the budget, still counted per (username, address) by axes. Any other takes one
    hash from the budget (accounts/budget.py), or is answered 429 with the login form
    again, its username kept. A full login, whether it ends at the password or at the
    second factor, gives the browser the account's device cookie.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not request.path.startswith(_accounts_folder()):
            return self.get_response(request)
        was_in = request.user.is_authenticated
        response = self.get_response(request)
        if not was_in and request.user.is_authenticated:
            response.set_cookie(
                DEVICE_COOKIE,
                device_cookie_value(request.user.get_username()),
                max_age=settings.LOGIN_DEVICE_COOKIE_DAYS * 24 * 3600,
                path=_accounts_folder(),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        # After the CSRF check (above in MIDDLEWARE): a forged post takes nothing.
        if request.method != "POST" or request.path != reverse("login"):
            return None
        return self._over_budget(request)

    def _over_budget(self, request: HttpRequest) -> HttpResponse | None:
        from axes.handlers.proxy import AxesProxyHandler

        username = request.POST.get("login", "")
        if not isinstance(username, str) or not username:
            return None  # the form answers a missing username without hashing
        if not AxesProxyHandler.is_allowed(request, {"username": username}):
            return None  # locked out: axes answers, without hashing
        if device_cookie_admits(request.COOKIES.get(DEVICE_COOKIE), username):
            return None
        if login_hash_take():
            return None
        next_url = request.POST.get("next", "")
        response = render(
            request,
            "account/login_busy.html",
            {"login": username, "next": next_url, "retry_after": RETRY_AFTER_SECONDS},
            status=429,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _accounts_folder() -> str:
    """The folder of the account pages, where the device cookie is sent."""
    return reverse("login").rsplit("/", 2)[0] + "/"
