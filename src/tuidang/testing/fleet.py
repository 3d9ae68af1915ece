"""A fleet on 127.0.0.1 and a night of calls through it while its parts fail.

``python -m tuidang.testing.fleet --json report.json`` starts, in a temporary folder:
its own PostgreSQL (``initdb``, ``pg_ctl``, a free port; never the machine's shared one),
its own Redis (``redis-server --save ''``), two app servers (``tuidang serve``, each with a
VAR_DIR of its own) and two workers (``tuidang worker``), behind HAProxy doing
health-checked round robin on ``/readyz``. The simulated phone network runs in this
process and sends its webhooks over HTTP through the proxy (``SIMULATOR_TRANSPORT=http``);
the workers ring volunteers on the same network (``PHONE_NETWORK_DATABASE``).

A night of calls then runs, hired callers who hang up within seconds among genuine callers
who choose Mandarin and wait; simulated volunteers answer their phones, press 1, record a
declaration through ``declarations.services.declaration_record`` and hang up. While it runs:

1. one app server is killed with SIGKILL, and later started again;
2. one worker is killed with SIGKILL while it runs a task;
3. Redis is stopped and started again;
4. PostgreSQL is stopped (``pg_ctl stop -m fast``) and started again: a restart, with a
   moment between in which ``/readyz`` is asked.

Afterwards it writes what a test asserts (``testing/tests/test_fleet_faults.py``, in
``make test``) and what ``bench/fleet_faults.py`` reports (``make bench``): each genuine
caller's fate, the calls, offers and volunteers left in a state that should have moved on,
the acknowledged declarations missing, ``tuidang verify-log`` against the fleet (again
after each fault, keeping the last checkpoint it saw; a run that finds the public total
ahead of the checkpoint, a batch published and not yet signed, looks again once the next
checkpoint is out, as docs/transparency-log.md tells a reader to) and what ``/readyz``
said. Every
process binds 127.0.0.1 and is stopped at the end; the night ends by its own deadline.
"""

# ruff: noqa: S603, S607 - it runs the fleet's programs (pg_ctl, redis-server, haproxy) by name

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tuidang.testing.ports import free_port

HOST = "127.0.0.1"
TWILIO_TOKEN = "fleet-auth-token-" + "0" * 16
HOTLINE = "+18005550100"


def readyz(port: int) -> int:
    """What ``/readyz`` of the server on ``port`` answers (0: nothing answers)."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=3) as response:  # nosec B310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def readyz_failing(port: int) -> list[str]:
    """The names of the readiness checks failing on the server at ``port``."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=3) as response:  # nosec B310
            body = json.load(response)
    except urllib.error.HTTPError as error:
        body = json.load(error)
    except (OSError, ValueError):
        return ["(no answer)"]
    return [name for name, check in body.get("checks", {}).items() if not check.get("ok")]


def _checkpoint_size(port: int) -> int:
    """The size of the checkpoint the log on ``port`` serves (0: none, or no answer)."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/log/checkpoint", timeout=3) as response:  # nosec B310
            lines = response.read().decode().splitlines()
    except OSError:
        return 0
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0


def _has_checkpoint(port: int) -> bool:
    """Whether the log served on ``port`` has signed a checkpoint yet."""
    return _checkpoint_size(port) > 0


def _answers(port: int, expected: int | Callable[[int], bool]) -> bool:
    status = readyz(port)
    return expected(status) if callable(expected) else status == expected


def wait_for(what: str, done: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.1)
    return done()


# --- The processes -----------------------------------------------------------------------


def _pg(program: str) -> str:
    """PostgreSQL's ``program``: on the PATH, or where Debian keeps it."""
    found = shutil.which(program)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"{program} not found: make fleet-tools installs PostgreSQL")


