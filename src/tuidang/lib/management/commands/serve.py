"""Serve the hotline: granian for the web, in two pools, and a task worker beside it.

Granian parses HTTP in Rust, outside Python's interpreter lock, and hands each request to
the Django application on one of a few threads per process. A process per core, on
SQLite too: writers of every process queue on one lock file (lib/sqlite), and nothing
lives inside one process (docs/architecture.md).

The telephony provider's webhooks have a pool of their own, on a port of their own
(``--telephony-port``, which the proxy sends ``TELEPHONY_POOL_PATHS`` to, and which answers
nothing else): no login, admin or public page can take its threads. The pool for people
runs at a lower CPU priority (``PEOPLE_POOL_NICENESS``), so that on a small machine a
webhook waits for no password hash either. See docs/configuration.md, "Two pools".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Stop(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


# Paths only: no query strings, no bodies, no caller's number, and no client address (a
# log of where volunteers and readers of the public site connect from is worth seizing).
ACCESS_LOG_FORMAT = '"%(method)s %(path)s" %(status)d %(dt_ms).1fms'


def default_workers_and_threads() -> tuple[int, int]:
    """A process per core, whatever the database, each with two threads.

    More threads in one process only queue behind its interpreter lock, and a thread that
    holds SQLite's write lock then waits for the interpreter while every writer waits for
    it (docs/benchmarks.md: the webhook's p99 grew with threads). Requests beyond them
    wait in granian, outside Python. On SQLite, writers of all processes queue on one lock
    file rather than in SQLite's sleeping busy handler (lib/sqlite).
    """
    return max(2, os.cpu_count() or 2), 2


# How much less CPU the pool for people gets than the telephony pool when both want it:
# Linux gives a process at niceness 10 about a tenth of the share of one at 0.
PEOPLE_POOL_NICENESS = 10


def server_command(
    *, bind_host: str, port: int, workers: int, threads: int, access_log: bool
) -> list[str]:
    """The web server's command line; ``make bench`` measures exactly this. Without
    ``access_log`` (``ACCESS_LOG``), no line a request: behind a proxy that logs its own."""
    return [
        sys.executable, "-m", "granian", "tuidang.config.wsgi:application",
        "--interface", "wsgi",
        "--host", bind_host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--no-ws",
        "--respawn-failed-workers",
        *(["--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT] if access_log else []),
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Serve the hotline with granian and run a background task worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--threads", type=int, help="threads per process (default: 2)")
        parser.add_argument("--workers", type=int, help="processes (default: one per core)")
        parser.add_argument(
            "--telephony-port",
            type=int,
            default=os.environ.get("TELEPHONY_PORT") or None,  # argparse applies type=int
            help="port of the telephony webhooks' own pool (default: --port + 1)",
        )
        parser.add_argument(
            "--telephony-workers", type=int, help="telephony pool processes (default: one per core)"
        )
        parser.add_argument(
            "--telephony-threads", type=int, help="telephony pool threads per process (default: 2)"
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start a task worker (run one apart)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEPHONY_PROVIDER:
            # Never the simulated network by default: it plays the provider for anyone at /sim/.
            raise CommandError(
                "Choose a telephony provider: TELEPHONY_PROVIDER=twilio or telnyx, or "
                "simulated for the demo's own phone network (make demo chooses it)."
            )
        host, port = options["host"], options["port"]
        telephony_port = options["telephony_port"] or port + 1
        if telephony_port == port:
            raise CommandError("The telephony webhooks need a port of their own, not --port.")
        workers, threads = default_workers_and_threads()
        children: list[subprocess.Popen[bytes]] = []
        uses_queue = settings.TASKS["default"]["BACKEND"].endswith("DatabaseBackend")
        # Stopping `serve` (Ctrl-C, SIGTERM from a supervisor, its terminal closed) stops
        # what it started. Each child runs in a process group of its own, so a signal to
        # serve's group (Ctrl-C, `kill -- -PID`) reaches serve alone, and each child is
        # stopped once, by serve: granian, signalled with its workers at once, could see a
        # worker's exit before its own signal and respawn it instead of stopping.
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGHUP, _stop)
        # Where every process started here counts its events for /metrics (lib/metrics.py).
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_metrics_directory(port)))
        try:
            if uses_queue and not options["no_worker"]:
                children.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tuidang.manage", "worker"], process_group=0
                    )
                )
            self.stdout.write(
                f"Serving at http://{host}:{port}/ and the telephony webhooks "
                f"({', '.join(settings.TELEPHONY_POOL_PATHS)}) at http://{host}:{telephony_port}/"
                " (Ctrl-C stops)"
            )
            telephony = server_command(
                bind_host=host,
                port=telephony_port,
                workers=options["telephony_workers"] or workers,
                threads=options["telephony_threads"] or threads,
                access_log=settings.ACCESS_LOG,
            )
            only_telephony = dict(
                os.environ, SERVE_ONLY_PATHS=",".join(settings.TELEPHONY_POOL_PATHS)
            )
            servers = [subprocess.Popen(telephony, env=only_telephony, process_group=0)]  # noqa: S603
            # Beside its working threads, the pool for people keeps threads for refused
            # logins to wait on (accounts/tarpit.py), which only those wait on.
            people_threads = options["threads"] or threads
            people = server_command(
                bind_host=host,
                port=port,
                workers=options["workers"] or workers,
                threads=people_threads + settings.LOGIN_TARPIT_SLOTS,
                access_log=settings.ACCESS_LOG,
            )
            working = dict(os.environ, SERVE_WORKING_THREADS=str(people_threads))
            servers.append(
                subprocess.Popen(  # noqa: S603
                    people, env=working, preexec_fn=_lower_priority, process_group=0
                )
            )
            children.extend(servers)
            # Until either pool stops: the other is then stopped too, and serve exits.
            while all(server.poll() is None for server in servers):
                time.sleep(0.5)
        except (KeyboardInterrupt, Stop):
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    # With its own processes (granian's workers): none outlives serve.
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, signal.SIGKILL)
                    child.wait()


def _metrics_directory(port: int) -> Path:
    """An empty directory for this server's counts: those of an earlier run are gone with
    the processes that made them."""
    directory = Path(settings.VAR_DIR) / "metrics" / str(port)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    return directory


def _lower_priority() -> None:
    """In the pool for people's process, before granian starts: below the telephony pool."""
    os.nice(PEOPLE_POOL_NICENESS)
