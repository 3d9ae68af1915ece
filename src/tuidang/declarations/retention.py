"""What declarations forget, and when (registered in declarations/apps.py; the job that
runs the rules is jobs/retention.py): the tokens of declaration forms posted online, kept
only so that a form posted twice records its people once."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from tuidang.declarations.models import OnlineSubmission
from tuidang.jobs.retention import PurgeReport, RetentionRule, batches


def purge_form_tokens(report: PurgeReport, before: datetime, batch_size: int) -> None:
    due = OnlineSubmission.objects.filter(created_at__lt=before)
    if report.dry_run:
        report.add("online form tokens", due.count())
        return
    for ids in batches(due, batch_size):
        with transaction.atomic():
            deleted, _ = OnlineSubmission.objects.filter(pk__in=ids).delete()
            report.add("online form tokens", deleted)


FORM_TOKENS = RetentionRule(
    period="online forms",
    days_setting="RETENTION_ONLINE_FORM_DAYS",
    kinds=("online form tokens",),
    purge=purge_form_tokens,
)
