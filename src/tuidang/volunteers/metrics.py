"""Volunteers by presence, for /metrics (lib/metrics.py): one grouped read of a small
table, by its presence index."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tuidang.volunteers.models import Presence, Volunteer


class PresenceCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "tuidang_volunteers", "Volunteers, by presence.", labels=["presence"]
        )
        counts = dict(Volunteer.objects.values_list("presence").annotate(n=Count("pk")).order_by())
        for presence in Presence.values:
            family.add_metric([presence], counts.get(presence, 0))
        yield family
