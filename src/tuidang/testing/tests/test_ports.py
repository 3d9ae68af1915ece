"""Each process of the suite takes ports from a block of its own (testing/ports.py)."""

from __future__ import annotations

import os
import socket

from tuidang.testing.ports import BLOCK, FIRST_PORT, HOST, free_port


def test_ports_come_from_this_workers_block_and_are_never_given_twice_in_a_row() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    first = FIRST_PORT + int(worker.removeprefix("gw")) * BLOCK
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(first <= port < first + BLOCK for port in ports)


def test_a_port_something_listens_on_is_skipped() -> None:
    with socket.socket() as listening:
        listening.bind((HOST, free_port()))
        listening.listen()
        taken = listening.getsockname()[1]
        given = [free_port() for _ in range(BLOCK)]
    assert taken not in given
