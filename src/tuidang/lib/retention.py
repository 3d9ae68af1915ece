"""Retention: what is kept, for how long, and the job that forgets the rest.

Each kind of data has its own period (settings ``RETENTION_*_DAYS``). Past it:

- recordings: the sealed file and its voicemail row are deleted (with the callback number);
  a message the provider still holds (never fetched, or not deleted there) is first
  deleted at the provider by a queued task, and its row only on a later run;
- notes: volunteers' sealed notes are deleted;
- postal addresses: emptied on book requests (those sent are emptied when sent already);
- call metadata: a call keeps its time, channel, region, language, state, durations and
  screening decision, which the statistics count, and loses what links it to a caller or
  to the provider's records: caller key, last digits, case code and the provider's call id.
  Caller keys also leave screening's scores, expired blocks and events of that age.

Declarations, the rollups, daily totals and the transparency log are the registry and are
never touched: the public total and every statistic are the same after a purge.

Each batch runs in its own short transaction, so the hotline keeps running during a purge,
and ``now`` is a parameter, so tests run it at any simulated time.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tuidang.lib.models import PeriodicJob

logger = logging.getLogger(__name__)

RETENTION_JOB = "retention"
STALE_AFTER_RUNS = 6
PURGED_SID_PREFIX = "purged-"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
AT_PROVIDER = "recordings kept until deleted at the provider"
KINDS = (
    "recordings",
    AT_PROVIDER,
    "orphaned recording files",
    "notes",
    "postal addresses",
    "calls",
    "caller scores",
    "blocks",
    "screening events",
)


@dataclass
class PurgeReport:
    now: datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, kind: str, count: int) -> None:
        self.counts[kind] += count

    def summary(self) -> str:
        """What was (or would be) purged."""
        done = ", ".join(f"{kind}: {count}" for kind, count in self.counts.items() if count)
        return done or "nothing was due"


def cutoffs(now: datetime) -> dict[str, datetime]:
    """The moment before which each kind of data is past its time."""
    periods = {
        "recordings": settings.RETENTION_RECORDING_DAYS,
        "notes": settings.RETENTION_NOTE_DAYS,
        "addresses": settings.RETENTION_ADDRESS_DAYS,
        "calls": settings.RETENTION_CALL_DAYS,
    }
    for kind, days in periods.items():
        if days < 1:
            raise ValueError(f"the retention of {kind} must be at least one day, not {days}")
    return {kind: now - timedelta(days=days) for kind, days in periods.items()}


def _purged_case_code(pk: int) -> str:
    """A unique stand-in for a case code (7 characters, never a valid code: a letter)."""
    digits = ""
    while pk:
        pk, rest = divmod(pk, 36)
        digits = _BASE36[rest] + digits
    return "x" + digits.rjust(6, "0")[-6:]


def _batches(queryset: QuerySet[Any], batch_size: int) -> Iterator[list[int]]:
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


def _purge_recordings(report: PurgeReport, before: datetime, batch_size: int) -> None:
    from tuidang.calls import recordings
    from tuidang.calls.models import Voicemail
    from tuidang.calls.tasks import delete_recording_at_provider

    due = Voicemail.objects.filter(created_at__lt=before)
    # A message never fetched, or not deleted at the provider, keeps its row: the row's
    # recording sid is the only way to delete the caller's voice there. Its deletion is
    # queued; the row goes on a later run, once the provider no longer holds it.
    at_provider = due.exclude(provider_url="")
    gone = due.filter(provider_url="")
    if report.dry_run:
        report.add("recordings", gone.count())
        report.add(AT_PROVIDER, at_provider.count())
    else:
        for ids in _batches(at_provider, batch_size):
            for voicemail_id in ids:
                delete_recording_at_provider.enqueue(voicemail_id=voicemail_id)
        for ids in _batches(gone, batch_size):
            with transaction.atomic():
                # The rows' locks keep key rotation from rewriting a file being deleted.
                for voicemail in Voicemail.objects.select_for_update().filter(
                    pk__in=ids, provider_url=""
                ):
                    recordings.delete(voicemail)
                    voicemail.delete()
                    report.add("recordings", 1)
        report.add(AT_PROVIDER, at_provider.count())
    # Files without a row (a crash between writing the file and the row) go too.
    known = {
        f"{pid}{recordings.SUFFIX}" for pid in Voicemail.objects.values_list("public_id", flat=True)
    }
    for path in recordings.stored_files():
        if path.name in known:
            continue
        made = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
        if made < before:
            if not report.dry_run:
                path.unlink(missing_ok=True)
            report.add("orphaned recording files", 1)


def _purge_notes(report: PurgeReport, before: datetime, batch_size: int) -> None:
    from tuidang.calls.models import CallNote

    due = CallNote.objects.filter(created_at__lt=before)
    if report.dry_run:
        report.add("notes", due.count())
        return
    for ids in _batches(due, batch_size):
        with transaction.atomic():
            deleted, _ = CallNote.objects.filter(pk__in=ids).delete()
            report.add("notes", deleted)


def _purge_addresses(report: PurgeReport, before: datetime, batch_size: int) -> None:
    from tuidang.literature.models import BookRequest

    due = BookRequest.objects.filter(created_at__lt=before).exclude(address_sealed=b"")
    if report.dry_run:
        report.add("postal addresses", due.count())
        return
    for ids in _batches(due, batch_size):
        with transaction.atomic():
            report.add(
                "postal addresses",
                BookRequest.objects.filter(pk__in=ids)
                .exclude(address_sealed=b"")
                .update(address_sealed=b""),
            )


def _purge_calls(report: PurgeReport, before: datetime, batch_size: int) -> None:
    from tuidang.calls.models import Call, Voicemail
    from tuidang.screening.models import Block, CallerScore, ScreeningEvent

    due = Call.objects.filter(started_at__lt=before).exclude(
        provider_sid__startswith=PURGED_SID_PREFIX
    )
    scores = (
        CallerScore.objects.filter(updated_at__lt=before)
        .exclude(caller_key__startswith=PURGED_SID_PREFIX)
        .exclude(block_expires_at__gte=report.now)
    )
    blocks = Block.objects.filter(expires_at__lt=before).exclude(caller_key="")
    events = ScreeningEvent.objects.filter(at__lt=before).exclude(caller_key="")
    if report.dry_run:
        report.add("calls", due.count())
        report.add("caller scores", scores.count())
        report.add("blocks", blocks.count())
        report.add("screening events", events.count())
        return
    for ids in _batches(due, batch_size):
        with transaction.atomic():
            for call in Call.objects.select_for_update().filter(pk__in=ids).only("pk"):
                call.caller_key = ""
                call.last_digits = ""
                call.case_code = _purged_case_code(call.pk)
                call.provider_sid = f"{PURGED_SID_PREFIX}{call.pk}"
                call.save(update_fields=["caller_key", "last_digits", "case_code", "provider_sid"])
            Voicemail.objects.filter(call_id__in=ids).update(callback_number_sealed=b"")
            report.add("calls", len(ids))
    for ids in _batches(scores, batch_size):
        with transaction.atomic():
            # The row stays: its flag and conversion dates are counted in the night report.
            for score in CallerScore.objects.select_for_update().filter(pk__in=ids):
                score.caller_key = f"{PURGED_SID_PREFIX}{secrets.token_hex(16)}"
                score.score = 0
                score.save(update_fields=["caller_key", "score"])
            report.add("caller scores", len(ids))
    for ids in _batches(blocks, batch_size):
        report.add("blocks", Block.objects.filter(pk__in=ids).update(caller_key=""))
    for ids in _batches(events, batch_size):
        report.add(
            "screening events", ScreeningEvent.objects.filter(pk__in=ids).update(caller_key="")
        )


def retention_purge(
    *, now: datetime | None = None, dry_run: bool = False, batch_size: int = 500
) -> PurgeReport:
    """Delete or anonymise what is past its retention period at ``now``."""
    now = now or timezone.now()
    report = PurgeReport(now=now, dry_run=dry_run)
    before = cutoffs(now)
    _purge_recordings(report, before["recordings"], batch_size)
    _purge_notes(report, before["notes"], batch_size)
    _purge_addresses(report, before["addresses"], batch_size)
    _purge_calls(report, before["calls"], batch_size)
    if not dry_run:
        logger.info("Retention purge at %s: %s", now.isoformat(), report.summary())
    return report


def periodic_job_claim(*, name: str, now: datetime, every: timedelta) -> bool:
    """Claim the run of ``name`` that is due at ``now``. The job's row is locked while it
    is claimed, so of several workers asking at once exactly one gets True. A run that
    has not finished is not started again (runs never overlap, and a stopped queue does
    not pile them up) until it is ``STALE_AFTER_RUNS`` intervals old: then it is taken
    to have died."""
    with transaction.atomic():
        job, _created = PeriodicJob.objects.select_for_update().get_or_create(
            name=name, defaults={"next_run_at": now}
        )
        if job.next_run_at > now:
            return False
        started = job.last_started_at
        unfinished = started is not None and (
            job.last_finished_at is None or job.last_finished_at < started
        )
        if unfinished and started is not None and now - started < every * STALE_AFTER_RUNS:
            return False
        job.next_run_at = now + every
        job.last_started_at = now
        job.save(update_fields=["next_run_at", "last_started_at"])
    return True


def periodic_job_finished(*, name: str, now: datetime, result: str) -> None:
    PeriodicJob.objects.filter(name=name).update(last_finished_at=now, last_result=result[:400])


def scheduler_tick(*, now: datetime | None = None) -> bool:
    """Enqueue the retention job if it is due; what a worker calls every minute."""
    from tuidang.lib.tasks import retention_run

    now = now or timezone.now()
    every = timedelta(seconds=settings.RETENTION_INTERVAL_SECONDS)
    if not periodic_job_claim(name=RETENTION_JOB, now=now, every=every):
        return False
    retention_run.enqueue(now=now.isoformat())
    return True
