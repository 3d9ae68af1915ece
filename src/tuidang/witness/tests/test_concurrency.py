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
