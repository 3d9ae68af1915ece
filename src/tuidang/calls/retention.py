"""What the calls domain forgets, and when (registered in calls/apps.py; the job that
runs the rules is jobs/retention.py).

- recordings: the sealed file and its voicemail row are deleted (with the callback number);
  a message the provider still holds (never fetched, or not deleted there) is first
  deleted at the provider by a queued task, and its row only on a later run;
- notes: volunteers' sealed notes are deleted;
- call metadata: a call keeps its time, how-heard, region, language, state, durations and
  screening decision, which the statistics count, and loses what links it to a caller or
  to the provider's records: caller key, last digits, case code and the provider's call id.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from tuidang.calls import recordings
from tuidang.calls.models import Call, CallNote, Voicemail
from tuidang.jobs.retention import PurgeReport, RetentionRule, batches

PURGED_SID_PREFIX = "purged-"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
AT_PROVIDER = "recordings kept until deleted at the provider"


def _purged_case_code(pk: int) -> str:
    """A unique stand-in for a case code (7 characters, never a valid code: a letter)."""
    digits = ""
    while pk:
        pk, rest = divmod(pk, 36)
        digits = _BASE36[rest] + digits
    return "x" + digits.rjust(6, "0")[-6:]


def purge_recordings(report: PurgeReport, before: datetime, batch_size: int) -> None:
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
        for ids in batches(at_provider, batch_size):
            for voicemail_id in ids:
                delete_recording_at_provider.enqueue(voicemail_id=voicemail_id)
        for ids in batches(gone, batch_size):
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
    for name in recordings.stored_names():
        if name in known:
            continue
        try:
            made = recordings.stored_at(name)
        except FileNotFoundError:
            continue  # deleted meanwhile
        if made < before:
            if not report.dry_run:
                recordings.delete_name(name)
            report.add("orphaned recording files", 1)


def purge_notes(report: PurgeReport, before: datetime, batch_size: int) -> None:
    due = CallNote.objects.filter(created_at__lt=before)
    if report.dry_run:
        report.add("notes", due.count())
        return
    for ids in batches(due, batch_size):
        with transaction.atomic():
            deleted, _ = CallNote.objects.filter(pk__in=ids).delete()
            report.add("notes", deleted)


def purge_calls(report: PurgeReport, before: datetime, batch_size: int) -> None:
    due = Call.objects.filter(started_at__lt=before).exclude(
        provider_sid__startswith=PURGED_SID_PREFIX
    )
    if report.dry_run:
        report.add("calls", due.count())
        return
    for ids in batches(due, batch_size):
        with transaction.atomic():
            for call in Call.objects.select_for_update().filter(pk__in=ids).only("pk"):
                call.caller_key = ""
                call.last_digits = ""
                call.case_code = _purged_case_code(call.pk)
                call.provider_sid = f"{PURGED_SID_PREFIX}{call.pk}"
                call.save(update_fields=["caller_key", "last_digits", "case_code", "provider_sid"])
            Voicemail.objects.filter(call_id__in=ids).update(callback_number_sealed=b"")
            report.add("calls", len(ids))


def _kept_at_provider(held: int, dry_run: bool) -> str:
    queued = "a purge queues" if dry_run else "queued"
    return (
        f"{'Would keep' if dry_run else 'Kept'} {held} recordings past their time that the "
        f"provider still holds ({queued} their deletion there; each row goes on a later "
        "run, once the provider has deleted it)."
    )


RULES = (
    RetentionRule(
        period="recordings",
        days_setting="RETENTION_RECORDING_DAYS",
        kinds=("recordings", AT_PROVIDER, "orphaned recording files"),
        purge=purge_recordings,
        kept={AT_PROVIDER: _kept_at_provider},
    ),
    RetentionRule(
        period="notes", days_setting="RETENTION_NOTE_DAYS", kinds=("notes",), purge=purge_notes
    ),
    RetentionRule(
        period="calls", days_setting="RETENTION_CALL_DAYS", kinds=("calls",), purge=purge_calls
    ),
)
