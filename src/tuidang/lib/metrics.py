"""`/metrics` in Prometheus's text format, behind a bearer token (``METRICS_TOKEN``; the
path answers 404 while it is not set).

Two kinds of metric. States (callers waiting, volunteers by presence, the queue of
tasks, the log) are read from the database when Prometheus scrapes, by the collectors the
domains register from ``AppConfig.ready()`` (``metrics_collector_register``): a
``prometheus_client.registry.Collector`` whose ``collect()`` yields metric families,
from kept counts or indexed reads, never a scan of the calls. A number read from the
database is the same whichever process answers.

Events (webhook latencies, calls ended by outcome, screening decisions, failed logins)
are counted where they happen, in the process that handles them, by the histograms and
counters made here (``webhook_observe``, ``metrics_counter``). granian runs several
processes, so `tuidang serve` gives them, and the worker it starts, one directory for
prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, emptied at start):
each process writes its counts there and a scrape of any of them adds them all up. A
process outside it (a `tuidang worker` started apart) counts for itself only.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

_collectors: dict[str, Collector] = {}


def metrics_collector_register(name: str, collector: Collector) -> None:
    """Add ``collector`` to /metrics under ``name``; a name again replaces it."""
    _collectors[name] = collector


# The events this process counted: shown as they are, or through the shared directory.
_events = CollectorRegistry(auto_describe=True)

# Webhooks answer in milliseconds; a provider gives up after 15 seconds.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
_webhook_seconds = Histogram(
    "tuidang_webhook_duration_seconds",
    "Time to answer a provider's webhook, by endpoint (its URL name).",
    ["endpoint"],
    buckets=WEBHOOK_BUCKETS,
    registry=_events,
)


def webhook_observe(*, endpoint: str, seconds: float) -> None:
    """One webhook answered. ``endpoint`` is the URL's name, never a path or an id."""
    _webhook_seconds.labels(endpoint=endpoint).observe(seconds)


def metrics_counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter of events, made once at import by the module that counts them; its
    label values must come from a closed list (a state, a policy), never from a caller."""
    return Counter(name, documentation, list(labels), registry=_events)


class _EventsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from _events.collect()


def _shared_directory() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    for collector in _collectors.values():
        registry.register(collector)
    if directory := _shared_directory():
        # It registers itself; prometheus-client leaves it untyped.
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_EventsCollector())
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
