"""Retention: each kind of data goes after its own period, statistics stay, and the
workers' scheduler runs the purge once an hour however many workers there are."""

import threading
import time as clock
import zoneinfo
from datetime import date, datetime, time, timedelta
from io import StringIO
from pathlib import Path
from typing import Any, NoReturn

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from pytest_django.fixtures import Settings

from tuidang.calls import recordings
from tuidang.calls.case_codes import is_valid_case_code
from tuidang.calls.models import Call, CallDisposition, CallNote, Voicemail
from tuidang.calls.retention import AT_PROVIDER
from tuidang.calls.services import call_receive, call_record
from tuidang.calls.tasks import store_voicemail
from tuidang.declarations.models import Declaration, Organization
from tuidang.declarations.selectors import counts_by_region, public_totals
from tuidang.declarations.services import Person, declaration_record
from tuidang.desk.selectors import night_report
from tuidang.jobs.management.commands.worker import run_scheduler
from tuidang.jobs.models import PeriodicJob
from tuidang.jobs.retention import cutoffs, retention_purge
from tuidang.jobs.scheduler import periodic_job_claim, scheduler_tick
from tuidang.literature.models import BookRequest
from tuidang.screening.models import CallerScore
from tuidang.telephony.simulator.models import SimRecording
from tuidang.telephony.simulator.provider import SimulatedProvider
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.testing.records import ADDRESS, ALIAS, Records, record_a_call
from tuidang.tlog.services import log_checkpoint_sign
from tuidang.volunteers.models import Volunteer

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")
HARASSER = "+8613912345678"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _periods(settings: Settings, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path  # this test's recordings only
    settings.RETENTION_RECORDING_DAYS = 30
    settings.RETENTION_ADDRESS_DAYS = 90
    settings.RETENTION_NOTE_DAYS = 180
    settings.RETENTION_CALL_DAYS = 365
    settings.RETENTION_INTERVAL_SECONDS = 3600


@pytest.fixture
def night() -> date:
    """Last night in China, when the calls below came in."""
    return timezone.now().astimezone(CHINA).date() - timedelta(days=2)


@pytest.fixture
def records(mei: Volunteer, numbers: HotlineNumbers, night: date) -> Records:
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    # A hired caller, flagged, who renounced on the same call: a conversion.
    harasser = call_receive(provider_sid="CA2", caller_from=HARASSER, dialled=BANKNOTES_LINE)
    assert harasser is not None
    call_record(call=harasser, types=["harassment"], note="", volunteer=mei)
    declaration_record(
        call=harasser,
        people=[Person(alias="Zhang", organizations=frozenset({"youth_league"}))],
        recorded_by=mei.user,
    )
    publish()
    at = datetime.combine(night, time(22), tzinfo=CHINA)
    Call.objects.update(started_at=at)
    CallerScore.objects.filter(converted_at__isnull=False).update(converted_at=at)
    return records


def statistics(night: date) -> dict[str, Any]:
    today = timezone.now().astimezone(CHINA).date()
    report = night_report(night)
    return {
        "totals": public_totals(),
        "regions": {
            org: counts_by_region(since=today - timedelta(days=7), until=today, organization=org)
            for org in Organization.values
        },
        "night": (report.calls, report.flagged, report.actions(), report.conversions),
        "calls": list(Call.objects.values("how_heard", "region", "state").annotate(n=Count("pk"))),
        "types": list(CallDisposition.objects.values("call_type").annotate(n=Count("pk"))),
        "declarations": Declaration.objects.count(),
    }


def later(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


def test_the_domains_rules_make_the_purge_it_always_was(db: None) -> None:
    report = retention_purge(now=later(0), dry_run=True)
    assert list(report.counts) == [
        "recordings",
        AT_PROVIDER,
        "orphaned recording files",
        "notes",
        "calls",
        "caller scores",
        "blocks",
        "screening events",
        "rate counts",
        "online form tokens",
        "postal addresses",
    ]
    assert set(cutoffs(later(0))) == {
        "recordings",
        "notes",
        "addresses",
        "calls",
        "online forms",
    }


def test_each_kind_of_data_goes_after_its_own_period(records: Records) -> None:
    name = records.voicemail.stored_name
    assert retention_purge(now=later(29)).counts["recordings"] == 0

    assert retention_purge(now=later(31)).counts["recordings"] == 1
    assert name not in recordings.stored_names() and not Voicemail.objects.exists()
    assert CallNote.objects.count() == 1
    assert BookRequest.objects.get().address == ADDRESS

    retention_purge(now=later(91))
    assert BookRequest.objects.get().address == "" and CallNote.objects.count() == 1

    retention_purge(now=later(181))
    assert not CallNote.objects.exists()
    assert Call.objects.get(provider_sid="CA1").caller_key != ""

    report = retention_purge(now=later(366))
    assert report.counts["calls"] == 2
    for call in Call.objects.all():
        assert (call.caller_key, call.last_digits) == ("", "")
        assert not is_valid_case_code(call.case_code)
        assert call.provider_sid.startswith("purged-")
    assert not CallerScore.objects.exclude(caller_key__startswith="purged-").exists()
    # The registry stays, sealed as it was.
    assert Declaration.objects.get(call=records.call).alias == ALIAS


def test_the_public_total_and_statistics_are_the_same_after_a_purge(
    records: Records, night: date
) -> None:
    log_checkpoint_sign()
    before = statistics(night)
    assert before["night"][3] == 1  # the conversion counts
    assert before["totals"].total == 2

    retention_purge(now=later(400))

    assert statistics(night) == before
    out = StringIO()
    call_command("verify_log", stdout=out)
    assert "The log verifies at size 2" in out.getvalue()


def test_purging_twice_changes_nothing_more(records: Records) -> None:
    retention_purge(now=later(400))
    again = retention_purge(now=later(400))
    assert sum(again.counts.values()) == 0


def test_a_dry_run_counts_what_would_go_and_keeps_it(records: Records) -> None:
    out = StringIO()
    call_command("purge", dry_run=True, now=later(400).isoformat(), stdout=out)
    assert "Would purge 1 recordings" in out.getvalue()
    assert "Would purge 2 notes" not in out.getvalue()
    assert "Would purge 1 notes" in out.getvalue()
    assert "Would purge 2 calls" in out.getvalue()
    assert Voicemail.objects.count() == 1 and CallNote.objects.count() == 1
    assert Call.objects.get(provider_sid="CA1").caller_key != ""


def test_purge_refuses_a_time_it_cannot_read(db: None) -> None:
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("purge", now="next tuesday")


def test_purge_refuses_to_delete_as_of_a_later_day(records: Records) -> None:
    with pytest.raises(CommandError, match=r"in the future.*--dry-run"):
        call_command("purge", now=later(400).isoformat(), stdout=StringIO())
    assert Voicemail.objects.count() == 1 and CallNote.objects.count() == 1
    assert Call.objects.get(provider_sid="CA1").caller_key != ""


def left_at_the_provider(state: Voicemail.State) -> Voicemail:
    """A message whose recording the provider still holds: never fetched (RECORDED), not
    fetched (FAILED), or fetched but not deleted there (STORED)."""
    SimRecording.objects.create(sid="RE3", call_sid="CA3", duration_seconds=5)
    call = call_receive(provider_sid="CA3", caller_from=CALLER, dialled=BANKNOTES_LINE)
    voicemail = Voicemail(
        call=call, recording_sid="RE3", provider_url="https://sim.example/sim/recordings/RE3"
    )
    voicemail.callback_number = CALLER
    if state == Voicemail.State.STORED:
        voicemail.stored_name = recordings.store(voicemail, b"RIFF a message")
    voicemail.state = state
    voicemail.save()
    return voicemail


def provider_unreachable(self: object, *, recording_id: str) -> NoReturn:
    raise ConnectionError("the provider does not answer")


@pytest.mark.django_db(databases=["default", "phone_network"])
@pytest.mark.parametrize("state", list(Voicemail.State))
def test_a_recording_the_provider_still_holds_is_deleted_there_before_its_row(
    records: Records, state: Voicemail.State, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = left_at_the_provider(state)
    monkeypatch.setattr(SimulatedProvider, "delete_recording", provider_unreachable)

    report = retention_purge(now=later(31))

    assert report.counts["recordings"] == 1  # the one fetched and deleted at the provider
    assert report.counts[AT_PROVIDER] == 1
    kept.refresh_from_db()  # its sid is still there to delete the caller's voice with
    assert kept.recording_sid == "RE3" and kept.provider_url
    assert not SimRecording.objects.get(sid="RE3").deleted

    monkeypatch.undo()  # the provider answers again
    report = retention_purge(now=later(31))

    assert SimRecording.objects.get(sid="RE3").deleted
    assert report.counts == {**report.counts, "recordings": 1, AT_PROVIDER: 0}
    assert not Voicemail.objects.exists()
    assert recordings.stored_names() == []


@pytest.mark.django_db(databases=["default", "phone_network"])
def test_purge_says_how_many_recordings_it_keeps_for_the_provider(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    left_at_the_provider(Voicemail.State.FAILED)
    monkeypatch.setattr(SimulatedProvider, "delete_recording", provider_unreachable)
    out = StringIO()
    call_command("purge", dry_run=True, now=later(31).isoformat(), stdout=out)
    assert "Would purge 1 recordings" in out.getvalue()
    assert "Would keep 1 recordings past their time that the provider still holds" in (
        out.getvalue()
    )
    assert not SimRecording.objects.get(sid="RE3").deleted  # a dry run queues nothing

    Voicemail.objects.update(created_at=later(-31))
    out = StringIO()
    call_command("purge", stdout=out)
    assert "Kept 1 recordings past their time that the provider still holds" in out.getvalue()
    assert Voicemail.objects.filter(recording_sid="RE3").exists()


def test_a_queued_fetch_for_a_purged_voicemail_does_nothing(
    records: Records, caplog: pytest.LogCaptureFixture
) -> None:
    voicemail_id = records.voicemail.pk
    retention_purge(now=later(31))
    assert not Voicemail.objects.exists()

    store_voicemail.call(voicemail_id=voicemail_id)

    assert f"Voicemail {voicemail_id} is gone" in caplog.text
    assert CALLER not in caplog.text and CALLER[-4:] not in caplog.text


def test_the_scheduler_runs_the_purge_once_an_interval(records: Records) -> None:
    start = later(400)
    assert "retention" in scheduler_tick(now=start)  # the task backend runs it at once
    assert not Voicemail.objects.exists()
    assert "recordings: 1" in PeriodicJob.objects.get(name="retention").last_result

    assert "retention" not in scheduler_tick(now=start + timedelta(minutes=59))
    assert "retention" in scheduler_tick(now=start + timedelta(minutes=61))


def test_a_run_that_has_not_finished_is_not_started_again_until_it_is_stale(db: None) -> None:
    every = timedelta(hours=1)
    start = timezone.now()
    assert periodic_job_claim(name="retention", now=start, every=every)
    # No worker picked the run up (or it is still going): the next hours add no second one.
    assert not periodic_job_claim(name="retention", now=start + every, every=every)
    assert not periodic_job_claim(name="retention", now=start + 5 * every, every=every)
    assert periodic_job_claim(name="retention", now=start + 6 * every, every=every)


@pytest.mark.django_db(transaction=True)
def test_of_several_workers_only_one_claims_a_run() -> None:
    now = timezone.now()
    barrier = threading.Barrier(4)
    claimed = []

    def worker() -> None:
        try:
            barrier.wait()
            claimed.append(periodic_job_claim(name="retention", now=now, every=timedelta(hours=1)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == [False, False, False, True]


@pytest.mark.django_db(transaction=True)
def test_the_worker_enqueues_the_first_run_when_it_starts() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(stop, 0.05))
    thread.start()
    try:
        for _ in range(200):
            job = PeriodicJob.objects.filter(name="retention").first()
            if job is not None and job.last_finished_at is not None:
                break
            clock.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert job is not None
    assert job.last_result == "nothing was due"
    assert job.next_run_at > timezone.now() + timedelta(minutes=59)
