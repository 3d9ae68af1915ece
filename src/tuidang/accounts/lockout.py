"""Lockout after failed logins (django-axes), built so that it cannot be turned against
the volunteers.

Failures count per (username, address) and, with a higher threshold, per address; never
per username alone. Someone guessing passwords for a volunteer's name locks out only
themselves, from their own address, while the volunteer logs in from theirs; an address
that tries many names is locked once it reaches the higher threshold.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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


class PairAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler with a second, higher threshold per address.

    ``AXES_LOCKOUT_PARAMETERS`` keeps the (username, address) pair; this adds the count of
    every failure from the address, whatever the username, against
    ``LOGIN_ADDRESS_FAILURE_LIMIT``. An address over that limit counts as having reached
    the pair's limit for every username.
    """

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        pair_failures: int = super().get_failures(request, credentials)
        if self._address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            limit: int = get_failure_limit(request, credentials)
            return max(pair_failures, limit)
        return pair_failures

    def _address_failures(self, request: Any) -> int:
        address = getattr(request, "axes_ip_address", None)
        if address is None:
            return 0
        attempts = AccessAttempt.objects.filter(ip_address=address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        total: int | None = attempts.aggregate(total=Sum("failures_since_start"))["total"]
        return total or 0


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
