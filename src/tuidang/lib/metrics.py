"""`/metrics` in Prometheus's text format, behind a bearer token (``METRICS_TOKEN``; the
path answers 404 while it is not set).

Every value is read from the database when Prometheus scrapes, by the collectors the
domains register from ``AppConfig.ready()`` (``metrics_collector_register``): granian
runs several processes, and a number read from the database is the same whichever of
them answers, with no shared files to keep (prometheus-client's multiprocess mode).
A domain adds its metrics by registering one more collector: a
``prometheus_client.registry.Collector`` whose ``collect()`` yields metric families.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

_collectors: dict[str, Collector] = {}


def metrics_collector_register(name: str, collector: Collector) -> None:
    """Add ``collector`` to /metrics under ``name``; a name again replaces it."""
    _collectors[name] = collector


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    for collector in _collectors.values():
        registry.register(collector)
    return generate_latest(registry)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are not enabled")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse(b"A bearer token is needed.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain"
        return response
    try:
        body = metrics_text()
    except Exception:
        logger.exception("The metrics could not be read")
        return HttpResponse(
            b"The metrics could not be read.\n", status=503, content_type="text/plain"
        )
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
