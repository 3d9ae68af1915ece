"""Publication in batches: what an outsider watching the log learns of when an entry was
recorded is no finer than its batch (declarations/publication.py)."""

from __future__ import annotations

import itertools
import json
import math
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from tuidang.calls.models import Call
from tuidang.calls.services import call_receive
from tuidang.declarations import publication
from tuidang.declarations.models import DailyTotal, Declaration, Revocation, Rollup
from tuidang.declarations.publication import declarations_publish
from tuidang.declarations.selectors import public_totals
from tuidang.declarations.services import Person, declaration_record, declaration_revoke
from tuidang.jobs.models import PeriodicJob
from tuidang.jobs.scheduler import scheduler_check_every, scheduler_tick
from tuidang.testing.personas import BANKNOTES_LINE, HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.tlog.models import LogEntry, SignedCheckpoint
from tuidang.tlog.services import log_checkpoint_sign, log_size
from tuidang.tlog.tiles import TILE_WIDTH
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True)

# A batch that spans midnight in the hotline's time zone (Asia/Shanghai, UTC+8): recorded
# from 23:20 on 4 December to 00:10 on the 5th there, published at 00:20 on the 5th.
FIRST_RECORDED = datetime(2026, 12, 4, 15, 20, tzinfo=UTC)
PUBLISHED = datetime(2026, 12, 4, 16, 20, tzinfo=UTC)
REGIONS = ["CN-BJ", "CN-HE", "CN-SD", "CN-HA", "CN-HB", "CN-HN"]


def a_call(n: int) -> Call:
    call = call_receive(
        provider_sid=f"CA{n:032x}", caller_from=f"+8613800{n:06d}", dialled=BANKNOTES_LINE
    )
    assert call is not None
    return call


_aliases = itertools.count()


def unique_alias() -> str:
    """A name no other declaration gives: never a duplicate by the counting rules."""
    return f"Caller {next(_aliases)}"


def renounce(call: Call, user: User, region: str, alias: str = "Wang Ming") -> Declaration:
    [declaration] = declaration_record(
        call=call,
        people=[Person(alias=alias, organizations=frozenset({"party"}), region=region)],
        recorded_by=user,
    )
    return declaration


def entries(client: Client) -> list[dict[str, object]]:
    """Every entry of the signed log, as an outsider reads them: the checkpoint's size,
    then the entry bundles of the C2SP tiles."""
    size = int(client.get("/log/checkpoint").text.splitlines()[1])
    found: list[dict[str, object]] = []
    for tile in range(math.ceil(size / TILE_WIDTH)):
        width = min(TILE_WIDTH, size - tile * TILE_WIDTH)
        path = f"/log/tile/entries/{tile:03d}" + ("" if width == TILE_WIDTH else f".p/{width}")
        bundle = client.get(path).content
        while bundle:
            length = int.from_bytes(bundle[:2], "big")
            found.append(json.loads(bundle[2 : 2 + length]))
            bundle = bundle[2 + length :]
    assert len(found) == size
    return found


def outside_view(client: Client) -> tuple[str, ...]:
    """All an outsider can poll: the checkpoint, the leaf tile and entry bundle at the
    log's edge, and the public page's numbers (total, today, per organization)."""
    checkpoint = client.get("/log/checkpoint")
    size = int(checkpoint.text.splitlines()[1]) if checkpoint.status_code == 200 else 0
    width = size % TILE_WIDTH
    edge = [f"/log/tile/0/000.p/{width}", f"/log/tile/entries/000.p/{width}"] if width else []
    tiles = [page.content.hex() for page in map(client.get, edge)]
    home = client.get("/").text
    numbers = home[home.index('data-testid="total"') : home.index("</table>")]
    return (checkpoint.content.decode(), *tiles, numbers)


