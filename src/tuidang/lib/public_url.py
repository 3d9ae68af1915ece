"""Absolute URLs for the outside world (the telephony provider, links in messages)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def public_url(name: str, *, base: str = "", **kwargs: object) -> str:
    """The absolute URL of the route ``name``: under ``base``, else PUBLIC_BASE_URL."""
    path = reverse(name, kwargs=kwargs or None)
    return (base or settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000") + path
