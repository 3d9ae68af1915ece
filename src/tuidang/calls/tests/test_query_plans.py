"""Every step of a call stays fast with a year behind it: no statement that a webhook on a
call's path, the desk's polling or the team page runs reads a growing table whole.

The database holds a small history (a few thousand calls with their offers, voicemails,
screening rows and declarations, from ``demo/history.py``) with fresh statistics, enough
for the planner to prefer an index wherever one serves; each statement recorded while
calls go through every webhook is then explained by the database itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tuidang.calls.models import Call, HotlineNumber, HowHeard, Offer, QueueConfig, Voicemail
from tuidang.demo.history import HistorySize, history_fill, history_number
from tuidang.lib.languages import Language
from tuidang.lib.phone import caller_key
from tuidang.screening.models import Block, CallerScore, Policy
from tuidang.telephony.simulator.engine import InProcessTransport, PhoneNetwork, Reply
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    PASSWORD,
    Clock,
    HotlineNumbers,
    go_available,
)
from tuidang.testing.plans import (
    MIN_PAGES,
    Recorder,
    Statement,
    full_scans,
    postgresql_pages,
    recording,
    statistics_of_a_year,
    table_indexes,
)
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

SMALL_YEAR = HistorySize(calls=4000, keys=800, declarations=400, volunteers=40)
ASKING_LINE = "+14155550199"
# The calls of the year the benchmarks keep behind the hotline (docs/benchmarks.md).
YEAR_CALLS = 2_000_000


class LabelledTransport(InProcessTransport):
    """Labels the statements each webhook runs with the webhook's name."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        parts = [part for part in urlsplit(url).path.split("/") if part]
        name = "/".join(part if len(part) < 32 else "<token>" for part in parts[2:])
        with self.recorder.labelled(name):
            return super().post(url, body, headers)


def _a_night_of_calls(
    network: PhoneNetwork, clock: Clock, client: Client, recorder: Recorder
) -> None:
    """Calls through every webhook: menus, hold, offers missed and taken, the bridge,
    hanging up, voicemail; the desk and the team page polling meanwhile."""
    QueueConfig.objects.create(language=Language.MANDARIN, voicemail_after_seconds=120)
    HotlineNumber.objects.create(
        e164=ASKING_LINE, name="Asking line", how_heard=HowHeard.UNKNOWN, ask_how_heard=True
    )
    mei = Volunteer.objects.get(user__username="mei")
    go_available(mei)
    # A caller known from the year, through the how-heard menu.
    first = network.dial(from_number=history_number(SMALL_YEAR.keys - 1), to_number=ASKING_LINE)
    network.press(first.sid, "1")
    network.press(first.sid, "2")
    offer_leg = network.calls_for("client:mei").get()
    network.hang_up(offer_leg.sid)  # Mei misses it: the offer's leg ends unanswered
    clock.advance(16)
    network.tick()  # a hold cycle; Mei's phone rings again
    leg = network.answer(network.calls_for("client:mei").filter(status="ringing").get().sid)
    network.press(leg.sid, "1")  # accepted: bridged to the caller
    client.login(username="mei", password=PASSWORD)
    with recorder.labelled("desk/live"):
        client.get(reverse("desk:live"), {"call": ""})
    client.login(username="lin", password=PASSWORD)
    with recorder.labelled("desk/team/live"):
        client.get(reverse("desk:team-live"))
    # A second caller waits while Mei talks, is offered voicemail and leaves a message.
    second = network.dial(from_number=history_number(SMALL_YEAR.keys - 2), to_number=BANKNOTES_LINE)
    network.press(second.sid, "1")
    Call.objects.filter(provider_sid=second.sid).update(
        queued_at=timezone.now() - timedelta(seconds=121)
    )
    clock.advance(16)
    network.tick()
    network.press(second.sid, "5")  # stays on hold
    clock.advance(16)
    network.tick()  # the offer of voicemail again
    network.press(second.sid, "1")  # to voicemail
    clock.advance(10)
    network.press(second.sid, "#")
    network.hang_up(first.sid)  # the conversation ends: status callbacks
    # A hired caller's key from the year, its score past the reject threshold and its
    # block expired: blocked again as it calls (the block, and its copy on the score row).
    hired = caller_key(history_number(0))
    CallerScore.objects.filter(caller_key=hired).update(
        score=20, updated_at=timezone.now(), block_policy="", block_expires_at=None
    )
    network.dial(from_number=history_number(0), to_number=BANKNOTES_LINE)
    assert Block.objects.filter(caller_key=hired, policy=Policy.REJECT, reason="score").exists()
    with recorder.labelled("desk/live"):
        client.login(username="mei", password=PASSWORD)
        client.get(reverse("desk:live"), {"call": ""})


@pytest.fixture
def small_year(numbers: HotlineNumbers, mei: Volunteer, lin: Volunteer) -> None:
    history_fill(size=SMALL_YEAR)