def test_an_outsider_learns_nothing_finer_than_the_batch(
    client: Client, numbers: HotlineNumbers, mei: Volunteer, settings: Settings
) -> None:
    settings.PUBLICATION_INTERVAL_SECONDS = 3600
    with time_machine.travel(FIRST_RECORDED - timedelta(hours=1), tick=False):
        renounce(a_call(99), mei.user, "CN-XZ")  # an earlier batch, already public
        publish()
    log_before = outside_view(client)[:-1]
    recorded_at = [FIRST_RECORDED + timedelta(minutes=10 * i) for i in range(len(REGIONS))]
    for n, (instant, region) in enumerate(zip(recorded_at, REGIONS, strict=True)):
        with time_machine.travel(instant, tick=False):
            before = outside_view(client)
            renounce(a_call(n), mei.user, region)
            log_checkpoint_sign()  # as the worker would, were anything to sign
            # Nothing public moves while the batch gathers: not a byte of the log, and
            # not the public page's numbers (whose "today" turns only at midnight).
            assert outside_view(client) == before
            assert before[:-1] == log_before

    with time_machine.travel(PUBLISHED, tick=False):
        publish()
        batch = entries(client)[1:]
        totals = public_totals()
    assert sorted(str(entry["region"]) for entry in batch) == sorted(REGIONS)
    # Every entry is consistent with every recording instant of the batch: they differ
    # in nothing but what the caller declared, and are dated the day of publication, in
    # the hotline's time zone, though half were recorded the day before.
    assert {entry["date"] for entry in batch} == {"2026-12-05"}
    assert {
        json.dumps({k: v for k, v in entry.items() if k not in ("region", "commitment")})
        for entry in batch
    } == {json.dumps({k: v for k, v in batch[0].items() if k not in ("region", "commitment")})}
    # The log's own times (and the public "today") say the same: the batch, nothing finer.
    assert set(LogEntry.objects.filter(index__gte=1).values_list("created_at", flat=True)) == {
        PUBLISHED
    }
    assert (totals.total, totals.today) == (7, 6)
    assert set(Rollup.objects.exclude(region="CN-XZ").values_list("day", flat=True)) == {
        PUBLISHED.date() + timedelta(days=1)
    }


