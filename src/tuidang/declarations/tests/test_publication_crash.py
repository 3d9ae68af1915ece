"""A publication killed with SIGKILL in the middle of its batch publishes nothing, and the
next run publishes every entry once: the log verifies and counts what was recorded."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

RECORD = """
from django.contrib.auth.models import User
from tuidang.calls.models import HotlineNumber
from tuidang.calls.services import call_receive
from tuidang.declarations.services import Person, declaration_record, declaration_revoke
HotlineNumber.objects.create(e164="+18005550100", name="Banknotes line", how_heard="banknotes")
user = User.objects.create(username="mei")
call = call_receive(provider_sid="CA1", caller_from="+8613800138000", dialled="+18005550100")
made = declaration_record(
    call=call,
    people=[Person(alias=f"Person {n}", organizations=frozenset({"party"})) for n in range(5)],
    recorded_by=user,
)
declaration_revoke(declaration=made[0], reason="withdrawn", by=None)
"""

# The batch's declarations are appended and counted; before its revocations are, the
# process says so and waits to be killed, its transaction open.
KILLED_MIDWAY = """
import sys, time
from tuidang.declarations import publication
def stall(*args, **kwargs):
    print("appended", flush=True)
    time.sleep(60)
publication.revocation_entry = stall
publication.declarations_publish()
"""

PUBLISH = """
from tuidang.declarations.publication import declarations_publish
print(declarations_publish().summary())
"""

STATE = """
from tuidang.declarations.models import Declaration, Revocation
from tuidang.declarations.selectors import public_totals
from tuidang.tlog.services import log_checkpoint_sign, log_size
log_checkpoint_sign()
print(
    log_size(),
    Declaration.objects.filter(log_index__isnull=True).count(),
    Revocation.objects.filter(log_index__isnull=True).count(),
    public_totals().total,
)
"""


def run(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuidang.manage", *args], env=env, capture_output=True, text=True,
        timeout=120, **kwargs,
    )  # fmt: skip


def state(env: dict[str, str]) -> list[int]:
    shown = run(["shell", "-v", "0", "-c", STATE], env)
    assert shown.returncode == 0, shown.stderr
    return [int(value) for value in shown.stdout.split()]


def test_a_publication_killed_midway_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tuidang.config.settings",
        "TASKS_BACKEND": "immediate",
        "LOG_LEVEL": "WARNING",
    }
    assert run(["migrate", "-v", "0"], env).returncode == 0
    recorded = run(["shell", "-v", "0", "-c", RECORD], env)
    assert recorded.returncode == 0, recorded.stderr
    assert state(env) == [0, 5, 1, 0]  # recorded, durable, nothing public

    process = subprocess.Popen(
        [sys.executable, "-m", "tuidang.manage", "shell", "-v", "0", "-c", KILLED_MIDWAY],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "appended"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert state(env) == [0, 5, 1, 0]  # nothing published, nothing lost

    published = run(["shell", "-v", "0", "-c", PUBLISH], env)
    assert published.returncode == 0, published.stderr
    assert "published 5 declaration(s), 1 revocation(s)" in published.stdout
    assert state(env) == [6, 0, 0, 4]  # five declarations and a revocation, each once
    verify = run(["verify-log"], env)
    assert verify.returncode == 0, verify.stderr
    assert "the public total, 4, is what the log counts" in verify.stdout
