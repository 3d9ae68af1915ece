"""The calls domain's part of /metrics (lib/metrics.py), registered in ``CallsConfig.ready()``.

Who waits is read at each scrape from the routing index (waiting calls by state and
language: as many rows as callers on hold, never the history); how calls ended and
what screening decided are counted as they happen.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tuidang.calls.models import Call
from tuidang.lib.languages import Language
from tuidang.lib.metrics import metrics_counter

CALLS_ENDED = metrics_counter(
    "tuidang_calls_ended", "Calls ended, by the state they ended in.", ["outcome"]
)
SCREENING_DECISIONS = metrics_counter(
    "tuidang_screening_decisions", "Arriving calls, by the screening policy applied.", ["policy"]
)


def count_call_ended(state: str) -> None:
    """Count a call that ended in ``state`` once its transaction has committed."""
    transaction.on_commit(lambda: CALLS_ENDED.labels(outcome=state).inc())


def count_screening_decision(policy: str) -> None:
    SCREENING_DECISIONS.labels(policy=policy).inc()


class CallsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "tuidang_callers_waiting",
            "Callers waiting for a volunteer, by language.",
            labels=["language"],
        )
        longest = GaugeMetricFamily(
            "tuidang_callers_longest_wait_seconds",
            "How long the caller waiting longest has waited, by language.",
            labels=["language"],
        )
        now = timezone.now()
        rows = (
            Call.objects.filter(state__in=[Call.State.QUEUED, Call.State.OFFERED])
            .values("language")
            .annotate(callers=Count("pk"), since=Min("queued_at"))
            .order_by("language")
        )
        found = {row["language"] or "none": row for row in rows}
        # Every queue's language, at 0 when no one waits: an alert reads a series, not
        # its absence.
        for language in sorted(set(Language.values) | set(found)):
            row = found.get(language)
            waiting.add_metric([language], row["callers"] if row else 0)
            since = row["since"] if row else None
            longest.add_metric([language], (now - since).total_seconds() if since else 0.0)
        yield waiting
        yield longest
