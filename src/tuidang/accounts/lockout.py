"""Lockout after failed logins (django-axes), built so that it cannot be turned against
the volunteers.

Failures count per (username, address) and, with a higher threshold, per address; never
per username alone. Someone guessing passwords for a volunteer's name locks out only
themselves, from their own address, while the volunteer logs in from theirs; an address
that tries many names is locked once it reaches the higher threshold.

The counts live in the cache, never in the database: Redis, which every app server of a
fleet shares, or diskcache's files beside SQLite, which every process of the one machine
shares; both keep them across a restart of the hotline, and each count goes by itself
when its cool-off has passed. On SQLite a failure written to the database would queue
with the webhooks' writes behind the pool for people, which runs at a lower priority and
can be held off a core while it holds the writers' lock: a failed-login flood that the
budget lets hash once a second raised the callers' p99 by a third that way
(docs/benchmarks.md, "A failed-login flood beside the night").
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache_timeout, get_client_username, get_cool_off, get_failure_limit
from axes.signals import user_locked_out
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac

_ADDRESS_SALT = "tuidang.accounts.lockout.address"


def client_address(request: HttpRequest) -> str | None:
    """The client's address as seen by the last proxy we trust.

    Behind ``TRUSTED_PROXY_COUNT`` proxies, each of which appends the address it received
    the request from to ``X-Forwarded-For``, the client is the entry that many places from
    the right: the entries to its left were sent by the client and can say anything.
    Without trusted proxies only the connection's own address counts.
    """
    address: str | None = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        entries = [entry.strip() for entry in forwarded.split(",")]
        if len(entries) >= proxies:
            address = entries[-proxies]
    return _normalised(address)


def _normalised(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class PairAndAddressHandler(AxesCacheHandler):
    """axes' cache handler with a second, higher threshold per address.

    ``AXES_LOCKOUT_PARAMETERS`` keeps the (username, address) pair; this adds a count of
    every failure from the address, whatever the username, against
    ``LOGIN_ADDRESS_FAILURE_LIMIT``. An address over that limit counts as having reached
    the pair's limit for every username. A success clears its pair's count, not the
    address's: logging in to one's own account does not buy more guesses at others.
    """

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        pair_failures: int = super().get_failures(request, credentials)
        key = address_key(getattr(request, "axes_ip_address", None))
        if key and self.cache.get(key, 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            limit: int = get_failure_limit(request, credentials)
            return max(pair_failures, limit)
        return pair_failures

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # Counted whenever axes counted the pair (it says so on the request).
        key = address_key(getattr(request, "axes_ip_address", None))
        if not key or not getattr(request, "axes_failures_since_start", None):
            return
        timeout = get_cache_timeout(request)
        try:
            if not self.cache.add(key, 1, timeout=timeout):
                self.cache.incr(key)
                self.cache.touch(key, timeout=timeout)
        except ValueError:  # gone between the two: its cool-off had just passed
            self.cache.add(key, 1, timeout=timeout)
        # axes locks on the pair's count; an address over its own limit locks as well.
        if not request.axes_locked_out and self.is_locked(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        """Unlock an address (``tuidang axes_reset_ip``) or a pair
        (``tuidang axes_reset_ip_username``)."""
        count: int = super().reset_attempts(
            ip_address=ip_address, username=username, ip_or_username=ip_or_username
        )
        key = address_key(ip_address)
        if key and username is None and self.cache.delete(key):
            count += 1
        return count


def address_key(address: str | None) -> str | None:
    """The cache key of an address's failures: a keyed digest, so the cache never holds
    the addresses volunteers (or anyone) log in from."""
    if not address:
        return None
    return "tuidang-login-address-" + salted_hmac(_ADDRESS_SALT, address).hexdigest()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """The page a locked-out login gets: 429, and how long until it may try again."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    return render(
        request,
        "account/locked_out.html",
        {"cooloff_minutes": minutes},
        status=429,  # Too Many Requests, as axes answers
    )