def test_no_step_of_a_call_reads_a_growing_table_whole(
    small_year: None, clock: Clock, client: Client
) -> None:
    with recording() as recorder:
        network = PhoneNetwork(clock=clock, transport=LabelledTransport(recorder))
        _a_night_of_calls(network, clock, client, recorder)
    labels = recorder.labels()
    desk = ("desk/live", "desk/team/live")
    for webhook in (
        "voice",
        "language",
        "how-heard",
        "wait",
        "wait-choice",
        "queue-exit",
        "voicemail",
        "bridge",
        "offer/<token>",
        "offer/<token>/respond",
        "status",
        *desk,
    ):
        assert webhook in labels, f"no statement recorded for {webhook}: {sorted(labels)}"
    # Nor does a webhook read the whole team: who is on duty and who is ready come from
    # the presence index. The team page lists everyone. (On PostgreSQL, the small year's
    # team is too small for its planner to read it through an index: see MIN_PAGES.)
    webhooks = [
        statement
        for statement in recorder.statements
        if statement.label and statement.label not in desk
    ]
    desk_polls = [statement for statement in recorder.statements if statement.label in desk]
    # Asked of the planner as it would plan them with a year's calls behind it.
    with statistics_of_a_year(YEAR_CALLS / SMALL_YEAR.calls):
        scans = full_scans(webhooks, with_team=True) + full_scans(desk_polls)
    assert not scans, "\n".join(scans)
    if connection.vendor == "postgresql":
        # Large enough that PostgreSQL's planner would scan them if no index served.
        pages = postgresql_pages({"calls_call", "calls_offer", "screening_callerscore"})
        assert min(pages.values()) >= MIN_PAGES, pages


def test_the_guard_sees_a_full_scan_of_the_calls(small_year: None) -> None:
    """The guard itself: a query no index serves is reported."""
    unindexed = Call.objects.filter(duration_seconds=7).values("pk").query
    sql, params = unindexed.sql_with_params()
    scans = full_scans([Statement("a report", sql, tuple(params))])
    assert len(scans) == 1
    assert "calls_call" in scans[0]


def test_the_guard_sees_a_full_scan_in_a_subquery(small_year: None) -> None:
    """A subquery names its table by an alias (`"calls_call" U0`): its scan is reported."""
    inner = Call.objects.filter(duration_seconds=7).values("pk")
    query = Call.objects.filter(pk__in=inner[:1]).values("pk").query
    sql, params = query.sql_with_params()
    assert " U0 " in sql
    scans = full_scans([Statement("a report", sql, tuple(params))])
    assert len(scans) == 1
    assert "calls_call" in scans[0]


def test_the_guard_plans_as_the_planner_would_with_a_year_behind_it(small_year: None) -> None:
    """SQLite's planner reads the whole calls table in the order of its keys rather than
    sort the few queued calls found through an index, once it believes the table holds a
    year: the guard asks with such statistics. PostgreSQL knows how rare a state is."""
    from django.db.models import Q, QuerySet

    from tuidang.lib.planner import Rare

    def scans(queryset: QuerySet[Call, Any]) -> list[str]:
        sql, params = queryset.query.sql_with_params()
        return full_scans([Statement("routing", sql, tuple(params))])

    waiting = Call.objects.filter(language=Language.MANDARIN).order_by("pk").values("pk")
    plain = waiting.filter(state=Call.State.QUEUED)
    marked = waiting.filter(Rare(Q(state=Call.State.QUEUED)))
    assert not scans(plain)
    with statistics_of_a_year(YEAR_CALLS / SMALL_YEAR.calls):
        assert bool(scans(plain)) == (connection.vendor == "sqlite")
        assert not scans(marked)
    assert not scans(plain)  # fresh statistics again


# What a new call adds a key to: what webhooks, routing, screening and the reports look
# calls up by. Each more is a B-tree of a year's calls that every arriving call writes to.
EVERY_CALL_INDEXED_BY = {
    ("id",),
    ("provider_sid",),  # every webhook finds its call
    ("case_code",),  # unique; the desk opens a case by it
    ("state", "language", "queued_at"),  # routing
    ("caller_key", "started_at"),  # screening counts a key's calls
    ("started_at",),  # flood mode's counts, the reports, retention
}


def test_a_new_call_adds_a_key_only_to_the_indexes_something_reads() -> None:
    indexes = table_indexes(Call._meta.db_table)
    every_call = {index.columns for index in indexes if not index.partial}
    assert every_call == EVERY_CALL_INDEXED_BY
    # Nor, on PostgreSQL, to a second index of an identifier for searches by its start.
    for model in (Call, Offer, Voicemail, CallerScore, Block):
        for_prefixes = [
            index for index in table_indexes(model._meta.db_table) if index.for_prefixes
        ]
        assert not for_prefixes, for_prefixes
