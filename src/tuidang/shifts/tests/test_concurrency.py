"""Sign-ups at once: a volunteer pressing Sign up on several overlapping shifts from
several tabs (or a coordinator and the volunteer together) ends up on one of them only.

The volunteer's row lock in ``slot_assign`` is what serialises the overlap check with the
insert; without it, on PostgreSQL several sign-ups pass the check before any is written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tuidang.lib.languages import Language
from tuidang.shifts.models import Assignment, Slot
from tuidang.shifts.services import ShiftRefused, shift_create, slot_assign
from tuidang.testing.personas import make_volunteer

pytestmark = pytest.mark.django_db(transaction=True)

SIGN_UPS = 6


def overlapping_slots(count: int) -> list[Slot]:
    """``count`` one-off shifts of one evening two days ahead, each starting half an
    hour after the last."""
    now = timezone.now()
    day = now.astimezone(UTC).date() + timedelta(days=2)
    slots = []
    for n in range(count):
        shift, _notes = shift_create(
            language=Language.MANDARIN,
            time_zone="UTC",
            weekly=False,
            first_date=day,
            last_date=None,
            start_time=time(18 + n // 2, 30 * (n % 2)),
            end_time=time(23, 30),
            min_heads=1,
            target_heads=2,
            notice_hours=24,
            now=now,
        )
        slots.append(shift.slots.get())
    return slots


def test_a_volunteer_signing_up_for_overlapping_shifts_at_once_gets_only_one() -> None:
    volunteer = make_volunteer("ming", [Language.MANDARIN])
    slots = overlapping_slots(SIGN_UPS)
    barrier = threading.Barrier(SIGN_UPS)
    outcomes: list[str] = []

    def sign_up(slot: Slot) -> None:
        try:
            barrier.wait()
            slot_assign(slot=slot, volunteer=volunteer, by=volunteer, now=datetime.now(UTC))
            outcomes.append("on")
        except ShiftRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(slot,)) for slot in slots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Every sign-up got an answer, and the volunteer is on exactly one of the shifts.
    assert sorted(outcomes) == ["on"] + ["refused"] * (SIGN_UPS - 1)
    assert Assignment.objects.filter(volunteer=volunteer).count() == 1
