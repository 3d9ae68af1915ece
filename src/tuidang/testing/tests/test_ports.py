"""Each process of the suite takes ports from a block of its own (testing/ports.py)."""

from __future__ import annotations

import socket

import pytest

from tuidang.testing.ports import HOST, PORTS, _block, block_for, free_port


@pytest.mark.parametrize("workers", [1, 2, 3, 8, 64])
def test_each_worker_has_ports_no_other_worker_has_below_the_ephemeral_ones(workers: int) -> None:
    blocks = [set(block_for(worker, workers)) for worker in range(workers)]
    assert all(len(block) >= 100 for block in blocks)
    assert sum(len(block) for block in blocks) == len(set().union(*blocks))
    assert max(max(block) for block in blocks) < 32_768


def test_ports_come_from_this_workers_block_and_are_never_given_twice_in_a_row() -> None:
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(port in _block() for port in ports)
    assert all(port in PORTS for port in ports)


def test_a_port_something_listens_on_is_skipped() -> None:
    with socket.socket() as listening:
        listening.bind((HOST, free_port()))
        listening.listen()
        taken = listening.getsockname()[1]
        given = [free_port() for _ in range(len(_block()))]
    assert taken not in given