def _as_postgres() -> list[str]:
    """initdb refuses root: as root, PostgreSQL runs as the postgres user."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class PostgreSQL:
    """A PostgreSQL of its own, in a folder of its own that its user (postgres, when we
    are root) can reach, on a free port; ``destroy`` stops it and deletes the folder."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="tuidang-pg-"))
        # PostgreSQL's own user reads below it.
        os.chmod(self.home, 0o755)  # noqa: S103 # nosec B103
        self.data = self.home / "data"
        self.log = self.home / "pg.log"
        self.port = free_port()
        self.url = f"postgres://postgres@{HOST}:{self.port}/hotline"
        # Its own port and socket folder: the machine's shared PostgreSQL is never touched.
        self.options = f"-p {self.port} -c listen_addresses={HOST} -k {self.data} -c fsync=off"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [
                *_as_postgres(),
                _pg("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                *args,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def init(self) -> None:
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres")
        subprocess.run(
            [*_as_postgres(), _pg("initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--no-sync"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self._ctl("-o", self.options, "start")
        subprocess.run(
            [_pg("psql"), "-h", HOST, "-p", str(self.port), "-U", "postgres", "-q",
             "-c", "CREATE DATABASE hotline"],
            check=True,
        )  # fmt: skip

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def start(self) -> None:
        self._ctl("-o", self.options, "start")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.home, ignore_errors=True)


class Redis:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.log = root / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
                 "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for("redis", self._answers, 20)

    def _answers(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@dataclass
class Node:
    """A process group the fleet started: an app server or a worker."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL to the node and every process it started: nothing shuts down cleanly.
        `tuidang serve` starts each pool in a process group of its own, killed with it."""
        if self.process is not None:
            for group in [*_child_groups(self.process.pid), self.process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def _child_groups(pid: int) -> set[int]:
    """The process groups of ``pid``'s children (Linux's /proc)."""
    groups = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After the command's closing parenthesis: state, parent, process group.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            groups.add(int(fields[2]))
    return groups


@dataclass
class AppServer(Node):
    port: int = 0
    telephony_port: int = 0


HAPROXY_CONFIG = """\
global
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A request whose server died is sent to the other one (webhooks are idempotent).
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend hotline
    bind {host}:{port}
    acl telephony path_beg /telephony/
    use_backend webhooks if telephony
    default_backend people

backend webhooks
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host {host}
    default-server inter 500ms fall 2 rise 2
{webhooks}

backend people
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host {host}
    default-server inter 500ms fall 2 rise 2
{people}
"""


class Fleet:
    """PostgreSQL, Redis, two app servers, two workers and HAProxy, on 127.0.0.1."""

    def __init__(self, root: Path, *, publication_seconds: int) -> None:
        self.root = root
        self.postgres = PostgreSQL()
        self.redis = Redis(root)
        self.proxy_port = free_port()
        self.base_url = f"http://{HOST}:{self.proxy_port}"
        self.shared = root / "shared"
        self.shared.mkdir()
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="tuidang.config.settings",
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            TASKS_BACKEND="database",
            TELEPHONY_PROVIDER="simulated",
            SIMULATOR_TRANSPORT="http",
            PUBLIC_BASE_URL=self.base_url,
            PHONE_NETWORK_DATABASE=str(self.shared / "phone-network.sqlite3"),
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            PUBLICATION_INTERVAL_SECONDS=str(publication_seconds),
            # A status callback sent while PostgreSQL restarts is answered 500 and, as
            # Twilio does, not sent again: the workers' reconciler settles the call it
            # leaves open. Its production pace (minutes) is brought within the night's.
            RECONCILE_INTERVAL_SECONDS="5",
            RECONCILE_AFTER_SECONDS="10",
            RECONCILE_QUIET_SECONDS="10",
            VAR_DIR=str(self.shared),
            LOG_LEVEL="WARNING",
        )
        self.env.pop("TLOG_WITNESSES", None)
        self.servers: list[AppServer] = []
        self.workers: list[Node] = []
        self.proxy: subprocess.Popen[bytes] | None = None

    def _node_env(self, name: str) -> dict[str, str]:
        """A VAR_DIR of the node's own; the secrets every node shares, as a deployment
        hands each node the same ones."""
        var = self.root / name
        var.mkdir(exist_ok=True)
        secrets = var / "secrets"
        if not secrets.exists():
            secrets.symlink_to(self.shared / "secrets")
        return dict(self.env, VAR_DIR=str(var))

    def manage(self, *args: str, var: str = "shared") -> subprocess.CompletedProcess[str]:
        env = self.env if var == "shared" else self._node_env(var)
        return subprocess.run(
            [sys.executable, "-m", "tuidang.manage", *args],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    def start(self) -> None:
        self.postgres.init()
        self.redis.start()
        for database in ("default", "phone_network"):
            done = self.manage("migrate", "--noinput", "-v", "0", "--database", database)
            if done.returncode:
                raise RuntimeError(f"migrate failed: {done.stderr[-2000:]}")
        for name in ("app-a", "app-b"):
            port, telephony_port = free_port(), free_port()
            server = AppServer(
                name=name,
                command=[sys.executable, "-m", "tuidang.manage", "serve", "--no-worker",
                         "--host", HOST, "--port", str(port), "--workers", "1",
                         "--threads", "2", "--telephony-port", str(telephony_port),
                         "--telephony-workers", "1", "--telephony-threads", "4"],
                env=self._node_env(name),
                log=self.root / f"{name}.log",
                port=port,
                telephony_port=telephony_port,
            )  # fmt: skip
            self.servers.append(server)
        for name in ("worker-1", "worker-2"):
            self.workers.append(
                Node(
                    name=name,
                    command=[
                        sys.executable,
                        "-m",
                        "tuidang.manage",
                        "worker",
                        "-v",
                        "2",
                        "--schedule-every",
                        "1",
                    ],
                    env=self._node_env(name),
                    log=self.root / f"{name}.log",
                )
            )
        for node in [*self.workers, *self.servers]:
            node.start()
        for server in self.servers:
            if not wait_for(server.name, partial(_answers, server.port, 200), 120):
                raise RuntimeError(f"{server.name} never became ready: see {server.log}")
        self._start_proxy()

    def _start_proxy(self) -> None:
        def lines(port_of: Callable[[AppServer], int]) -> str:
            return "\n".join(
                f"    server {server.name} {HOST}:{port_of(server)} check"
                for server in self.servers
            )

        config = self.root / "haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(
                host=HOST,
                port=self.proxy_port,
                webhooks=lines(lambda server: server.telephony_port),
                people=lines(lambda server: server.port),
            )
        )
        with (self.root / "haproxy.log").open("ab") as log:
            self.proxy = subprocess.Popen(
                ["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        if not wait_for("proxy", lambda: readyz(self.proxy_port) == 200, 30):
            raise RuntimeError("HAProxy never answered")

    def worker_ids(self, worker: Node) -> list[str]:
        """The names the task queue may know ``worker`` by: its heartbeat's (host:pid),
        and whatever id django-tasks logged when it started."""
        assert worker.process is not None
        logged = re.findall(r"worker_id=(\S+)", worker.log.read_text(errors="replace"))
        return [f"{socket.gethostname()}:{worker.process.pid}", *logged[-1:]]

    def stop(self) -> None:
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.terminate()
            self.proxy.wait(timeout=20)
        for node in [*self.servers, *self.workers]:
            node.stop()
        self.redis.stop()
        self.postgres.destroy()


# --- The night ---------------------------------------------------------------------------


@dataclass
class Caller:
    number: str
    genuine: bool
    at: float  # seconds into the night
    talk_seconds: float  # hired: how long before hanging up; genuine: the conversation
    sids: list[str] = field(default_factory=list)
    done: bool = False
    redial_at: float = 0.0  # after an application error, when the caller rings again
    ended_at: float = 0.0  # seconds into the night when the caller was done


@dataclass
class Desk:
    """A simulated volunteer: the leg they answered and what they do next."""

    username: str
    volunteer_id: int
    leg: str = ""
    connected_at: float = 0.0
    recorded: bool = False
    free_at: float = 0.0


@dataclass
class Readiness:
    dependency: str
    down: dict[str, int] = field(default_factory=dict)  # server: /readyz while it was down
    up: dict[str, int] = field(default_factory=dict)  # and once it was back


@dataclass
class FaultWindow:
    """A fault, from its onset until the fleet was whole again, and the callers whose
    calls were under way at some moment of it."""

    fault: str
    began: float  # seconds into the night
    ended: float
    calls_placed: int = 0  # callers (genuine and hired) ringing during the window
    genuine: int = 0
    reached_volunteer: int = 0
    left_voicemail: int = 0
    lost: int = 0


@dataclass
class Report:
    calls_placed: int = 0
    genuine_callers: int = 0
    hired_calls: int = 0
    reached_volunteer: int = 0
    left_voicemail: int = 0
    lost: list[str] = field(default_factory=list)  # genuine callers (by position)
    voicemails_not_playable: list[str] = field(default_factory=list)
    application_errors: int = 0  # calls that heard "an application error" and rang again
    stuck_calls: list[str] = field(default_factory=list)
    stuck_offers: list[str] = field(default_factory=list)
    stuck_volunteers: list[str] = field(default_factory=list)
    tasks_left_running: list[str] = field(default_factory=list)  # claimed, never finished
    declarations_acknowledged: int = 0
    declarations_missing: int = 0
    verify_log: list[str] = field(default_factory=list)  # each run's last line
    # Runs that found the public total ahead of the checkpoint, and looked again.
    verify_log_ahead: list[str] = field(default_factory=list)
    verify_log_ok: bool = False
    readiness: list[Readiness] = field(default_factory=list)
    worker_killed_mid_task: bool = False
    faults: list[str] = field(default_factory=list)
    fault_windows: list[FaultWindow] = field(default_factory=list)
    calls_arriving_until: float = 0.0  # seconds into the night of the last first ring
    readyz_at_end: dict[str, list[str]] = field(default_factory=dict)  # failing checks
    seconds: float = 0.0


class Night:
    def __init__(self, fleet: Fleet, *, genuine: int, hired: int, seconds: float, seed: int):
        from tuidang.telephony.simulator.engine import PhoneNetwork

        self.fleet = fleet
        self.network = PhoneNetwork(base_url=fleet.base_url)
        self.seconds = seconds
        rng = random.Random(seed)  # noqa: S311 - a reproducible night, not a secret
        self.callers = [
            Caller(f"+86138{k:08d}", True, rng.uniform(0, seconds), rng.uniform(1, 4))
            for k in range(genuine)
        ] + [
            Caller(f"+86135{k % max(1, hired // 3):08d}", False, rng.uniform(0, seconds),
                   rng.uniform(0.5, 3))
            for k in range(hired)
        ]  # fmt: skip
        # A genuine caller rings at the very end, so that calls arrive all through the faults.
        if genuine:
            self.callers[genuine - 1].at = seconds
        self.callers.sort(key=lambda caller: caller.at)
        self.desks: list[Desk] = []
        self.acknowledged: list[str] = []  # public ids of declarations the desk saw recorded
        self.report = Report(
            genuine_callers=genuine, hired_calls=hired, calls_placed=genuine + hired
        )
        self.started = 0.0
        self.state_file = fleet.root / "verify-log.state"

    def setup(self, volunteers: int) -> None:
        from tuidang.calls.models import HotlineNumber, HowHeard, QueueConfig
        from tuidang.lib.languages import Language
        from tuidang.testing.personas import go_available, make_volunteer

        HotlineNumber.objects.create(e164=HOTLINE, name="Banknotes", how_heard=HowHeard.BANKNOTES)
        # Callers who wait are offered voicemail well within the night.
        QueueConfig.objects.create(language=Language.MANDARIN, voicemail_after_seconds=25)
        for index in range(volunteers):
            volunteer = make_volunteer(f"desk{index}", [Language.MANDARIN])
            go_available(volunteer)
            self.desks.append(Desk(volunteer.user.username, volunteer.pk))

    def now(self) -> float:
        return time.monotonic() - self.started

    # What people do, each step forgiving a fleet that answers with an error meanwhile.

    def _attempt(self, what: Callable[[], Any]) -> Any:
        import requests
        from django.db import DatabaseError, close_old_connections

        try:
            return what()
        except (requests.RequestException, DatabaseError):
            close_old_connections()
            return None

    def _caller_step(self, caller: Caller) -> None:
        from tuidang.telephony.simulator.models import SimCall

        if caller.done or self.now() < caller.at:
            return
        if not caller.sids:
            self._dial(caller)
            return
        call = SimCall.objects.get(sid=caller.sids[-1])
        waiting = call.waiting or {}
        if not caller.genuine:
            if not call.ended and self.now() > caller.at + caller.talk_seconds:
                self._attempt(lambda: self.network.hang_up(call.sid))
            caller.done = call.ended or self.now() > caller.at + caller.talk_seconds + 5
            if caller.done:
                caller.ended_at = self.now()
            return
        if call.ended:
            if call.status == SimCall.Status.FAILED and len(caller.sids) < 6:
                # Heard "an application error has occurred": a genuine caller rings again
                # a few seconds later.
                if not caller.redial_at:
                    self.report.application_errors += 1
                    caller.redial_at = self.now() + 5
                elif self.now() >= caller.redial_at:
                    caller.redial_at = 0.0
                    self._dial(caller)
            else:
                caller.done = True
                caller.ended_at = self.now()
            return
        if waiting.get("kind") == "gather" and not call.digits:
            self._attempt(lambda: self.network.press(call.sid, "1"))  # Mandarin
        elif waiting.get("kind") == "queue" and waiting.get("gather"):
            self._attempt(lambda: self.network.press(call.sid, "1"))  # voicemail, please
        elif waiting.get("kind") == "record":
            started = waiting.get("started", "")
            if started and (self.network.clock().isoformat() > started):
                self._attempt(lambda: self.network.press(call.sid, "#"))

    def _dial(self, caller: Caller) -> None:
        from tuidang.telephony.simulator.engine import new_sid
        from tuidang.telephony.simulator.models import SimCall

        # The network creates the call before it asks the hotline anything: keep its sid
        # even when the request fails on the way.
        before = set(
            SimCall.objects.filter(from_number=caller.number).values_list("sid", flat=True)
        )
        self._attempt(lambda: self.network.dial(from_number=caller.number, to_number=HOTLINE))
        after = SimCall.objects.filter(from_number=caller.number).exclude(sid__in=before)
        sid = after.values_list("sid", flat=True).first()
        caller.sids.append(sid or new_sid())
        if sid is None:
            caller.sids.pop()

    def _desk_step(self, desk: Desk) -> None:
        from tuidang.calls.models import Call
        from tuidang.declarations.services import Person, declaration_record
        from tuidang.telephony.simulator.engine import calls_for
        from tuidang.telephony.simulator.models import SimCall
        from tuidang.volunteers.models import Presence, Volunteer
        from tuidang.volunteers.services import volunteer_set_presence

        address = f"client:{desk.username}"
        if not desk.leg:
            ringing = calls_for(address).filter(status=SimCall.Status.RINGING).first()
            if ringing is not None:
                desk.leg = ringing.sid
                self._attempt(lambda: self.network.answer(ringing.sid))
            elif self.now() >= desk.free_at:
                volunteer = Volunteer.objects.get(pk=desk.volunteer_id)
                if volunteer.presence in (Presence.WRAP_UP, Presence.AWAY):
                    self._attempt(
                        lambda: volunteer_set_presence(
                            volunteer=volunteer, presence=Presence.AVAILABLE
                        )
                    )
            return
        leg = SimCall.objects.get(sid=desk.leg)
        waiting = leg.waiting or {}
        if leg.ended:
            desk.leg, desk.connected_at, desk.recorded = "", 0.0, False
            desk.free_at = self.now() + 1
            return
        if waiting.get("kind") == "gather" and not leg.digits:
            self._attempt(lambda: self.network.press(leg.sid, "1"))
            return
        if waiting.get("kind") != "bridged":
            return
        if not desk.connected_at:
            desk.connected_at = self.now()
        if not desk.recorded:
            caller_sid = waiting.get("with", "")
            call = Call.objects.filter(provider_sid=caller_sid, volunteer_id=desk.volunteer_id)
            found = self._attempt(lambda: call.select_related("volunteer__user").first())
            if found is not None:
                people = [Person(alias=f"Fleet {caller_sid[-6:]}", organizations=frozenset(
                    {"party"}), region="")]  # fmt: skip
                user = found.volunteer.user
                made = self._attempt(
                    lambda: declaration_record(call=found, people=people, recorded_by=user)
                )
                if made:
                    self.acknowledged.extend(str(d.public_id) for d in made)
                    desk.recorded = True
        talk = 2.0
        if desk.recorded and self.now() - desk.connected_at > talk:
            self._attempt(lambda: self.network.hang_up(leg.sid))

    def run(self, faults: Callable[[Night], None]) -> None:
        from django.db import close_old_connections

        self.started = time.monotonic()
        thread = threading.Thread(target=faults, args=(self,), name="faults", daemon=True)
        thread.start()
        deadline = self.seconds + 120  # everyone placed, then time to finish their calls
        while self.now() < deadline:
            for caller in self.callers:
                self._attempt(partial(self._caller_step, caller))
            for desk in self.desks:
                self._attempt(partial(self._desk_step, desk))
            self._attempt(self.network.tick)
            close_old_connections()
            if self.now() > self.seconds and not thread.is_alive() and self._quiet():
                break
            time.sleep(0.2)
        thread.join(timeout=180)
        self.report.seconds = round(self.now(), 1)
        self.report.calls_arriving_until = round(max(c.at for c in self.callers), 1)

    def _quiet(self) -> bool:
        """Every caller done and no phone on the network still ringing or talking."""
        from tuidang.telephony.simulator.models import SimCall

        if not all(caller.done for caller in self.callers):
            return False
        return not SimCall.objects.exclude(status__in=SimCall.ENDED).exists()

    def verify_log(self) -> bool:
        """``tuidang verify-log`` against the fleet through its proxy, remembering the last
        checkpoint it saw, so that each run also checks consistency with the one before."""
        # The proxy takes a server back a second after it is ready again (rise 2).
        wait_for("the proxy", partial(_answers, self.fleet.proxy_port, 200), 30)
        # Early in the night no declaration may be published yet: an empty log has no
        # checkpoint to verify (404). The first batch is due within the interval.
        wait_for("a first checkpoint", partial(_has_checkpoint, self.fleet.proxy_port), 60)
        done, line = self._verify_log_once()
        ahead = _TOTAL_AHEAD.search(line)
        if done.returncode and ahead and int(ahead[1]) > int(ahead[2]):
            # A batch published whose checkpoint is not signed yet: the total is ahead of
            # the log for a moment, which the reader is told to look again after
            # (docs/transparency-log.md). Longer where the worker that was to sign it
            # died: its task is queued again once it counts as orphaned.
            self.report.verify_log_ahead.append(line)
            size = _checkpoint_size(self.fleet.proxy_port)
            wait_for(
                "a newer checkpoint",
                lambda: _checkpoint_size(self.fleet.proxy_port) > size,
                LOOK_AGAIN_SECONDS,
            )
            done, line = self._verify_log_once()
        self.report.verify_log.append(line)
        return done.returncode == 0

    def _verify_log_once(self) -> tuple[subprocess.CompletedProcess[str], str]:
        done = self.fleet.manage(
            "verify-log", "--url", self.fleet.base_url, "--state", str(self.state_file)
        )
        lines = (done.stdout + done.stderr).strip().splitlines()
        return done, lines[-1] if lines else f"exit {done.returncode}"


# `tuidang verify-log`'s words for a public total that is not what the log counts.
_TOTAL_AHEAD = re.compile(r"the public total is (\d+), the log counts (\d+)")
# Long enough for a task its dead worker left running to be queued again and run
# (TASKS_ORPHANED_AFTER_SECONDS is 10) and for the next batch's checkpoint.
LOOK_AGAIN_SECONDS = 60


# --- The faults --------------------------------------------------------------------------


def _observe(fleet: Fleet, record: dict[str, int], status_ok: Callable[[int], bool]) -> None:
    for server in fleet.servers:
        wait_for(server.name, partial(_answers, server.port, status_ok), 30)
        record[server.name] = readyz(server.port)


def faults(night: Night) -> None:
    """The four faults, each begun while calls still arrive, the log verified after each.
    The dependencies go first: an app server started again may take a while to be ready
    on a loaded machine, and /readyz is asked of both servers while each is down."""
    fleet = night.fleet
    report = night.report

    def at(fraction: float) -> None:
        while night.now() < night.seconds * fraction:
            time.sleep(0.1)

    def note(text: str) -> None:
        report.faults.append(f"{night.now():.0f} s: {text}")

    def window(fault: str, began: float) -> None:
        report.fault_windows.append(FaultWindow(fault, round(began, 1), round(night.now(), 1)))

    at(0.1)
    began = night.now()
    redis = Readiness("redis")
    fleet.redis.stop()
    note("Redis stopped")
    _observe(fleet, redis.down, lambda status: status == 503)
    fleet.redis.start()
    note("Redis started again")
    _observe(fleet, redis.up, lambda status: status == 200)
    window("Redis stopped and started again", began)
    report.readiness.append(redis)
    night.verify_log()

    at(0.25)
    began = night.now()
    postgres = Readiness("postgresql")
    fleet.postgres.stop()
    note("PostgreSQL stopped (pg_ctl stop -m fast)")
    _observe(fleet, postgres.down, lambda status: status == 503)
    fleet.postgres.start()
    note("PostgreSQL started again")
    _observe(fleet, postgres.up, lambda status: status == 200)
    window("PostgreSQL stopped and started again", began)
    report.readiness.append(postgres)
    night.verify_log()

    at(0.4)
    victim = fleet.servers[0]
    victim_began = night.now()
    victim.kill()
    note(f"{victim.name} killed (SIGKILL)")
    at(0.5)
    victim.start()
    note(f"{victim.name} starting again")

    at(0.55)
    worker = fleet.workers[0]
    worker_began = night.now()
    report.worker_killed_mid_task = _kill_mid_task(fleet, worker)
    note(f"{worker.name} killed (SIGKILL), mid-task: {report.worker_killed_mid_task}")
    night.verify_log()

    wait_for(victim.name, partial(_answers, victim.port, 200), 120)
    note(f"{victim.name} ready again")
    window(f"{victim.name} killed (SIGKILL) until ready again", victim_began)
    # The killed worker is not started again: one worker carries the rest of the night.
    report.fault_windows.append(
        FaultWindow(
            f"{worker.name} killed mid-task, one worker from then on",
            round(worker_began, 1),
            round(max(night.seconds, night.now()), 1),
        )
    )
    night.verify_log()


def _kill_mid_task(fleet: Fleet, worker: Node) -> bool:
    """SIGKILL ``worker`` the moment it is seen running a task (or, failing that within
    the time allowed, anyway); whether it was caught mid-task."""
    import psycopg

    worker_ids = fleet.worker_ids(worker)
    deadline = time.monotonic() + 30
    caught = False
    with contextlib.suppress(psycopg.Error), psycopg.connect(fleet.postgres.url) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT 1 FROM django_tasks_database_dbtaskresult"
                " WHERE status = 'RUNNING' AND worker_ids ?| %s LIMIT 1",
                (worker_ids,),
            ).fetchone()
            if row is not None:
                caught = True
                break
            time.sleep(0.005)
    worker.kill()
    return caught


# --- What is checked afterwards ----------------------------------------------------------

STUCK_CALL_STATES = ("ivr", "queued", "offered", "connected")


def settle_and_check(night: Night) -> None:
    """Give the fleet a moment to settle what it should, then count what it did not."""
    from django_tasks_db.models import DBTaskResult

    from tuidang.calls.models import Call, Offer, Voicemail
    from tuidang.declarations.models import Declaration
    from tuidang.volunteers.models import Presence, Volunteer

    report = night.report

    def unsettled() -> bool:
        return (
            Call.objects.filter(state__in=STUCK_CALL_STATES).exists()
            or Offer.objects.filter(state=Offer.State.PENDING).exists()
            or Voicemail.objects.filter(state=Voicemail.State.RECORDED).exists()
            # A task its dead worker left running is queued again some seconds later.
            or DBTaskResult.objects.filter(status="RUNNING").exists()
        )

    wait_for("settled", lambda: not unsettled(), 60)
    for call in Call.objects.filter(state__in=STUCK_CALL_STATES):
        report.stuck_calls.append(f"call {call.pk}: {call.state}")
    for offer in Offer.objects.filter(state=Offer.State.PENDING):
        rung = "its volunteer's phone rung" if offer.leg_sid else "never rung"
        report.stuck_offers.append(f"offer {offer.pk} for call {offer.call_id}: pending, {rung}")
    report.tasks_left_running = sorted(
        DBTaskResult.objects.filter(status="RUNNING").values_list("task_path", flat=True)
    )
    busy = Volunteer.objects.filter(presence__in=(Presence.RINGING, Presence.ON_CALL))
    for volunteer in busy:
        report.stuck_volunteers.append(f"{volunteer.user.username}: {volunteer.presence}")

    fates: dict[int, str] = {}  # each genuine caller's, by id(caller)
    for position, caller in enumerate(c for c in night.callers if c.genuine):
        calls = Call.objects.filter(provider_sid__in=caller.sids)
        if calls.filter(volunteer__isnull=False).exists():
            report.reached_volunteer += 1
            fates[id(caller)] = "reached_volunteer"
            continue
        voicemail = Voicemail.objects.filter(call__in=calls).first()
        if voicemail is None:
            report.lost.append(f"genuine caller {position}: {len(caller.sids)} calls")
            fates[id(caller)] = "lost"
            continue
        report.left_voicemail += 1
        fates[id(caller)] = "left_voicemail"
        if not all(_playable(voicemail, night.fleet.root / node) for node in _nodes(night)):
            report.voicemails_not_playable.append(f"genuine caller {position}")
    _count_fault_windows(night, fates)

    present = set(
        str(public_id)
        for public_id in Declaration.objects.filter(public_id__in=night.acknowledged).values_list(
            "public_id", flat=True
        )
    )
    report.declarations_acknowledged = len(night.acknowledged)
    report.declarations_missing = len(set(night.acknowledged) - present)


def _count_fault_windows(night: Night, fates: dict[int, str]) -> None:
    """For each fault, the callers whose calls were under way at some moment of it (from
    their first ring until they were done), and what became of the genuine ones."""
    for window in night.report.fault_windows:
        for caller in night.callers:
            if not caller.sids:
                continue
            ended = caller.ended_at or night.now()
            if caller.at > window.ended or ended < window.began:
                continue
            window.calls_placed += 1
            if caller.genuine:
                window.genuine += 1
                fate = fates.get(id(caller), "lost")
                setattr(window, fate, getattr(window, fate) + 1)


def _nodes(night: Night) -> list[str]:
    return [node.name for node in [*night.fleet.servers, *night.fleet.workers]]


def _playable(voicemail: Any, var_dir: Path) -> bool:
    """Whether the node whose VAR_DIR is ``var_dir`` opens the voicemail's recording."""
    from django.test import override_settings

    from tuidang.calls import recordings

    try:
        with override_settings(VAR_DIR=var_dir):
            return bool(recordings.load(voicemail))
    except Exception:
        return False


def checkpoint_caught_up(night: Night) -> None:
    """Wait (bounded) for the workers to publish every declaration and sign a checkpoint
    of the whole log; then verify it."""
    from tuidang.declarations.models import Declaration
    from tuidang.tlog.models import LogEntry, SignedCheckpoint

    def caught_up() -> bool:
        pending = Declaration.objects.filter(log_index__isnull=True).exists()
        latest = SignedCheckpoint.objects.order_by("-size").values_list("size", flat=True).first()
        return not pending and latest == LogEntry.objects.count()

    wait_for("checkpoint", caught_up, 45)
    night.report.verify_log_ok = night.verify_log()


@contextlib.contextmanager
def fleet_running(root: Path, *, publication_seconds: int) -> Iterator[Fleet]:
    fleet = Fleet(root, publication_seconds=publication_seconds)
    try:
        fleet.start()
        yield fleet
    finally:
        fleet.stop()


def run(
    *,
    genuine: int,
    hired: int,
    seconds: float,
    volunteers: int,
    seed: int = 2026,
    keep: bool = False,
) -> Report:
    """Start a fleet, run the night with its faults, check; the fleet is stopped after
    (and its folder, with every node's log, deleted unless ``keep``)."""
    root = Path(tempfile.mkdtemp(prefix="tuidang-fleet-"))
    try:
        with fleet_running(root, publication_seconds=3) as fleet:
            os.environ.update(fleet.env)
            import django

            django.setup()
            night = Night(fleet, genuine=genuine, hired=hired, seconds=seconds, seed=seed)
            night.setup(volunteers)
            night.run(faults)
            settle_and_check(night)
            checkpoint_caught_up(night)
            night.report.readyz_at_end = {
                server.name: readyz_failing(server.port) for server in fleet.servers
            }
            return night.report
    finally:
        if keep:
            print(f"The fleet's folder, with each node's log, is kept: {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genuine", type=int, default=8)
    parser.add_argument("--hired", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60, help="over which calls arrive")
    parser.add_argument("--volunteers", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the fleet's folder and logs")
    args = parser.parse_args(argv)
    report = run(
        genuine=args.genuine,
        hired=args.hired,
        seconds=args.seconds,
        volunteers=args.volunteers,
        keep=args.keep,
    )
    text = json.dumps(asdict(report), indent=2)
    if args.json:
        args.json.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