def test_the_order_in_a_batch_is_independent_of_the_order_of_recording(
    client: Client, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    """300 batches of three, recorded in the order of REGIONS: each of the six orders in
    the log must turn up about 50 times. Recording order kept (or reversed, or rotated)
    fails every time; a fair shuffle fails with a probability under one in a million."""
    recorded = REGIONS[:3]
    calls = [a_call(n) for n in range(3)]
    batches = 300
    for _ in range(batches):
        for call, region in zip(calls, recorded, strict=True):
            renounce(call, mei.user, region, alias=unique_alias())  # never a duplicate
        declarations_publish()
    log_checkpoint_sign()
    log = entries(client)
    seen = Counter(
        tuple(str(entry["region"]) for entry in log[i : i + 3]) for i in range(0, len(log), 3)
    )
    assert set(seen) == set(permutations(recorded))
    expected = batches / 6
    chi_square = sum((count - expected) ** 2 / expected for count in seen.values())
    # The chi-square distribution with 5 degrees of freedom exceeds 35.9 with p = 1e-6.
    assert chi_square < 35.9, seen


def test_a_receipt_and_the_counts_wait_for_the_batch_then_count_once(
    numbers: HotlineNumbers, mei: Volunteer
) -> None:
    declaration = renounce(a_call(1), mei.user, "CN-BJ")
    declaration.refresh_from_db()
    assert declaration.log_index is None  # durable, not public
    assert (log_size(), public_totals().total, DailyTotal.objects.count()) == (0, 0, 0)
    assert publish().declarations == 1
    declaration.refresh_from_db()
    assert declaration.log_index == 0
    assert (log_size(), public_totals().total) == (1, 1)


def test_publishing_again_publishes_nothing_twice(numbers: HotlineNumbers, mei: Volunteer) -> None:
    renounce(a_call(1), mei.user, "CN-BJ")
    publish()
    checkpoint = SignedCheckpoint.objects.get()
    assert publish().declarations == 0
    assert declarations_publish().summary() == "published 0 declaration(s), 0 revocation(s)"
    assert (log_size(), public_totals().total) == (1, 1)
    assert list(SignedCheckpoint.objects.all()) == [checkpoint]


def test_duplicates_and_withdrawals_are_published_and_counted_by_the_rules(
    numbers: HotlineNumbers, mei: Volunteer, capsys: pytest.CaptureFixture[str]
) -> None:
    call = a_call(1)
    renounce(call, mei.user, "CN-BJ")
    renounce(call, mei.user, "CN-BJ")  # the same caller and alias: the rule revokes it
    withdrawn = renounce(a_call(2), mei.user, "CN-HE", alias="Li Hua")
    assert Revocation.objects.get().log_index is None
    assert publish().summary() == "published 3 declaration(s), 1 revocation(s)"
    assert public_totals().total == 2
    declaration_revoke(declaration=withdrawn, reason="withdrawn", by=mei.user)
    assert public_totals().total == 2  # a withdrawal, too, is public with its batch
    assert publish().revocations == 1
    assert public_totals().total == 1
    withdrawn.refresh_from_db()
    assert json.loads(bytes(LogEntry.objects.get(index=4).data))["revokes"] == withdrawn.log_index
    call_command("verify_log")
    assert "the public total, 1, is what the log counts" in capsys.readouterr().out


def test_a_crash_in_the_middle_publishes_nothing_and_the_next_run_everything(
    numbers: HotlineNumbers, mei: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = a_call(1)
    for region in REGIONS[:3]:
        renounce(call, mei.user, region, alias=unique_alias())
    declaration_revoke(declaration=Declaration.objects.earliest("pk"), reason="withdrawn", by=None)

    def crash(*args: object, **kwargs: object) -> bytes:
        raise OSError("the worker died here")

    # After the declarations are appended and counted, before the revocations are.
    monkeypatch.setattr(publication, "revocation_entry", crash)
    with pytest.raises(OSError, match="the worker died here"):
        declarations_publish()
    assert (log_size(), LogEntry.objects.count(), public_totals().total) == (0, 0, 0)
    assert Declaration.objects.filter(log_index__isnull=True).count() == 3
    monkeypatch.undo()

    assert publish().summary() == "published 3 declaration(s), 1 revocation(s)"
    assert sorted(LogEntry.objects.values_list("index", flat=True)) == [0, 1, 2, 3]
    assert set(Declaration.objects.values_list("log_index", flat=True)) == {0, 1, 2}
    assert public_totals().total == 2


def test_two_workers_publishing_at_once_publish_each_entry_once(
    numbers: HotlineNumbers, mei: Volunteer
) -> None:
    for n in range(20):
        renounce(a_call(n), mei.user, REGIONS[n % len(REGIONS)])
    start = threading.Barrier(2)
    published: list[int] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            published.append(declarations_publish().declarations)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert sorted(published) == [0, 20]
    assert set(Declaration.objects.values_list("log_index", flat=True)) == set(range(20))
    assert (log_size(), public_totals().total) == (20, 20)


def test_the_worker_publishes_on_the_interval(
    numbers: HotlineNumbers, mei: Volunteer, settings: Settings
) -> None:
    settings.PUBLICATION_INTERVAL_SECONDS = 20  # the demo's
    assert scheduler_check_every() <= 5
    start = datetime(2026, 12, 4, 12, 0, 5, tzinfo=UTC)
    assert "publication" in scheduler_tick(now=start)
    renounce(a_call(1), mei.user, "CN-BJ")
    assert PeriodicJob.objects.get(name="publication").next_run_at == start + timedelta(seconds=15)
    assert "publication" not in scheduler_tick(now=start + timedelta(seconds=14))
    assert public_totals().total == 0
    assert "publication" in scheduler_tick(now=start + timedelta(seconds=15))
    assert public_totals().total == 1


Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(0, 3)),
        st.tuples(st.just("revoke"), st.integers(0, 50)),
        st.tuples(st.just("publish"), st.just(0)),
    ),
    max_size=12,
)


@pytest.mark.django_db(transaction=False)
@examples(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps)
def test_the_public_counts_move_only_at_publication_and_always_equal_the_log(
    numbers: HotlineNumbers, mei: Volunteer, plan: list[Step]
) -> None:
    """Whatever is recorded, revoked and published, in any order: recording and revoking
    move nothing public, and after each publication the public total is the log's
    declarations less its revocations, with nothing left pending."""
    call = a_call(1)
    for action, n in plan:
        before = (public_totals(), log_size())
        if action == "record":
            # No alias: the duplicate rule leaves them be; revocations come from the plan.
            renounce(call, mei.user, REGIONS[n], alias=unique_alias())
        elif action == "revoke":
            counted = Declaration.objects.filter(revocation__isnull=True).order_by("pk")
            if target := counted[n : n + 1].first():
                declaration_revoke(declaration=target, reason="withdrawn", by=None)
        else:
            declarations_publish()
            kinds = Counter(
                json.loads(bytes(d))["kind"]
                for d in LogEntry.objects.values_list("data", flat=True)
            )
            assert public_totals().total == kinds["declaration"] - kinds["revocation"]
            assert not Declaration.objects.filter(log_index__isnull=True).exists()
            assert not Revocation.objects.filter(log_index__isnull=True).exists()
            continue
        assert (public_totals(), log_size()) == before
