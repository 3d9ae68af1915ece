"""A task for the worker-process tests: it says which worker started it, then waits for
the test's word before it finishes, so a test can stop or kill its worker mid-task."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import task

PATIENCE_SECONDS = 60.0  # never waits longer than this for the test's word


@task()
def wait_for_word(*, directory: str) -> str:
    """Safe to run twice: each run only writes files named by its own process."""
    where, pid = Path(directory), os.getpid()
    (where / f"started-{pid}").touch()
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not (where / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (where / f"done-{pid}").touch()
    return str(pid)
