from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def public_url(name: str, *, base: str = "", **kwargs: object) -> str:
    """The absolute URL the provider should call for the route ``name``."""
    path = reverse(name, kwargs=kwargs or None)
    return (base or settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000") + path
