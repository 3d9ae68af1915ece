"""`/healthz` and `/readyz`: what a load balancer polls, every second if it likes.

`/healthz` says the process answers, and touches nothing else. `/readyz` runs the
readiness checks: the ground floor's own (the database answers with every migration
applied, the cache answers) and those the domains register from ``AppConfig.ready()``
(``readiness_check_register``: the log's signing key and checkpoint, the workers'
heartbeat…), without this module naming any domain. Each check's answer is kept for its
``cache_seconds`` in the process, so the costly ones (the migration plan) run at most that
often however often the page is polled. A check marked ``required=False`` is reported but
does not make the process unready (the log fails open: an unwitnessed checkpoint is said,
not refused). The JSON says which check failed and a short public reason, never an
exception's text: that goes to the log.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    run: Callable[[], Result]
    required: bool = True  # when it fails, the process is not ready
    cache_seconds: float = 0.0


_checks: dict[str, ReadinessCheck] = {}
_answers: dict[str, tuple[float, Result]] = {}
_lock = threading.Lock()


def readiness_check_register(check: ReadinessCheck) -> None:
    """Add ``check`` to /readyz (from ``AppConfig.ready()``); a name again replaces it."""
    _checks[check.name] = check
    _answers.pop(check.name, None)


def _answer(check: ReadinessCheck, now: float) -> Result:
    with _lock:
        kept = _answers.get(check.name)
    if kept is not None and 0 <= now - kept[0] < check.cache_seconds:
        return kept[1]
    try:
        result = check.run()
    except Exception:
        logger.exception("Readiness check %s failed", check.name)
        result = Result(False, "the check itself failed")
    with _lock:
        _answers[check.name] = (now, result)
    return result


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    """Whether every required check passes, and each check's answer by name."""
    now = time.time()  # a clock set back only makes an answer be asked again
    report: dict[str, dict[str, object]] = {}
    ready = True
    for check in list(_checks.values()):
        result = _answer(check, now)
        report[check.name] = {"ok": result.ok, "detail": result.detail, "required": check.required}
        ready = ready and (result.ok or not check.required)
    return ready, report


def answers_forget() -> None:
    """Drop the kept answers (tests, or after a deploy's migration in the same process)."""
    with _lock:
        _answers.clear()


def _database() -> Result:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return Result(True, "answers")


def _migrations() -> Result:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return Result(False, f"{len(plan)} migrations not applied")
    return Result(True, "all applied")


def _cache() -> Result:
    key, value = f"readyz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    answered = cache.get(key)
    cache.delete(key)
    return Result(answered == value, "answers" if answered == value else "does not keep a value")


readiness_check_register(ReadinessCheck("database", _database))
readiness_check_register(ReadinessCheck("migrations", _migrations, cache_seconds=60))
readiness_check_register(ReadinessCheck("cache", _cache, cache_seconds=1))


@require_safe  # GET, and HEAD for load balancers that send it
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is touched."""
    return JsonResponse({"status": "ok"})


@require_safe  # GET, and HEAD for load balancers that send it
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when every required check passes, 503 otherwise; each check in the body."""
    ready, checks = readiness()
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)
