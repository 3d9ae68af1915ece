"""What the benchmarks share: a fresh database and the hotline served by `tuidang serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PORT = 8765
HOST = "127.0.0.1"
# The telephony webhooks' own pool (`tuidang serve --telephony-port`), where a proxy sends
# them in production: at full CPU priority, beside no login or page. The pool for people
# (PORT) runs at a lower one, so a webhook measured there would be measured behind wrk.
TELEPHONY_PORT = PORT + 1
TELEPHONY = f"http://{HOST}:{TELEPHONY_PORT}"
TOKEN = "bench-auth-token-" + "0" * 16
HOTLINE = "+18005550100"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/tuidang_bench")


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        VAR_DIR=str(var_dir),
        TWILIO_AUTH_TOKEN=TOKEN,
        # Twilio's webhooks, signed with TOKEN; volunteers' phones rung on the simulated network.
        TELEPHONY_PROVIDER="simulated",
        TASKS_BACKEND="immediate",
        LOG_LEVEL="WARNING",
        # As the deployments serve, behind a proxy that logs each request (ACCESS_LOG).
        ACCESS_LOG="false",
    )
    return env


def fresh_sqlite(work: Path) -> str:
    """The URL of an empty SQLite file under ``work``: any left by an earlier run is gone."""
    work.mkdir(parents=True, exist_ok=True)
    database = work / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{database}"


def prepare_database(database_url: str, env: dict[str, str]) -> None:
    if database_url.startswith("postgres"):
        import psycopg

        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        name = database_url.rsplit("/", 1)[1]
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
    manage = [PYTHON, "-m", "tuidang.manage"]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run(
        [*manage, "migrate", "-v", "0", "--database", "phone_network"], env=env, check=True
    )
    subprocess.run(
        [*manage, "shell", "-c",
         "from tuidang.calls.models import HotlineNumber;"
         f"HotlineNumber.objects.get_or_create(e164='{HOTLINE}', "
         "defaults={'name': 'Banknotes', 'how_heard': 'banknotes'})"],
        env=env, check=True,
    )  # fmt: skip


def start_server(
    env: dict[str, str],
    workers: int | None = None,
    threads: int | None = None,
    ports: tuple[int, int] = (PORT, TELEPHONY_PORT),
) -> subprocess.Popen[bytes]:
    """The hotline served by `tuidang serve`, as `make demo` and a deployment run it: the
    pool for people on PORT and the telephony pool on TELEPHONY_PORT.

    No task worker (the benchmarks run tasks in-process), and no access log of its own
    (`server_env`: behind the proxy, the deployments leave it to the proxy); what it prints
    is thrown away. Its own session, so stop_server stops every process it started."""
    command = [PYTHON, "-m", "tuidang.manage", "serve", "--no-worker",
               "--host", HOST, "--port", str(ports[0]),
               "--telephony-port", str(ports[1])]  # fmt: skip
    # Both pools alike: the webhooks' and the one for people.
    if workers:
        command += ["--workers", str(workers), "--telephony-workers", str(workers)]
    if threads:
        command += ["--threads", str(threads), "--telephony-threads", str(threads)]
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    waiting = list(ports)
    while waiting and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{HOST}:{waiting[0]}/healthz", timeout=1)
            waiting.pop(0)
        except OSError:
            time.sleep(0.2)
    if not waiting:
        return server
    stop_server(server)
    raise RuntimeError("the server did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def serving_defaults() -> tuple[int, int]:
    sys.path.insert(0, str(ROOT / "src"))
    from tuidang.lib.management.commands.serve import default_workers_and_threads

    return default_workers_and_threads()


def update_docs(marker: str, report: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    text = path.read_text()
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    path.write_text(f"{head}{begin}\n{report}\n{end}{tail}")


def stolen_seconds() -> float:
    """Processor time the host has taken from this machine since it booted, all cores
    together: on a virtual machine whose host caps its share (a CPU quota), the time its
    cores were ready to run and stopped (`steal` in /proc/stat). Such a cap stops every
    process at once, for a tenth of a second at a time here, once the machine asks for
    more than its share: a saturating round's p99 then measures the host."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def host_cap(seconds: float = 6.0) -> dict[str, float]:
    """How the host treats this machine with every core busy: a busy process per core for
    ``seconds``, and a thread here that wakes every millisecond. The processor time the
    host took meanwhile (`stolen_seconds`) is the measure; a wake later than 20 ms is a
    stop, of the whole machine where the host took time, else the thread's wait for a
    core beside the busy processes (a few milliseconds)."""
    import multiprocessing

    workers = [
        multiprocessing.Process(target=_busy, args=(seconds,)) for _ in range(os.cpu_count() or 1)
    ]
    stolen = stolen_seconds()
    for worker in workers:
        worker.start()
    stops: list[float] = []
    last = time.perf_counter()
    end = last + seconds
    while last < end:
        time.sleep(0.001)
        now = time.perf_counter()
        if now - last > 0.02:
            stops.append(now - last)
        last = now
    for worker in workers:
        worker.join()
    return {
        "seconds": seconds,
        "stops": len(stops),
        "longest_ms": max(stops, default=0.0) * 1000,
        "stolen_seconds": stolen_seconds() - stolen,
    }


def machine() -> str:
    """The machine a result was measured on: host, processor, cores, memory, Python."""
    import platform

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip() + ", "
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        memory = f", {memory_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = ""
    return (
        f"{platform.node()}: {model}{os.cpu_count()} cores{memory}, "
        f"Python {platform.python_version()}"
    )


_sessions = threading.local()
_validator = RequestValidator(TOKEN)


def signed_post(url: str, params: dict[str, str], *, timeout: float = 10) -> tuple[int, str, float]:
    """POST ``params`` to ``url`` signed as Twilio signs with TOKEN, on this thread's own
    HTTP session: the status, the body and the milliseconds the answer took."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
    headers = {"X-Twilio-Signature": _validator.compute_signature(url, params)}
    started = time.perf_counter()
    response = session.post(url, data=params, headers=headers, timeout=timeout)
    return response.status_code, response.text, (time.perf_counter() - started) * 1000
