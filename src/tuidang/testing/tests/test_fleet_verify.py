"""The fleet's look at its log: a public total ahead of the checkpoint (a batch published,
its checkpoint not signed yet) is looked at again once the next checkpoint is out, as
docs/transparency-log.md tells a reader to; any other disagreement is reported at once."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest

from tuidang.testing import fleet

AHEAD = "CommandError: the log does NOT verify: the public total is 3, the log counts 2"
BEHIND = "CommandError: the log does NOT verify: the public total is 1, the log counts 2"
VERIFIES = "The log verifies at size 3."


def _night(tmp_path: Path, answers: list[str]) -> tuple[fleet.Night, list[int]]:
    """A night whose `verify-log` answers ``answers`` in turn, and the checkpoint sizes
    the proxy serves: 2, then 3 from the third look on."""
    runs = iter(answers)

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        line = next(runs)
        return subprocess.CompletedProcess(args, 0 if line == VERIFIES else 1, line + "\n", "")

    # Only what a look at the log uses: no phone network, no callers.
    night = object.__new__(fleet.Night)
    night.fleet = SimpleNamespace(  # type: ignore[assignment]
        base_url="http://127.0.0.1:1", proxy_port=1, manage=manage
    )
    night.report = fleet.Report(genuine_callers=0, hired_calls=0, calls_placed=0)
    night.state_file = tmp_path / "verify-log.state"
    return night, [2, 2, 3]


@pytest.mark.parametrize(
    ("answers", "ok", "looked_again"),
    [
        ([VERIFIES], True, []),
        ([AHEAD, VERIFIES], True, [AHEAD]),
        ([AHEAD, AHEAD], False, [AHEAD]),
        ([BEHIND], False, []),
    ],
)
def test_a_total_ahead_of_the_checkpoint_is_looked_at_again(
    tmp_path: Path, answers: list[str], ok: bool, looked_again: list[str]
) -> None:
    night, sizes = _night(tmp_path, answers)
    with (
        mock.patch.object(fleet, "_answers", return_value=True),
        mock.patch.object(fleet, "_has_checkpoint", return_value=True),
        mock.patch.object(fleet, "_checkpoint_size", side_effect=sizes + [3] * 10),
    ):
        assert night.verify_log() is ok
    assert night.report.verify_log == [answers[-1]]
    assert night.report.verify_log_ahead == looked_again
