"""Retention: what is kept, for how long, and the job that forgets the rest.

Each kind of data has its own period (settings ``RETENTION_*_DAYS``). Each domain says
what it forgets, and after which period, in a ``RetentionRule`` that it registers in its
``AppConfig.ready()``: calls (recordings, notes, call metadata: calls/retention.py),
screening (caller keys in scores, blocks and events: screening/retention.py), literature
(postal addresses: literature/retention.py).

Declarations, the rollups, daily totals and the transparency log are the registry and are
never touched: the public total and every statistic are the same after a purge.

Each batch runs in its own short transaction, so the hotline keeps running during a purge,
and ``now`` is a parameter, so tests run it at any simulated time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    now: datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(retention_kinds(), 0))

    def add(self, kind: str, count: int) -> None:
        self.counts[kind] += count

    def summary(self) -> str:
        """What was (or would be) purged."""
        done = ", ".join(f"{kind}: {count}" for kind, count in self.counts.items() if count)
        return done or "nothing was due"


Purge = Callable[[PurgeReport, datetime, int], None]
KeptNotice = Callable[[int, bool], str]


@dataclass(frozen=True)
class RetentionRule:
    """What a domain forgets once it is past one retention period.

    ``purge(report, before, batch_size)`` deletes or anonymises what is older than
    ``before`` (only counts it when ``report.dry_run``), in batches, adding to the
    report's ``kinds``. Kinds in ``kept`` count what is past its time but kept; the
    function says what `tuidang purge` reports of them, given the count and whether it
    is a dry run."""

    period: str  # the period's name in `tuidang purge` ("notes")
    days_setting: str  # the setting that holds its length in days
    kinds: tuple[str, ...]
    purge: Purge
    kept: Mapping[str, KeptNotice] = field(default_factory=dict)


_rules: list[RetentionRule] = []


def retention_rule_register(rule: RetentionRule) -> None:
    """Add ``rule`` to the retention run (from ``AppConfig.ready()``). Registering a rule
    of the same period and kinds again replaces it."""
    for index, known in enumerate(_rules):
        if (known.period, known.kinds) == (rule.period, rule.kinds):
            _rules[index] = rule
            return
        if known.period == rule.period and known.days_setting != rule.days_setting:
            raise ValueError(
                f"the period {rule.period!r} is {known.days_setting} already, "
                f"not {rule.days_setting}"
            )
        if clash := set(known.kinds) & set(rule.kinds):
            raise ValueError(f"{', '.join(sorted(clash))} are counted by another rule already")
    _rules.append(rule)


def retention_rules() -> tuple[RetentionRule, ...]:
    return tuple(_rules)


def retention_kinds() -> list[str]:
    """What the purge counts, in the order it reports them."""
    return [kind for rule in _rules for kind in rule.kinds]


def retention_kept() -> dict[str, KeptNotice]:
    """The kinds counted as kept past their time, and what `tuidang purge` says of them."""
    return {kind: notice for rule in _rules for kind, notice in rule.kept.items()}


def cutoffs(now: datetime) -> dict[str, datetime]:
    """The moment before which each kind of data is past its time."""
    periods = {rule.period: getattr(settings, rule.days_setting) for rule in _rules}
    for kind, days in periods.items():
        if days < 1:
            raise ValueError(f"the retention of {kind} must be at least one day, not {days}")
    return {kind: now - timedelta(days=days) for kind, days in periods.items()}


def batches(queryset: QuerySet[Any], batch_size: int) -> Iterator[list[int]]:
    """Primary keys of ``queryset`` in batches; each batch is read afresh, so rows already
    handled (which no longer match) are never seen twice."""
    last = 0
    while True:
        ids = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        last = ids[-1]
        yield ids


def retention_purge(
    *, now: datetime | None = None, dry_run: bool = False, batch_size: int = 500
) -> PurgeReport:
    """Delete or anonymise what is past its retention period at ``now``."""
    now = now or timezone.now()
    report = PurgeReport(now=now, dry_run=dry_run)
    before = cutoffs(now)
    for rule in _rules:
        rule.purge(report, before[rule.period], batch_size)
    if not dry_run:
        logger.info("Retention purge at %s: %s", now.isoformat(), report.summary())
    return report
