"""The log's part of /readyz and /metrics (lib/health.py, lib/metrics.py), registered in
``TlogConfig.ready()``: its signing key loads, its entries do not wait too long for a
signed checkpoint, and whether its latest checkpoint is witnessed, which is reported
but never makes the hotline unready (the log fails open)."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tuidang.lib.health import Result
from tuidang.tlog.models import Cosignature, LogEntry, SignedCheckpoint, TreeHead
from tuidang.tlog.note import Verifier
from tuidang.tlog.selectors import witnessing
from tuidang.tlog.services import signer, verifier_key


def signing_key_check() -> Result:
    key = signer()
    Verifier.parse(verifier_key())  # its public half reads back
    if key.verifier.name != settings.TLOG_ORIGIN:
        return Result(False, "the key is not for this log's origin")
    return Result(True, "loaded")


def checkpoint_check() -> Result:
    """Failing when entries have waited for a signed checkpoint longer than
    TLOG_CHECKPOINT_LAG_SECONDS: the worker that signs has stopped, or cannot sign."""
    head = TreeHead.objects.order_by("pk").first()
    latest = SignedCheckpoint.objects.order_by("-size").values("size", "created_at").first()
    size = head.size if head else 0
    signed = latest["size"] if latest else 0
    if signed >= size:
        return Result(True, f"checkpoint {signed} covers the log")
    # The first entry the latest checkpoint does not hold: by primary key, one row.
    first = LogEntry.objects.filter(index=signed).values_list("created_at", flat=True).first()
    waited = (timezone.now() - first).total_seconds() if first else 0.0
    if waited > settings.TLOG_CHECKPOINT_LAG_SECONDS:
        return Result(False, f"{size - signed} entries unsigned for {waited:.0f} s")
    return Result(True, f"checkpoint {signed}; {size - signed} entries to sign")


def witnessed_check() -> Result:
    seen = witnessing()
    if not seen.witnesses:
        return Result(True, "no witness configured")
    of = f"{seen.quorum} of {len(seen.witnesses)}"
    if seen.latest_is_witnessed:
        return Result(True, f"checkpoint {seen.latest_size} witnessed by {of}")
    return Result(
        False,
        f"checkpoint {seen.latest_size} not yet witnessed by {of} "
        f"(witnessed size {seen.witnessed_size})",
    )


class LogCollector(Collector):
    """The log's size, its latest checkpoint's age, and what its witnesses cosigned."""

    def collect(self) -> Iterator[Metric]:
        head = TreeHead.objects.order_by("pk").first()
        yield GaugeMetricFamily(
            "tuidang_log_size", "Entries in the transparency log.", value=head.size if head else 0
        )
        latest = SignedCheckpoint.objects.order_by("-size").values("size", "created_at").first()
        yield GaugeMetricFamily(
            "tuidang_log_checkpoint_size",
            "Entries in the latest signed checkpoint.",
            value=latest["size"] if latest else 0,
        )
        age = (timezone.now() - latest["created_at"]).total_seconds() if latest else float("nan")
        yield GaugeMetricFamily(
            "tuidang_log_checkpoint_age_seconds",
            "Seconds since the latest checkpoint was signed (NaN: none yet).",
            value=age,
        )
        seen = witnessing()
        yield GaugeMetricFamily(
            "tuidang_log_witnessed_size",
            "Entries in the largest checkpoint cosigned by the quorum of witnesses.",
            value=seen.witnessed_size or 0,
        )
        yield GaugeMetricFamily(
            "tuidang_log_checkpoint_witnessed",
            "1 when the latest checkpoint is cosigned by the quorum of witnesses.",
            value=1 if seen.latest_is_witnessed else 0,
        )
        yield GaugeMetricFamily(
            "tuidang_log_witness_quorum",
            "Cosignatures that make a checkpoint witnessed.",
            value=seen.quorum,
        )
        counts = dict(
            Cosignature.objects.values_list("witness").annotate(count=Count("pk")).order_by()
        )
        cosignatures = CounterMetricFamily(
            "tuidang_log_cosignatures",
            "Cosignatures gathered from each configured witness.",
            labels=["witness"],
        )
        cosigned = GaugeMetricFamily(
            "tuidang_log_witness_cosigned_size",
            "Entries in the largest checkpoint each configured witness cosigned.",
            labels=["witness"],
        )
        for witness in seen.witnesses:
            cosignatures.add_metric([witness.name], counts.get(witness.name, 0))
            cosigned.add_metric([witness.name], witness.size or 0)
        yield cosignatures
        yield cosigned
