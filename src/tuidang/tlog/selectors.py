"""Reads about the log that the public site shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max

from tuidang.tlog.models import Cosignature, SignedCheckpoint
from tuidang.tlog.witnessing import configured_witnesses, witness_quorum


@dataclass(frozen=True)
class WitnessView:
    name: str
    key: str
    size: int | None  # the largest of our checkpoints it cosigned
    signed_at: datetime | None  # when it cosigned the latest checkpoint it cosigned


@dataclass(frozen=True)
class Witnessing:
    latest_size: int | None  # the latest signed checkpoint's
    witnessed_size: int | None  # the largest checkpoint cosigned by a quorum
    quorum: int
    witnesses: list[WitnessView]
    latest_cosigners: list[str]  # who cosigned the latest checkpoint

    @property
    def latest_is_witnessed(self) -> bool:
        return bool(self.witnesses) and (
            self.latest_size is not None and self.witnessed_size == self.latest_size
        )


def witnessing() -> Witnessing:
    """Which of the log's checkpoints its witnesses cosigned."""
    witnesses = configured_witnesses()
    names = [witness.name for witness in witnesses]
    quorum = witness_quorum(witnesses)
    latest = SignedCheckpoint.objects.order_by("-size").first()
    cosignatures = Cosignature.objects.filter(witness__in=names)
    witnessed = (
        cosignatures.values("checkpoint__size")
        .annotate(count=Count("witness"))
        .filter(count__gte=max(quorum, 1))
        .aggregate(size=Max("checkpoint__size"))["size"]
    )
    views = []
    for witness in witnesses:  # a handful of witnesses: one query each
        last = (
            cosignatures.filter(witness=witness.name)
            .order_by("-checkpoint__size")
            .values_list("checkpoint__size", "signed_at")
            .first()
        )
        size, signed_at = last if last else (None, None)
        views.append(WitnessView(witness.name, str(witness.key), size, signed_at))
    latest_size = latest.size if latest else None
    return Witnessing(
        latest_size=latest_size,
        witnessed_size=witnessed,
        quorum=quorum,
        witnesses=views,
        latest_cosigners=[view.name for view in views if view.size == latest_size],
    )
