"""What the wallboard counts, per language queue, now and today."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.template.loader import render_to_string

from tuidang.calls.models import Call
from tuidang.reports.models import ServiceLevel, WallboardLink
from tuidang.reports.tests.helpers import a_call
from tuidang.reports.wallboard import (
    board_read,
    wallboard_link_create,
    wallboard_link_open,
    wallboard_link_revoke,
)
from tuidang.shifts.models import Slot
from tuidang.shifts.services import shift_create, slot_assign
from tuidang.testing.personas import HotlineNumbers
from tuidang.volunteers.models import Presence, Volunteer

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # noon in China
S = Call.State


def test_each_queue_shows_its_waiting_callers_staff_and_today(
    numbers: HotlineNumbers, mei: Volunteer, wing: Volunteer, lin: Volunteer
) -> None:
    line = numbers["banknotes"]
    # Waiting now: two Mandarin callers, the first for 90 s; one Cantonese.
    a_call(line, started=NOON - timedelta(seconds=100), state=S.QUEUED, queued_after=10)
    a_call(line, started=NOON - timedelta(seconds=30), state=S.OFFERED, queued_after=10)
    a_call(
        line, started=NOON - timedelta(seconds=20), state=S.QUEUED, language="yue", queued_after=5
    )
    # Earlier today: answered after 10 s and after 40 s, abandoned after 30 s and after 2 s.
    morning = NOON - timedelta(hours=2)
    a_call(
        line,
        started=morning,
        state=S.COMPLETED,
        queued_after=5,
        connected_after=15,
        ended_after=100,
    )
    a_call(
        line,
        started=morning,
        state=S.COMPLETED,
        queued_after=5,
        connected_after=45,
        ended_after=100,
    )
    a_call(line, started=morning, state=S.ABANDONED, queued_after=5, ended_after=35)
    a_call(line, started=morning, state=S.ABANDONED, queued_after=5, ended_after=7)
    # Yesterday (China time) is not today.
    a_call(
        line,
        started=NOON - timedelta(hours=13),
        state=S.COMPLETED,
        queued_after=5,
        connected_after=6,
        ended_after=60,
    )
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.ON_CALL)
    Volunteer.objects.filter(pk=lin.pk).update(presence=Presence.AVAILABLE)
    Volunteer.objects.filter(pk=wing.pk).update(presence=Presence.WRAP_UP)
    queues = {queue.language: queue for queue in board_read(NOON).queues}
    mandarin, cantonese = queues["cmn"], queues["yue"]
    assert (mandarin.waiting, mandarin.longest_wait_seconds) == (2, 90)
    assert (cantonese.waiting, cantonese.longest_wait_seconds) == (1, 15)
    assert (mandarin.available, mandarin.on_call, mandarin.wrap_up) == (1, 1, 0)
    assert (cantonese.available, cantonese.wrap_up) == (0, 1)
    assert queues["en"].available == 1  # Lin speaks English too
    assert mandarin.answered_today == 2
    # One in 20 s, of two answered and one abandoned after 5 s.
    assert mandarin.service_level_today == pytest.approx(1 / 3)
    ServiceLevel.objects.create(language="cmn", threshold_seconds=60)
    assert board_read(NOON).queues[0].service_level_today == pytest.approx(2 / 3)


def test_a_link_keeps_only_a_hash_and_stops_at_once_when_revoked(lin: Volunteer) -> None:
    link, token = wallboard_link_create(name="Taipei office", coordinator=lin)
    assert token not in link.token_hash
    assert not WallboardLink.objects.filter(token_hash=token).exists()
    assert wallboard_link_open(token) == link
    assert wallboard_link_open(token + "x") is None
    wallboard_link_revoke(link=link, coordinator=lin)
    assert wallboard_link_open(token) is None


def _china_shift(start: time, end: time, *, min_heads: int) -> None:
    """A one-off Mandarin shift today in China time (NOON's date there)."""
    shift_create(
        language="cmn",
        time_zone="Asia/Shanghai",
        weekly=False,
        first_date=date(2026, 3, 2),
        last_date=None,
        start_time=start,
        end_time=end,
        min_heads=min_heads,
        target_heads=min_heads + 1,
        notice_hours=0,
        now=NOON - timedelta(days=1),
    )


def test_each_queue_shows_who_is_on_shift_and_its_next_coverage_gap(
    mei: Volunteer, lin: Volunteer
) -> None:
    # Nothing scheduled: every hour is a gap, from this one.
    queues = {queue.language: queue for queue in board_read(NOON).queues}
    assert (queues["cmn"].on_shift, queues["cmn"].next_gap) == (0, NOON)
    # 10:00-14:00 China time with Mei and Lin on it (minimum two), then 14:00-15:00 with
    # a minimum of one and no one on it yet.
    _china_shift(time(10), time(14), min_heads=2)
    _china_shift(time(14), time(15), min_heads=1)
    morning, afternoon = Slot.objects.order_by("starts_at")
    for volunteer in (mei, lin):
        slot_assign(slot=morning, volunteer=volunteer, by=lin, now=NOON - timedelta(days=1))
    queues = {queue.language: queue for queue in board_read(NOON).queues}
    assert queues["cmn"].on_shift == 2
    assert queues["en"].on_shift == 0  # Lin speaks English, but her shift is Mandarin's
    assert queues["cmn"].next_gap == NOON + timedelta(hours=2)  # 14:00 in China
    # Someone signs up for 14:00: the gap moves on to 15:00.
    slot_assign(slot=afternoon, volunteer=mei, by=lin, now=NOON - timedelta(days=1))
    board = board_read(NOON)
    assert board.queues[0].next_gap == NOON + timedelta(hours=3)
    # On the screen, in China time whoever renders it, and how long until then.
    html = render_to_string("desk/_wallboard.html", {"board": board})
    assert "Next coverage gap <strong>Mon 15:00</strong> (in 3\xa0hours)" in html
    assert re.search(r'data-testid="on-shift-cmn">2<', html)
    # At 14:30 China time the morning's two are off shift.
    assert board_read(NOON + timedelta(hours=2, minutes=30)).queues[0].on_shift == 1
