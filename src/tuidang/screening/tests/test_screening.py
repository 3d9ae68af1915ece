"""Screening policies, decay and expiry, flood mode, conversions — through whole calls."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.lib.languages import Language
from tuidang.lib.phone import caller_key
from tuidang.screening import flood, services
from tuidang.screening.models import Block, CallerScore, FloodState, Policy, ScreeningEvent
from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.testing.personas import (
    BANKNOTES_LINE,
    PASSWORD,
    HotlineNumbers,
    go_available,
    make_coordinator,
    make_volunteer,
)
from tuidang.testing.phone import said
from tuidang.testing.screening import GENUINE, HIRED, last_call, score
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_a_key_that_calls_again_and_again_climbs_through_every_policy(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    policies = []
    for _ in range(14):
        sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
        policies.append(last_call().screening_policy)
        network.hang_up(sim.sid)  # hangs up at once, as hired callers do
    assert policies[:4] == ["normal"] * 4
    order = ["normal", "screening_group", "message", "reject"]
    assert [order.index(p) for p in policies] == sorted(order.index(p) for p in policies)
    assert {"screening_group", "message", "reject"} <= set(policies)
    blocks = Block.objects.filter(caller_key=caller_key(HIRED))
    assert {block.policy for block in blocks} == {"message", "reject"}
    reject = blocks.get(policy="reject")
    assert timedelta(days=29) < reject.expires_at - reject.created_at <= timedelta(days=30)


def test_the_message_policy_tells_the_facts_and_hangs_up(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    score(HIRED, 7)
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert "这条热线是为想了解真相" in said(sim)
    assert sim.status == "completed"
    assert last_call().state == Call.State.SCREENED


def test_the_reject_policy_refuses_the_call_before_answering(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    score(HIRED, 11)
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert said(sim) == ""
    assert sim.status == "busy"
    assert last_call().screening_policy == Policy.REJECT


def test_the_screening_group_takes_calls_from_flagged_keys(
    network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    screener = make_volunteer("hua", [Language.MANDARIN])
    screener.screener = True
    screener.save()
    go_available(mei)
    go_available(screener)  # Mei has been idle longer, but Hua is in the screening group
    score(HIRED, 3.5)
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    network.press(sim.sid, "1")
    assert calls_for("client:hua").count() == 1
    assert calls_for("client:mei").count() == 0


def test_scores_decay_so_no_one_is_locked_out_for_good(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    score(HIRED, 8, hours_ago=24)  # two half-lives: 2
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert last_call().screening_policy == Policy.NORMAL
    assert "普通话请按1" in said(sim)


def test_an_expired_block_no_longer_applies(network: PhoneNetwork, numbers: HotlineNumbers) -> None:
    Block.objects.create(
        caller_key=caller_key(HIRED),
        policy=Policy.REJECT,
        reason="test",
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert last_call().screening_policy == Policy.NORMAL


def test_the_strictest_active_block_is_the_one_every_call_meets(
    network: PhoneNetwork, numbers: HotlineNumbers
) -> None:
    lin = make_coordinator("lin", [Language.MANDARIN])
    key = caller_key(HIRED)
    message = services.block_create(
        caller_key=key, policy=Policy.MESSAGE, hours=48, reason="hired", actor=lin.user
    )
    reject = services.block_create(
        caller_key=key, policy=Policy.REJECT, hours=2, reason="threats", actor=lin.user
    )
    # A milder block made after a stricter one does not replace it.
    services.block_create(
        caller_key=key, policy=Policy.MESSAGE, hours=1, reason="again", actor=lin.user
    )
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert last_call().screening_policy == Policy.REJECT
    services.block_lift(block=reject, actor=lin.user)
    row = CallerScore.objects.get(caller_key=key)
    # Of the two message blocks left, the one that lasts longer.
    assert (row.block_policy, row.block_expires_at) == (Policy.MESSAGE, message.expires_at)
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert last_call().screening_policy == Policy.MESSAGE
    for block in Block.objects.filter(caller_key=key, lifted_at__isnull=True):
        services.block_lift(block=block, actor=lin.user)
    row.refresh_from_db()
    assert (row.block_policy, row.block_expires_at) == ("", None)
    network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    assert last_call().screening_policy == Policy.NORMAL


def test_flood_mode_switches_on_and_off_by_itself(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    monkeypatch: pytest.MonkeyPatch,
    lin: Volunteer,
) -> None:
    monkeypatch.setattr(flood, "FLOOD_RECHECK", timedelta(0))
    flagged = [f"+86135000000{i:02d}" for i in range(8)]
    for number in flagged:
        score(number, 3.5)
    for number in flagged:
        network.dial(from_number=number, to_number=BANKNOTES_LINE)
    assert FloodState.objects.get().active
    # Flagged keys hear the message, unknown callers keep their place...
    sim = network.dial(from_number=flagged[0], to_number=BANKNOTES_LINE)
    assert "这条热线是为想了解真相" in said(sim)
    sim = network.dial(from_number=GENUINE, to_number=BANKNOTES_LINE)
    assert "普通话请按1" in said(sim)
    # ...and withheld numbers are asked to press the digit they hear.
    sim = network.dial(from_number="anonymous", to_number=BANKNOTES_LINE)
    digit = last_call().challenge_digit
    assert f"请按数字{digit}继续" in said(sim)
    sim = network.press(sim.sid, digit)
    assert "普通话请按1" in said(sim)
    wrong = network.dial(from_number="anonymous", to_number=BANKNOTES_LINE)
    wrong_digit = str(int(last_call().challenge_digit) % 9 + 1)
    wrong = network.press(wrong.sid, wrong_digit)
    assert "这条热线是为想了解真相" in said(wrong)
    # Coordinators see it.
    from django.test import Client

    coordinator = Client()
    coordinator.login(username="lin", password=PASSWORD)
    assert "Flood mode is on" in coordinator.get(reverse("desk:screening")).text
    # When the calls stop, it switches off.
    Call.objects.update(started_at=timezone.now() - timedelta(minutes=6))
    network.dial(from_number=GENUINE, to_number=BANKNOTES_LINE)
    assert not FloodState.objects.get().active
    kinds = list(
        ScreeningEvent.objects.filter(kind__startswith="flood").values_list("kind", flat=True)
    )
    assert kinds == ["flood_on", "flood_off"]


def test_flood_mode_stays_off_while_volunteers_keep_up(
    network: PhoneNetwork, numbers: HotlineNumbers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flood, "FLOOD_RECHECK", timedelta(0))
    for index in range(8):
        network.dial(from_number=f"+86135000000{index:02d}", to_number=BANKNOTES_LINE)
    assert not FloodState.objects.get().active  # many calls, but none flagged


def test_a_flagged_caller_who_renounces_is_a_conversion_and_stays_blocked(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    Block.objects.create(
        caller_key=caller_key(HIRED),
        policy=Policy.SCREENING_GROUP,
        reason="test",
        expires_at=timezone.now() + timedelta(days=1),
    )
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    network.press(sim.sid, "1")
    network.press(network.answer(calls_for("client:mei").get().sid).sid, "1")
    call = last_call()
    client.login(username="mei", password=PASSWORD)
    client.post(reverse("desk:flag", args=[call.pk]))
    client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party"],
            "family-TOTAL_FORMS": "0",
            "family-INITIAL_FORMS": "0",
        },
    )
    assert Declaration.objects.count() == 1
    row = CallerScore.objects.get(caller_key=caller_key(HIRED))
    assert row.flagged_at is not None and row.converted_at is not None
    assert Block.objects.get().lifted_at is None


def test_a_burst_of_new_keys_switches_flood_mode_on(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    monkeypatch: pytest.MonkeyPatch,
    lin: Volunteer,
) -> None:
    from tuidang.screening.models import ScreeningSettings

    monkeypatch.setattr(flood, "FLOOD_RECHECK", timedelta(0))
    ScreeningSettings.objects.create(flood_new_keys=12)
    go_available(lin)  # one volunteer: more than five calls in five minutes is too many
    # Each call is judged on the calls before it: the twelfth new key is seen by the 13th.
    for index in range(12):
        network.dial(from_number=f"+86137000000{index:02d}", to_number=BANKNOTES_LINE)
    assert not FloodState.objects.get().active
    network.dial(from_number="+8613700000099", to_number=BANKNOTES_LINE)
    assert FloodState.objects.get().active
    assert "12 new keys" in FloodState.objects.get().detail


def test_only_keys_never_heard_before_count_as_new(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    monkeypatch: pytest.MonkeyPatch,
    lin: Volunteer,
) -> None:
    from tuidang.screening.models import ScreeningSettings

    monkeypatch.setattr(flood, "FLOOD_RECHECK", timedelta(0))
    ScreeningSettings.objects.create(flood_new_keys=6)
    go_available(lin)
    # Six callers known from an hour ago, and one new key calling six times.
    for index in range(6):
        network.dial(from_number=f"+86137000001{index:02d}", to_number=BANKNOTES_LINE)
    Call.objects.update(started_at=timezone.now() - timedelta(hours=1))
    for index in range(6):
        network.dial(from_number=f"+86137000001{index:02d}", to_number=BANKNOTES_LINE)
    for _ in range(6):
        network.dial(from_number="+8613700000299", to_number=BANKNOTES_LINE)
    network.dial(from_number="+8613700000398", to_number=BANKNOTES_LINE)
    state = FloodState.objects.get()
    assert "12 calls in 5 min" in state.detail and "1 new keys" in state.detail
    assert not state.active


def test_volunteers_call_types_count_against_the_key_once(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    go_available(mei)
    sim = network.dial(from_number=HIRED, to_number=BANKNOTES_LINE)
    network.press(sim.sid, "1")
    network.press(network.answer(calls_for("client:mei").get().sid).sid, "1")
    call = last_call()
    client.login(username="mei", password=PASSWORD)
    record = reverse("desk:record-call", args=[call.pk])
    client.post(record, {"types": ["harassment", "prank"]})
    client.post(reverse("desk:flag", args=[call.pk]))  # the button too: still one flag
    client.post(record, {"types": ["harassment", "prank"]})  # saved again: nothing new
    row = CallerScore.objects.get(caller_key=caller_key(HIRED))
    assert round(row.score, 1) == services.HARASSMENT_POINTS + 3
    assert row.flagged_at is not None


def test_screening_is_told_facts_by_caller_key_and_never_sees_a_call() -> None:
    from django.db import transaction

    key = caller_key(HIRED)
    with transaction.atomic():
        services.screening_short_call(caller_key=key, seconds=3)
        services.screening_short_call(caller_key=key, seconds=30)  # long enough: nothing
        assert round(services.screening_add_points(caller_key=key, points=2), 1) == 3
    score = services.screening_flag(caller_key=key, actor=None)
    assert round(score, 1) == 3 + services.HARASSMENT_POINTS
    assert services.screening_renounced(caller_key=key)
    assert not services.screening_renounced(caller_key=key)  # one conversion per key
    assert services.screening_challenge_passed(expected="4", digits="4")
    assert not services.screening_challenge_passed(expected="4", digits="5")
    assert not services.screening_challenge_passed(expected="", digits="")
    kinds = list(ScreeningEvent.objects.values_list("kind", flat=True).order_by("pk"))
    assert kinds == ["flagged", "converted"]


def test_new_settings_apply_to_the_next_call_here_and_within_a_second_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    from tuidang.lib import memo
    from tuidang.screening.models import SETTINGS_CACHE_KEY, ScreeningSettings

    now = 1000.0
    monkeypatch.setattr(memo, "clock", lambda: now)
    assert ScreeningSettings.current().flood_new_keys != 7
    saved = ScreeningSettings.objects.create(flood_new_keys=7)  # saved in this process
    assert ScreeningSettings.current().flood_new_keys == 7
    # Saved by another process: the shared cache holds the new row, this process the old
    # one for at most a second, without asking the shared cache meanwhile.
    saved.flood_new_keys = 9
    cache.set(SETTINGS_CACHE_KEY, saved, 60)
    assert ScreeningSettings.current().flood_new_keys == 7
    now += memo.HOLD_SECONDS
    assert ScreeningSettings.current().flood_new_keys == 9


def test_flood_mode_switched_by_another_process_is_seen_here_within_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    from tuidang.lib import memo
    from tuidang.screening.models import FLOOD_CACHE_KEY, ScreeningSettings

    clock = 1000.0
    monkeypatch.setattr(memo, "clock", lambda: clock)
    now = timezone.now()
    config = ScreeningSettings.current()

    def uncounted(*args: object) -> flood.FloodCounts:
        raise AssertionError("not due for a recheck")

    def active() -> bool:
        return flood.flood_active(now=now, config=config, count=uncounted)

    cache.set(FLOOD_CACHE_KEY, (False, now), 60)
    assert not active()
    # Another process's recheck turns it on: this process, which asked a moment ago, goes
    # on without asking the shared cache again for at most a second, then sees it.
    cache.set(FLOOD_CACHE_KEY, (True, now), 60)
    assert not active()
    clock += memo.HOLD_SECONDS
    assert active()
