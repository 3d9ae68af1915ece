"""Failed logins, counted for /metrics (lib/metrics.py) as Django reports them. The
count carries no label: never a username, never an address."""

from __future__ import annotations

from typing import Any

from tuidang.lib.metrics import metrics_counter

LOGIN_FAILURES = metrics_counter("tuidang_login_failures", "Failed logins (any account).")


def count_login_failure(sender: object, **kwargs: Any) -> None:
    """Receiver of ``user_login_failed``: counting is all it does."""
    LOGIN_FAILURES.inc()
