"""Submissions at once never roll the witness back (the race tlog-witness warns of).

Threads follow one log, each towards a size of its own, resending from the size a 409
names until it is cosigned or its checkpoint is older than the witness's. Whatever order
they run in, the witness ends at the largest size: no smaller checkpoint was stored after a
larger one.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tuidang.testing.witnesses import ToyLog, a_witness
from tuidang.witness.models import WitnessedLog
from tuidang.witness.services import witness_add_checkpoint

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_submissions_never_roll_the_witness_back(round_: int) -> None:
    log = ToyLog(origin=f"tuidang.example/log{round_}")
    log.grow(200)
    witness = a_witness(log)
    cosigned: list[int] = []
    lock = threading.Lock()

    def follow(target: int) -> None:
        try:
            old = 0
            for _attempt in range(100):
                answer = witness_add_checkpoint(witness=witness, request=log.request(old, target))
                if answer.status == 200:
                    with lock:
                        cosigned.append(target)
                    return
                assert answer.status == 409, answer.body
                old = int(answer.body)
                if old > target:
                    return  # the witness is past this checkpoint already
        finally:
            connections.close_all()

    targets = [5, 190, 17, 64, 100, 3, 150, 33] * 3
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(follow, targets))
    assert WitnessedLog.objects.get(origin=log.origin).size == max(targets)
    assert max(targets) in cosigned


def test_a_submission_that_read_an_older_state_cannot_write_over_a_newer_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The interleaving the threads above may or may not hit, made certain: a submission
    checked against size 10 while another moved the witness to 20 meanwhile. The
    compare-and-swap refuses it with a 409 and the witness stays at 20."""
    from tuidang.witness import services

    log = ToyLog(origin="tuidang.example/interleaved")
    witness = a_witness(log)
    assert witness_add_checkpoint(witness=witness, request=log.request(0, 10)).status == 200
    as_read = services._latest_locked(witness.cosigner.name, log.origin)
    assert witness_add_checkpoint(witness=witness, request=log.request(10, 20)).status == 200
    # The next submission sees the row as it was before the move to 20.
    monkeypatch.setattr(services, "_latest_locked", lambda name, origin: as_read)
    answer = witness_add_checkpoint(witness=witness, request=log.request(10, 15))
    assert answer.status == 409
    assert WitnessedLog.objects.get(origin=log.origin).size == 20
