"""Deployment checks of our own, run by `tuidang check --deploy`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_tls_is_known(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The server speaks plain HTTP to a proxy that terminates TLS; only the proxy's
    X-Forwarded-Proto tells it which requests came over TLS. Without that header,
    redirecting to HTTPS sends every request, webhooks included, back to itself forever."""
    if settings.SECURE_SSL_REDIRECT and settings.SECURE_PROXY_SSL_HEADER is None:
        return [
            Error(
                "SECURE_SSL_REDIRECT is on but no request can look secure: every request "
                "would be redirected to itself.",
                hint="Set BEHIND_TLS_PROXY=true, with a proxy that sends X-Forwarded-Proto.",
                id="tuidang.E001",
            )
        ]
    if settings.SERVED_OVER_TLS and settings.SECURE_PROXY_SSL_HEADER is None:
        return [
            Warning(
                "PUBLIC_BASE_URL is https:// but BEHIND_TLS_PROXY is not set, so plain HTTP "
                "is not redirected to HTTPS.",
                hint="Set BEHIND_TLS_PROXY=true, with a proxy that sends X-Forwarded-Proto.",
                id="tuidang.W001",
            )
        ]
    return []
