"""The witness side of add-checkpoint: what it cosigns, what it refuses, what it keeps."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuidang.testing.witnesses import ToyLog, a_witness
from tuidang.tlog.cosignature import Cosignature
from tuidang.tlog.note import Signer
from tuidang.witness.models import Evidence, WitnessedLog
from tuidang.witness.services import Answer, witness_add_checkpoint

pytestmark = pytest.mark.django_db

ORIGINS = (f"tuidang.example/log{n}" for n in itertools.count())


def submit(log: ToyLog, old: int, size: int, **kwargs: str) -> Answer:
    return witness_add_checkpoint(witness=a_witness(log), request=log.request(old, size, **kwargs))


def cosigned(log: ToyLog, answer: Answer, size: int) -> bool:
    key = a_witness(log).cosigner.key
    return answer.status == 200 and key.verify(
        Cosignature.parse(answer.body), log.checkpoint(size).body()
    )


def test_the_first_checkpoint_of_a_log_is_cosigned_from_old_size_zero() -> None:
    log = ToyLog()
    answer = submit(log, 0, 5)
    assert cosigned(log, answer, 5)
    assert answer.body.startswith("\u2014 witness.example/w1 ")
    assert WitnessedLog.objects.get(origin=log.origin).size == 5


def test_a_consistent_larger_checkpoint_is_cosigned_and_becomes_the_latest() -> None:
    log = ToyLog()
    submit(log, 0, 5)
    assert cosigned(log, submit(log, 5, 13), 13)
    assert WitnessedLog.objects.get(origin=log.origin).size == 13


def test_the_same_checkpoint_again_is_cosigned_again() -> None:
    log = ToyLog()
    submit(log, 0, 5)
    assert cosigned(log, submit(log, 5, 5), 5)


def test_a_stale_old_size_gets_409_with_the_witness_size_and_is_not_evidence() -> None:
    log = ToyLog()
    submit(log, 0, 5)
    answer = submit(log, 0, 9)
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", "5\n")
    assert cosigned(log, submit(log, 5, 9), 9)  # resent from the size it was told
    assert not Evidence.objects.exists()


def test_a_second_root_for_a_cosigned_size_is_refused_and_kept_as_evidence() -> None:
    log = ToyLog()
    submit(log, 0, 5)
    fork = ToyLog()
    fork.grow(5)
    fork.leaves[2] = b"\x00" * 32  # one entry changed
    answer = submit(fork, 5, 5)
    assert (answer.status, answer.body) == (409, "5\n")
    evidence = Evidence.objects.get()
    assert evidence.status == 409 and "fork" in evidence.reason
    assert fork.note(5) in evidence.request
    assert WitnessedLog.objects.get(origin=log.origin).root == log.checkpoint(5).root


def test_a_smaller_checkpoint_after_a_larger_one_is_refused_and_kept() -> None:
    log = ToyLog()
    submit(log, 0, 9)
    assert submit(log, 4, 4).status == 409
    assert submit(log, 9, 4).status == 400  # an old size past the checkpoint's
    assert sorted(Evidence.objects.values_list("status", flat=True)) == [400, 409]
    assert WitnessedLog.objects.get(origin=log.origin).size == 9


def test_a_proof_that_does_not_hold_gets_422_and_is_kept() -> None:
    log = ToyLog()
    submit(log, 0, 5)
    fork = ToyLog()
    fork.grow(9)
    fork.leaves[2] = b"\x00" * 32  # a log that rewrote entry 2 and proves from its own tree
    answer = submit(fork, 5, 9)
    assert answer.status == 422
    assert Evidence.objects.get().status == 422
    assert WitnessedLog.objects.get(origin=log.origin).size == 5


def test_an_unknown_origin_gets_404() -> None:
    log = ToyLog()
    stranger = ToyLog(origin="elsewhere.example/log")
    answer = witness_add_checkpoint(witness=a_witness(log), request=stranger.request(0, 3))
    assert answer.status == 404
    assert not WitnessedLog.objects.exists()


def test_a_checkpoint_not_signed_by_the_logs_key_gets_403_and_is_not_kept() -> None:
    log = ToyLog()
    impostor = Signer(log.origin, bytes(32))
    log.grow(3)
    note = impostor.sign(log.checkpoint(3).body())
    assert submit(log, 0, 3, note=note).status == 403
    assert not Evidence.objects.exists()
    assert not WitnessedLog.objects.filter(size__gt=0).exists()


@pytest.mark.parametrize(
    "request_body",
    [
        b"\xff\xfe",
        b"old 1\n",
        b"new 0\n\nx\n",
        b"old 01\n\nx\n",
        b"old -1\n\nx\n",
        b"old 0\nnot base64!\n\nx\n",
        b"old 0\nAAAA\n\nx\n",
        b"old 0\n\nnot a checkpoint\n\n\xe2\x80\x94 a b\n",
        b"old 0\n" + b"A" * 43 + b"=\n" * 64 + b"\n",
    ],
)
def test_a_malformed_request_gets_400(request_body: bytes) -> None:
    answer = witness_add_checkpoint(witness=a_witness(ToyLog()), request=request_body)
    assert answer.status == 400


@given(steps=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_sequence_a_correct_log_signs_is_cosigned(steps: list[int]) -> None:
    log = ToyLog(origin=next(ORIGINS))
    old = 0
    for step in steps:
        size = old + step
        assert cosigned(log, submit(log, old, size), size)
        old = size
    assert WitnessedLog.objects.get(origin=log.origin).size == old


@given(
    size=st.integers(min_value=1, max_value=40),
    changed=st.integers(min_value=0),
    later=st.integers(min_value=0, max_value=20),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_fork_is_refused_and_kept(size: int, changed: int, later: int) -> None:
    origin = next(ORIGINS)
    log, fork = ToyLog(origin=origin), ToyLog(origin=origin)
    submit(log, 0, size)
    fork.grow(size + later)
    fork.leaves[changed % size] = b"\x01" * 32
    answer = submit(fork, size, size + later)
    assert answer.status == (409 if later == 0 else 422)
    assert Evidence.objects.filter(origin=origin, status=answer.status).exists()
    assert WitnessedLog.objects.get(origin=origin).size == size
