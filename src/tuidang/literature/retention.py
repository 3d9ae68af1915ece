"""What literature forgets, and when (registered in literature/apps.py; the job that runs
the rules is jobs/retention.py): postal addresses are emptied on book requests past
their time (those sent were emptied when sent already)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from tuidang.jobs.retention import PurgeReport, RetentionRule, batches
from tuidang.literature.models import BookRequest


def purge_addresses(report: PurgeReport, before: datetime, batch_size: int) -> None:
    due = BookRequest.objects.filter(created_at__lt=before).exclude(address_sealed=b"")
    if report.dry_run:
        report.add("postal addresses", due.count())
        return
    for ids in batches(due, batch_size):
        with transaction.atomic():
            report.add(
                "postal addresses",
                BookRequest.objects.filter(pk__in=ids)
                .exclude(address_sealed=b"")
                .update(address_sealed=b""),
            )


ADDRESSES = RetentionRule(
    period="addresses",
    days_setting="RETENTION_ADDRESS_DAYS",
    kinds=("postal addresses",),
    purge=purge_addresses,
)
