"""Serve the hotline: gunicorn for the web, and a task worker beside it."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the hotline with gunicorn and run a background task worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start a task worker (run one apart)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker = None
        uses_queue = settings.TASKS["default"]["BACKEND"].endswith("DatabaseBackend")
        if uses_queue and not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "tuidang.manage", "worker"])
        bind = f"{options['host']}:{options['port']}"
        self.stdout.write(f"Serving at http://{bind}/ (Ctrl-C stops)")
        try:
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "tuidang.config.wsgi:application",
                    "--bind",
                    bind,
                    "--workers",
                    str(options["workers"]),
                    "--threads",
                    str(options["threads"]),
                    "--worker-class",
                    "gthread",
                    "--access-logfile",
                    "-",
                    # The access log shows paths only: no query strings, no bodies.
                    "--access-logformat",
                    '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
                ],
                check=False,
            )
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
