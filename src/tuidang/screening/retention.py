"""What screening forgets, and when (registered in screening/apps.py; the job that runs
the rules is jobs/retention.py): with the calls' own period, caller keys leave the
scores, the expired blocks and the events of that age. A score's row stays: its flag and
conversion dates are counted in the night report."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction

from tuidang.jobs.retention import PurgeReport, RetentionRule, batches
from tuidang.screening.models import Block, CallerScore, ScreeningEvent, WebHit

PURGED_KEY_PREFIX = "purged-"


def purge_caller_keys(report: PurgeReport, before: datetime, batch_size: int) -> None:
    scores = (
        CallerScore.objects.filter(updated_at__lt=before)
        .exclude(caller_key__startswith=PURGED_KEY_PREFIX)
        .exclude(block_expires_at__gte=report.now)
    )
    blocks = Block.objects.filter(expires_at__lt=before).exclude(caller_key="")
    events = ScreeningEvent.objects.filter(at__lt=before).exclude(caller_key="")
    if report.dry_run:
        report.add("caller scores", scores.count())
        report.add("blocks", blocks.count())
        report.add("screening events", events.count())
        return
    for ids in batches(scores, batch_size):
        with transaction.atomic():
            # The row stays: its flag and conversion dates are counted in the night report.
            for score in CallerScore.objects.select_for_update().filter(pk__in=ids):
                score.caller_key = f"{PURGED_KEY_PREFIX}{secrets.token_hex(16)}"
                score.score = 0
                score.save(update_fields=["caller_key", "score"])
            report.add("caller scores", len(ids))
    for ids in batches(blocks, batch_size):
        report.add("blocks", Block.objects.filter(pk__in=ids).update(caller_key=""))
    for ids in batches(events, batch_size):
        report.add(
            "screening events", ScreeningEvent.objects.filter(pk__in=ids).update(caller_key="")
        )


CALLER_KEYS = RetentionRule(
    period="calls",
    days_setting="RETENTION_CALL_DAYS",
    kinds=("caller scores", "blocks", "screening events"),
    purge=purge_caller_keys,
)


def purge_web_hits(report: PurgeReport, before: datetime, batch_size: int) -> None:
    """The declaration form's rate counts by keyed address (screening/web.py), which each
    count trims to the last hour already: here, those left when the posts stopped."""
    due = WebHit.objects.filter(window__lt=int(before.timestamp()))
    if report.dry_run:
        report.add("rate counts", due.count())
        return
    for ids in batches(due, batch_size):
        deleted, _ = WebHit.objects.filter(pk__in=ids).delete()
        report.add("rate counts", deleted)


WEB_HITS = RetentionRule(
    period="online forms",
    days_setting="RETENTION_ONLINE_FORM_DAYS",
    kinds=("rate counts",),
    purge=purge_web_hits,
)
