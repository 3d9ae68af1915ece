"""Every step of a call with a year of history behind it, against an empty history.

For SQLite and PostgreSQL, each with an empty history and with a year (``tuidang
fill-history``: 2,000,000 calls by default; built once and kept under var/bench-year/ by
the generator's version), the hotline is served by `tuidang serve` and wrk replays, at 8
connections, the webhooks of a call's life in order: the incoming call, the language
choice, hold cycles, a key pressed on hold, and the status callback that ends the call;
each request names a call the step before created, in the state that step left it.
Rounds of each webhook alternate with rounds of the bare view (one SELECT, one INSERT),
after a first round of each, not counted, that warms every server thread up. Tasks are
queued in the database as in production, and no worker runs them during the rounds.

Then, on SQLite with the year: a night of hired callers (keys from the year, most of them
known, scored and blocked) with genuine callers among them, in two shapes: calls arriving
on a schedule (open loop), and 8 clients calling as fast as answers come (closed loop),
each genuine caller going through the menu, the queue and a hold cycle. And the cost of
300 desks polling once a second, from the server's processor time per poll.

Traffic goes to 127.0.0.1 only; every run is bounded in time or in calls.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from bench.common import (
    HOST,
    HOTLINE,
    PG_URL,
    PORT,
    PYTHON,
    ROOT,
    TELEPHONY,
    TELEPHONY_PORT,
    TOKEN,
    host_cap,
    machine,
    server_env,
    serving_defaults,
    signed_post,
    start_server,
    stolen_seconds,
    stop_server,
    update_docs,
)
from bench.webhook_bench import run_wrk

BASE = f"http://{HOST}:{PORT}"
WORK = ROOT / "var" / "bench-year"
MANAGE = [PYTHON, "-m", "tuidang.manage"]
VALIDATOR = RequestValidator(TOKEN)
CONNECTIONS = 8
# A round in which the host took less processor time than this from the machine (one
# tick of the kernel's clock on each core, 20 ms in all) is one it did not throttle.
UNTOUCHED_SECONDS = 0.025
# Genuine callers of a run dial from numbers no year holds.
GENUINE_BLOCK = 90_000_000
# A number that asks its callers how they heard of it (the how-heard menu).
ASKING_LINE = "+18005550101"
# Volunteers made available to take the calls of the volunteer's steps, each round.
TAKERS = 100


def generator_version() -> int:
    from tuidang.demo.history import VERSION

    return VERSION


def history_number(n: int) -> str:
    from tuidang.demo.history import history_number as number

    return number(n)


# --- Databases ----------------------------------------------------------------------


def run_manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([*MANAGE, *args], env=env, check=True, cwd=ROOT)


def add_hotline(env: dict[str, str]) -> None:
    """The hotline's number, and a second one that asks callers how they heard of it."""
    run_manage(
        env, "shell", "-c",
        "from tuidang.calls.models import HotlineNumber;"
        f"HotlineNumber.objects.get_or_create(e164='{HOTLINE}', "
        "defaults={'name': 'Banknotes', 'how_heard': 'banknotes'});"
        f"HotlineNumber.objects.get_or_create(e164='{ASKING_LINE}', "
        "defaults={'name': 'Leaflets', 'how_heard': 'unknown', 'ask_how_heard': True})",
    )  # fmt: skip


def fill(env: dict[str, str], args: argparse.Namespace) -> None:
    started = time.monotonic()
    run_manage(
        env, "fill-history", "--calls", str(args.calls), "--keys", str(args.keys),
        "--declarations", str(args.declarations), "--volunteers", "300",
    )  # fmt: skip
    print(f"year built in {time.monotonic() - started:.0f} s", flush=True)


def pg_admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True)


def sqlite_database(history: str, args: argparse.Namespace) -> str:
    """A working copy: of a fresh database, or of the year kept under var/bench-year/."""
    work = WORK / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{work}"
    env = server_env(url, WORK)
    if history == "empty":
        run_manage(env, "migrate", "-v", "0")
        add_hotline(env)
        return url
    kept = WORK / f"year-v{generator_version()}-{args.calls}.sqlite3"
    if not kept.exists():
        building = kept.with_suffix(".building")
        # A build cut short leaves its log too, which SQLite would replay into the new file.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        build_env = server_env(f"sqlite:///{building}", WORK)
        run_manage(build_env, "migrate", "-v", "0")
        add_hotline(build_env)
        fill(build_env, args)
        with sqlite3.connect(building) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        building.rename(kept)
    shutil.copyfile(kept, work)
    # Written to disk before it is served: a copy still in the page cache would be
    # written out by the server's first checkpoint, in a request's time.
    with work.open("rb+") as copy:
        os.fsync(copy.fileno())
    run_manage(env, "migrate", "-v", "0")  # migrations newer than the kept year
    return url


def postgres_database(history: str, args: argparse.Namespace) -> str:
    """A fresh database, or a copy of the year kept as a template database."""
    name = PG_URL.rsplit("/", 1)[1]
    template = f"{name}_year_v{generator_version()}_{args.calls}"
    # The year's caller keys and sealed fields are made with var/bench-year's secrets.
    marker = WORK / f"{template}.built"
    with pg_admin(PG_URL) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if history == "empty":
            admin.execute(f'CREATE DATABASE "{name}"')
        else:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [template]
            ).fetchone()
            if not exists or not marker.exists():
                admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
                admin.execute(f'CREATE DATABASE "{template}"')
                template_url = PG_URL.rsplit("/", 1)[0] + "/" + template
                build_env = server_env(template_url, WORK)
                run_manage(build_env, "migrate", "-v", "0")
                add_hotline(build_env)
                fill(build_env, args)
                marker.touch()
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    env = server_env(PG_URL, WORK)
    run_manage(env, "migrate", "-v", "0")
    if history == "empty":
        add_hotline(env)
    return PG_URL


def sql(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """One statement on the benchmark's database, outside the server (%s placeholders)."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as connection:
            return connection.execute(query.replace("%s", "?"), params).fetchall()
    import psycopg

    with psycopg.connect(url) as connection:
        cursor = connection.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def sids_in_state(url: str, state: str, sids: list[str]) -> list[str]:
    """Of ``sids``, the calls now in ``state``."""
    wanted = set(sids)
    query = "SELECT provider_sid FROM calls_call WHERE state = %s"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute(query.replace("%s", "?"), (state,)).fetchall()
    else:
        import psycopg

        with psycopg.connect(url) as connection:
            rows = connection.execute(query, (state,)).fetchall()
    return [sid for (sid,) in rows if sid in wanted]


# --- Requests -----------------------------------------------------------------------


def params_for(number: str, sid: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", "CallSid": sid,
        "CallStatus": "in-progress", "Direction": "inbound", "From": number, "Caller": number,
        "To": HOTLINE, "Called": HOTLINE, "FromCountry": "CN", "FromState": "", "FromCity": "",
        "FromZip": "", "ToCountry": "US", **extra,
    }  # fmt: skip


def write_signed(path: Path, items: list[tuple[str, dict[str, str]]]) -> None:
    """Requests of different paths and parameters, signed, for signed_requests.lua."""
    with path.open("w") as handle:
        for url_path, params in items:
            signature = VALIDATOR.compute_signature(TELEPHONY + url_path, params)
            handle.write(f"{url_path}\t{signature}\t{urlencode(params)}\n")


def write_requests(path: Path, url_path: str, calls: list[tuple[str, str]], **extra: str) -> None:
    url = TELEPHONY + url_path
    with path.open("w") as handle:
        for number, sid in calls:
            params = params_for(number, sid, **extra)
            signature = VALIDATOR.compute_signature(url, params)
            handle.write(f"{url_path}\t{signature}\t{urlencode(params)}\n")


def bare_requests(path: Path, count: int) -> None:
    calls = [
        (history_number(GENUINE_BLOCK + n), "CA" + secrets.token_hex(16)) for n in range(count)
    ]
    write_requests(path, "/bench/bare", calls)


# The steps of a call, in order: the webhook, its extra parameters, and the state the
# step before leaves the call in (None: new calls).
STEPS: list[tuple[str, str, dict[str, str], str | None]] = [
    ("incoming call", "/telephony/twilio/voice", {"CallStatus": "ringing"}, None),
    ("language", "/telephony/twilio/language", {"Digits": "1"}, "ivr"),
    ("hold cycle", "/telephony/twilio/wait", {}, "queued"),
    ("key on hold", "/telephony/twilio/wait-choice", {"Digits": "2"}, "queued"),
    ("status: hung up", "/telephony/twilio/status",
     {"CallStatus": "completed", "CallDuration": "40", "SequenceNumber": "1"}, "queued"),
]  # fmt: skip


def measured_round(
    server: subprocess.Popen[bytes], requests_file: Path, seconds: int
) -> dict[str, float]:
    """A round of wrk, and the processor time the server took for it: every process of
    `tuidang serve` (not wrk's, nor PostgreSQL's own). The machine's drift, which moves
    requests a second by a quarter from one minute to the next here, moves it less.
    And the processor time the host took from the machine meanwhile (`stolen_seconds`)."""
    before, stolen = server_cpu_seconds(server), stolen_seconds()
    result = run_wrk(requests_file, CONNECTIONS, seconds)
    return dict(
        result,
        cpu_seconds=server_cpu_seconds(server) - before,
        stolen_seconds=stolen_seconds() - stolen,
    )


def measure_call_path(
    label: str, history: str, url: str, args: argparse.Namespace, server: subprocess.Popen[bytes]
) -> list[dict[str, Any]]:
    """Each step of a call's life, in alternating rounds with the bare view."""
    # New calls enough for a round at 1,500 requests a second: the incoming call measured
    # is a caller's first request, not the provider's retry of one.
    count = 1500 * args.seconds
    rng = random.Random(14)  # noqa: S311 - reproducible callers, not a secret
    # Callers the year knows (an eighth of them hired keys, scored and many blocked),
    # as in a night; the empty history knows none of them.
    known = [history_number(rng.randrange(args.keys)) for _ in range(count * (args.rounds + 1))]
    rows = []
    rounds: dict[str, list[dict[str, float]]] = {}
    bare_file = WORK / "requests-bare.tsv"
    bare_requests(bare_file, count)
    # A first round, not counted, of 1 s a step: each server thread opens its database
    # and cache connections and runs each step's code once, as a server that has been up
    # for a while has (~150 ms the first time, which wrk's correction for the requests a
    # stall held back would spread over a whole round's p99).
    for index in range(args.rounds + 1):
        warming = index == 0
        seconds = 1 if warming else args.seconds
        calls = [(known.pop(), "CA" + secrets.token_hex(16)) for _ in range(count)]
        for name, path, extra, state in STEPS:
            if state is None:
                live = calls
            else:
                now_in_state = set(sids_in_state(url, state, [sid for _n, sid in calls]))
                live = [call for call in calls if call[1] in now_in_state]
            if not live:
                print(f"{label} {history}: no call left in state {state} for {name}", flush=True)
                continue
            requests_file = WORK / "requests-step.tsv"
            write_requests(requests_file, path, live, **extra)
            step = measured_round(server, requests_file, seconds)
            bare = measured_round(server, bare_file, seconds)
            if not warming:
                rounds.setdefault(name, []).append(step)
                rounds.setdefault("bare view", []).append(bare)
                rounds.setdefault(paired(name), []).append(bare)
            calls = live
    rows = summarise(label, history, rounds, ["bare view"] + [step[0] for step in STEPS])
    others = measure_other_steps(label, history, url, args, bare_file, server)
    # One bare-view row: its rounds with the call path's and with the other steps'.
    return rows + [row for row in others if row["endpoint"] != "bare view"]


# --- The other steps: how-heard, a volunteer's side, voicemail ------------------------


def drive(items: list[tuple[str, dict[str, str]]]) -> None:
    """Bring calls to a step's starting state (not measured)."""
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        list(pool.map(lambda item: post(*item), items))


def new_calls(count: int, first: int, line: str = HOTLINE) -> list[tuple[str, str]]:
    """Genuine callers, queued (or in the how-heard menu on the asking line)."""
    calls = [(history_number(GENUINE_BLOCK + first + k), "CA" + secrets.token_hex(16))
             for k in range(count)]  # fmt: skip
    drive([("/telephony/twilio/voice",
            dict(params_for(n, sid, CallStatus="ringing"), To=line, Called=line))
           for n, sid in calls])  # fmt: skip
    drive([("/telephony/twilio/language", dict(params_for(n, sid, Digits="1"), To=line))
           for n, sid in calls])  # fmt: skip
    return calls


def takers_available(url: str) -> None:
    """TAKERS volunteers of Mandarin available (the empty history makes them first)."""
    ids = [row[0] for row in sql(url,
           "SELECT DISTINCT volunteer_id FROM volunteers_volunteerlanguage WHERE language = %s "
           "ORDER BY volunteer_id LIMIT %s", ("cmn", TAKERS))]  # fmt: skip
    if len(ids) < TAKERS:
        run_manage(server_env(url, WORK), "shell", "-c",
                   "from tuidang.testing.personas import make_volunteer\n"
                   f"for k in range({TAKERS - len(ids)}): make_volunteer(f'taker{{k}}', ['cmn'])")  # fmt: skip
    sql(url, "UPDATE calls_offer SET state = 'canceled' WHERE state = 'pending'")
    sql(url, "UPDATE volunteers_volunteer SET presence = 'away' WHERE presence != 'away'")
    sql(url,
        "UPDATE volunteers_volunteer SET presence = 'available', presence_since = %s WHERE id IN "
        "(SELECT volunteer_id FROM volunteers_volunteerlanguage WHERE language = %s "
        " ORDER BY volunteer_id LIMIT %s)",
        (datetime.now(UTC) if not url.startswith("sqlite") else datetime.now(UTC).isoformat(" "),
         "cmn", TAKERS))  # fmt: skip


def offers_of(url: str, sids: list[str]) -> list[tuple[str, str, str]]:
    """The pending offers of these calls: (caller's CallSid, offer token as a UUID, the
    volunteer's leg). The leg is the one the task ringing the volunteer stored, if it ran:
    the bridge names the offer by it, and would not find one named by another."""
    wanted = set(sids)
    rows = sql(url, "SELECT c.provider_sid, o.token, o.leg_sid FROM calls_offer o "
                    "JOIN calls_call c ON c.id = o.call_id WHERE o.state = 'pending'")  # fmt: skip
    return [
        (sid, str(uuid.UUID(str(token))), leg or "CA" + secrets.token_hex(16))
        for sid, token, leg in rows
        if sid in wanted
    ]


OTHER_STEPS = ["how-heard", "offer answered", "offer: key pressed", "bridge",
               "queue exit: to voicemail", "voicemail recorded"]  # fmt: skip


def measure_other_steps(
    label: str,
    history: str,
    url: str,
    args: argparse.Namespace,
    bare_file: Path,
    server: subprocess.Popen[bytes],
) -> list[dict[str, Any]]:
    """The steps the call path above leaves out, each in alternating rounds with the bare
    view: the how-heard menu; a volunteer's side (the offer answered, its key pressed, the
    bridge); leaving the queue for voicemail and the message recorded. The calls are
    brought to each step's starting state before its round; a round that outlasts its
    calls replays them (as the provider retries: the same answer, nothing stored twice).
    The how-heard menu has new calls enough for 1,500 requests a second, as the call
    path's steps have: what it measures is a caller's answer, not the provider's retry.
    As on the call path, a first round of 1 s a step, not counted, runs each step's code
    once in every server thread (a volunteer's side, the voicemail) before the rounds."""
    rounds: dict[str, list[dict[str, float]]] = {}
    block = (
        5_000_000 + (0 if history == "empty" else 1_000_000) + (label == "PostgreSQL") * 2_000_000
    )
    step_file = WORK / "requests-other.tsv"

    def measured(name: str, items: list[tuple[str, dict[str, str]]]) -> None:
        if not items:
            print(f"{label} {history}: no call ready for {name}", flush=True)
            return
        write_signed(step_file, items)
        step = measured_round(server, step_file, seconds)
        bare = measured_round(server, bare_file, seconds)
        if not warming:
            rounds.setdefault(name, []).append(step)
            rounds.setdefault("bare view", []).append(bare)
            rounds.setdefault(paired(name), []).append(bare)

    for index in range(args.rounds + 1):
        warming = index == 0
        seconds = 1 if warming else args.seconds
        count, asked = 100 * seconds, 1500 * seconds
        first = block + index * 20_000
        asking = new_calls(asked, first + 10_000, ASKING_LINE)
        in_menu = set(sids_in_state(url, "ivr", [sid for _n, sid in asking]))
        measured("how-heard", [
            ("/telephony/twilio/how-heard",
             dict(params_for(n, sid, Digits="2"), To=ASKING_LINE, Called=ASKING_LINE))
            for n, sid in asking if sid in in_menu])  # fmt: skip
        drive([("/telephony/twilio/status", dict(params_for(n, sid, CallStatus="completed",
                CallDuration="5", SequenceNumber="1"), To=ASKING_LINE)) for n, sid in asking])  # fmt: skip
        # A volunteer's side: as many calls as volunteers ready, each offered to one. The
        # callers the rounds before left waiting hang up first: routing offers the longest
        # waiting, and those would take every volunteer before the new calls.
        now = (
            datetime.now(UTC) if not url.startswith("sqlite") else datetime.now(UTC).isoformat(" ")
        )
        sql(url, "UPDATE calls_call SET state = 'abandoned', ended_at = %s "
                 "WHERE state IN ('queued', 'offered')", (now,))  # fmt: skip
        takers_available(url)
        offered_calls = new_calls(TAKERS, first + 2_000)
        numbers = dict((sid, n) for n, sid in offered_calls)
        offers = offers_of(url, list(numbers))
        measured("offer answered", [
            (f"/telephony/twilio/offer/{token}", params_for(numbers[sid], leg, Direction="outbound-api"))
            for sid, token, leg in offers])  # fmt: skip
        measured("offer: key pressed", [
            (f"/telephony/twilio/offer/{token}/respond",
             params_for(numbers[sid], leg, Digits="1", Direction="outbound-api"))
            for sid, token, leg in offers])  # fmt: skip
        measured("bridge", [
            ("/telephony/twilio/bridge", params_for(numbers[sid], sid, DequeingCallSid=leg))
            for sid, _token, leg in offers])  # fmt: skip
        drive([("/telephony/twilio/status", params_for(n, sid, CallStatus="completed",
                CallDuration="30", SequenceNumber="1")) for n, sid in offered_calls])  # fmt: skip
        sql(url, "UPDATE volunteers_volunteer SET presence = 'away' WHERE presence != 'away'")
        # Leaving the queue for voicemail, and the message recorded.
        waiting = new_calls(count, first + 4_000)
        queued = set(sids_in_state(url, "queued", [sid for _n, sid in waiting]))
        measured("queue exit: to voicemail", [
            ("/telephony/twilio/queue-exit", params_for(n, sid, QueueResult="leave"))
            for n, sid in waiting if sid in queued])  # fmt: skip
        left = set(sids_in_state(url, "voicemail", [sid for _n, sid in waiting]))
        measured("voicemail recorded", [
            ("/telephony/twilio/voicemail", params_for(n, sid, RecordingSid="RE" + sid[2:],
             RecordingUrl=f"https://api.twilio.com/recordings/RE{sid[2:]}", RecordingDuration="20"))
            for n, sid in waiting if sid in left])  # fmt: skip
    return summarise(label, history, rounds, ["bare view", *OTHER_STEPS])


def paired(name: str) -> str:
    """Where a step's rounds of the bare view are kept: each the one right after one of
    the step's own rounds."""
    return f"{name}, its bare rounds"


def summarise(
    label: str, history: str, rounds: dict[str, list[dict[str, float]]], names: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        results = rounds.get(name, [])
        if not results:
            continue
        # The step's requests a second as a share of the bare view's in the rounds right
        # after its own: the machine's drift over a run's minutes moves both alike.
        bare = rounds.get(paired(name), [])
        share = rate(results) / rate(bare) if bare else 1.0
        untouched = [r["p99_ms"] for r in results if r["stolen_seconds"] < UNTOUCHED_SECONDS]
        row = {
            "database": label, "history": history, "endpoint": name,
            "rps": rate(results), "share": share,
            "p50_ms": statistics.median(r["p50_ms"] for r in results),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
            "errors": int(sum(r["errors"] for r in results)),
            "cpu_us": sum(r["cpu_seconds"] for r in results)
            / sum(r["requests"] for r in results) * 1e6,
            "stolen_ms": statistics.median(r["stolen_seconds"] for r in results) * 1000,
            "untouched_p99_ms": statistics.median(untouched) if untouched else None,
            "untouched_rounds": len(untouched),
            "rounds": len(results),
        }  # fmt: skip
        rows.append(row)
        each = ", ".join(
            f"{r['p99_ms']:.1f} ({r['stolen_seconds'] * 1000:.0f} ms taken)" for r in results
        )
        print(f"{label:10} {history:5} {name:16} {row['rps']:7.0f} req/s  p50 {row['p50_ms']:6.2f}"
              f"  p99 {row['p99_ms']:6.2f} (rounds: {each})  errors {row['errors']}",
              flush=True)  # fmt: skip
    return rows


def rate(results: list[dict[str, Any]]) -> float:
    """Requests a second over rounds of wrk."""
    return float(sum(r["requests"] for r in results) / sum(r["seconds"] for r in results))


# --- The night ----------------------------------------------------------------------


def post(path: str, params: dict[str, str]) -> tuple[int, str, float]:
    return signed_post(TELEPHONY + path, params)


def hired_call(number: str) -> dict[str, Any]:
    sid = "CA" + secrets.token_hex(16)
    status, _body, _ms = post(
        "/telephony/twilio/voice", params_for(number, sid, CallStatus="ringing")
    )
    post("/telephony/twilio/status",
         params_for(number, sid, CallStatus="completed", CallDuration="3", SequenceNumber="1"))  # fmt: skip
    return {"kind": "hired", "ok": status == 200}


def genuine_call(number: str) -> dict[str, Any]:
    """Menu, queue, a hold cycle, then hanging up."""
    sid = "CA" + secrets.token_hex(16)
    s1, b1, ms1 = post("/telephony/twilio/voice", params_for(number, sid, CallStatus="ringing"))
    s2, b2, ms2 = post("/telephony/twilio/language", params_for(number, sid, Digits="1"))
    s3, _b3, ms3 = post("/telephony/twilio/wait", params_for(number, sid))
    s4, _b4, ms4 = post("/telephony/twilio/status",
                        params_for(number, sid, CallStatus="completed", CallDuration="60",
                                   SequenceNumber="1"))  # fmt: skip
    queued = s1 == s2 == s3 == 200 and s4 == 204 and "<Gather" in b1 and "<Enqueue" in b2
    return {"kind": "genuine", "ok": queued, "latencies": [ms1, ms2, ms3, ms4]}


def night_plan(args: argparse.Namespace, seed: int) -> list[tuple[str, str]]:
    """Hired callers from the year's hired keys (each several times), genuine callers new."""
    from tuidang.demo.history import HIRED_KEYS

    rng = random.Random(seed)  # noqa: S311 - a reproducible order, not a secret
    hired = max(1, int(args.keys * HIRED_KEYS))
    plan = [("hired", history_number(rng.randrange(hired))) for _ in range(args.night_calls)]
    plan += [("genuine", history_number(GENUINE_BLOCK + seed * 10_000 + k))
             for k in range(args.night_calls // 10)]  # fmt: skip
    rng.shuffle(plan)
    return plan


def play(kind: str, number: str) -> dict[str, Any]:
    return (hired_call if kind == "hired" else genuine_call)(number)


def night(shape: str, args: argparse.Namespace) -> dict[str, Any]:
    plan = night_plan(args, seed=1 if shape == "open loop" else 2)
    started = time.perf_counter()
    if shape == "open loop":

        def place(item: tuple[int, tuple[str, str]]) -> dict[str, Any]:
            index, (kind, number) = item
            delay = started + index / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            return play(kind, number)

        with ThreadPoolExecutor(max_workers=64) as pool:
            results = list(pool.map(place, enumerate(plan)))
    else:
        with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
            results = list(pool.map(lambda item: play(*item), plan))
    elapsed = time.perf_counter() - started
    genuine = [r for r in results if r["kind"] == "genuine"]
    latencies = sorted(ms for r in genuine for ms in r["latencies"])
    result = {
        "shape": shape, "calls": len(plan), "seconds": elapsed,
        "reached": sum(1 for r in genuine if r["ok"]), "genuine": len(genuine),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)],
    }  # fmt: skip
    print(f"night, {shape}: {result}", flush=True)
    return result


# --- The desks ----------------------------------------------------------------------


def desk_session(env: dict[str, str]) -> str:
    """A logged-in volunteer of the year (the session cookie's value)."""
    output = subprocess.run(
        [*MANAGE, "shell", "-c",
         "from django.test import Client;"
         "from tuidang.volunteers.models import Volunteer, Role;"
         "v = Volunteer.objects.filter(role=Role.VOLUNTEER).order_by('pk').first();"
         "c = Client(); c.force_login(v.user); print('SESSION', c.cookies['sessionid'].value)"],
        env=env, check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout  # fmt: skip
    return next(line.split()[1] for line in output.splitlines() if line.startswith("SESSION"))


def _stats() -> dict[int, list[str]]:
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    return stats


def _family(server: subprocess.Popen[bytes], stats: dict[int, list[str]]) -> set[int]:
    """The server and every process it started, by parent."""
    family, grew = {server.pid}, True
    while grew:
        more = {pid for pid, fields in stats.items() if int(fields[1]) in family} - family
        family |= more
        grew = bool(more)
    return family


def server_cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """Processor time of the server and every process it started."""
    stats = _stats()
    # utime and stime, then cutime and cstime (children that have ended)
    ticks = sum(sum(int(v) for v in stats[pid][11:15]) for pid in _family(server, stats))
    return ticks / os.sysconf("SC_CLK_TCK")


def _port_answers(ports: tuple[int, int] = (PORT, TELEPHONY_PORT)) -> bool:
    """Whether either pool's port still answers."""
    for port in ports:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
        except OSError:
            continue
        return True
    return False


def stop_and_wait(
    server: subprocess.Popen[bytes], ports: tuple[int, int] = (PORT, TELEPHONY_PORT)
) -> None:
    """Stop the server, and wait until nothing answers on its port: a worker left behind
    would answer the next server's requests from the database before."""
    family = _family(server, _stats())
    stop_server(server)
    deadline = time.monotonic() + 10
    while _port_answers(ports) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in family - {server.pid}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _port_answers(ports):
        if time.monotonic() > deadline:
            raise RuntimeError("the server's port is still answering")
        time.sleep(0.2)


def desk_polling(
    env: dict[str, str], server: subprocess.Popen[bytes], seconds: int
) -> dict[str, Any]:
    """Polls of the desk's live panel at 8 connections, nothing changing (answered 204 with
    the token of the first answer; see desk/poll.py and bench/desk_poll_bench.py): the
    server's processor time per poll, and what 300 desks polling once a second would take
    of one core."""
    cookie = desk_session(env)
    # The token of the full answer: the polls after it, nothing having changed, get 204.
    token = requests.get(
        f"{BASE}/desk/live?call=", cookies={"sessionid": cookie}, timeout=10
    ).headers.get("X-Desk-State", "")
    lua = WORK / "desk_live.lua"
    lua.write_text(
        'wrk.method = "GET"\n'
        f'wrk.headers["Cookie"] = "sessionid={cookie}"\n'
        f'wrk.headers["X-Desk-State"] = "{token}"\n'
        "function done(summary, latency, requests)\n"
        '  io.write(string.format("RESULT %d %.3f %d %d\\n", summary.requests,\n'
        "    summary.duration / 1e6, latency:percentile(99), summary.errors.status))\n"
        "end\n"
    )
    command = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "-s", str(lua),
               f"{BASE}/desk/live?call="]  # fmt: skip
    before = server_cpu_seconds(server)
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    cpu = server_cpu_seconds(server) - before
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    polls, elapsed, p99_us, errors = line.split()[1:]
    per_poll_ms = cpu / int(polls) * 1000
    result = {
        "polls": int(polls), "rps": int(polls) / float(elapsed), "p99_ms": int(p99_us) / 1000,
        "errors": int(errors), "cpu_ms_per_poll": per_poll_ms,
        "share_of_a_core_for_300": per_poll_ms * 300 / 1000,
    }  # fmt: skip
    print(f"desk polling: {result}", flush=True)
    return result


# --- The run ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2_000_000, help="the year's calls")
    parser.add_argument("--keys", type=int, default=500_000, help="the year's caller keys")
    parser.add_argument("--declarations", type=int, default=500_000)
    parser.add_argument("--seconds", type=int, default=3, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--night-calls", type=int, default=3000, help="hired calls a night")
    parser.add_argument("--rate", type=float, default=100, help="open loop: calls a second")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    # One run at a time: each history is a fresh copy at the same path, and a second run
    # would replace the copy (and delete its log) under the first one's server.
    running = (WORK / "run.lock").open("w")
    try:
        fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"Another run of the year's bench is using {WORK}: wait for it.") from None
    env = server_env(f"sqlite:///{WORK / 'bench.sqlite3'}", WORK)
    # The generator's numbers and version, read from it (no database is opened here).
    os.environ.update(DJANGO_SETTINGS_MODULE="bench.settings", VAR_DIR=str(WORK))
    import django

    django.setup()
    run_manage(env, "migrate", "-v", "0", "--database", "phone_network")
    workers, threads = serving_defaults()
    databases = [("SQLite", sqlite_database)]
    if not args.skip_postgres:
        databases.append(("PostgreSQL", postgres_database))
    load = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    nights: list[dict[str, Any]] = []
    desks: dict[str, Any] = {}
    for label, prepare in databases:
        for history in ("empty", "year"):
            url = prepare(history, args)
            # Tasks queued as in production, where the worker runs them: a webhook's
            # answer never waits for one (a volunteer rung, a recording fetched). None
            # runs during the rounds, which measure the webhooks alone.
            served_env = dict(server_env(url, WORK), TASKS_BACKEND="database")
            server = start_server(served_env, workers, threads)
            try:
                rows += measure_call_path(label, history, url, args, server)
                if label == "SQLite" and history == "year":
                    nights = [night("open loop", args), night("closed loop", args)]
                    desks = desk_polling(server_env(url, WORK), server, args.seconds * 2)
            finally:
                stop_and_wait(server)
    # After the rounds: on a host that grants the machine a budget of processor time,
    # six seconds of every core busy before them would spend it.
    cap = host_cap()
    print(f"The host's cap: {cap}", flush=True)
    report = render(rows, nights, desks, args, f"{workers} × {threads}", load, cap)
    print(report)
    if args.write_docs:
        update_docs("year-bench", report)


def render(
    rows: list[dict[str, Any]],
    nights: list[dict[str, Any]],
    desks: dict[str, Any],
    args: argparse.Namespace,
    shape: str,
    load: float,
    cap: dict[str, float],
) -> str:
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; load average "
        f"{load:.1f} at the start (the machine is shared); the host's cap, after the rounds: "
        f"with every core busy for {cap['seconds']:.0f} s, the machine was stopped {cap['stops']:.0f} times "
        f"(the longest {cap['longest_ms']:.0f} ms) and the host took "
        f"{cap['stolen_seconds']:.2f} s of processor time; `tuidang serve` {shape}; "
        f"the year: {args.calls:,} calls, {args.keys:,} caller keys, "
        f"{args.declarations:,} declarations; wrk at {CONNECTIONS} connections, "
        f"{args.rounds} rounds of {args.seconds} s per webhook, alternating with the bare view.",
        "",
        "| database | history | webhook | req/s | p50 ms | p99 ms | errors | ÷ bare (its rounds) "
        "| year ÷ empty (as shares of the bare view in its rounds) | server µs a request "
        "| year ÷ empty by server time | host's take ms a round "
        "| p99 ms of rounds the host took nothing from |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    index = {(r["database"], r["history"], r["endpoint"]): r for r in rows}
    for r in rows:
        empty = index.get((r["database"], "empty", r["endpoint"]))
        to_bare = f"{r['share']:.0%}" if r["endpoint"] != "bare view" else ""
        to_empty = by_time = ""
        if empty and r["history"] == "year":
            # Each against the bare view in its own rounds: the two runs, and the minutes
            # of one run, meet different loads.
            to_empty = f"{r['rps'] / empty['rps']:.2f} ({r['share'] / empty['share']:.2f})"
            # As requests a second are: the empty history's time for one over the year's.
            by_time = f"{empty['cpu_us'] / r['cpu_us']:.2f}"
        lines.append(
            f"| {r['database']} | {r['history']} | {r['endpoint']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {to_bare} | {to_empty} "
            f"| {r['cpu_us']:.0f} | {by_time} | {r['stolen_ms']:.0f} | {_untouched(r)} |"
        )
    if nights:
        lines += [
            "",
            "A night of hired callers (the year's hired keys) with genuine callers among them, "
            "on SQLite with the year; genuine callers' latency across all their webhooks "
            "(incoming call, language, a hold cycle, hanging up):",
            "",
            "| shape | calls | seconds | genuine callers who reached a queue | p50 ms | p99 ms |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for n in nights:
            shape_text = (
                f"open loop, {args.rate:.0f} calls a second"
                if n["shape"] == "open loop"
                else f"closed loop, {CONNECTIONS} clients"
            )
            lines.append(
                f"| {shape_text} | {n['calls']} | {n['seconds']:.0f} | {n['reached']} of "
                f"{n['genuine']} | {n['p50_ms']:.1f} | {n['p99_ms']:.1f} |"
            )
    if desks:
        lines += [
            "",
            f"The desk's live panel polled at {CONNECTIONS} connections on SQLite with the year, "
            "nothing changing (answered 204 with its token): "
            f"{desks['rps']:.0f} polls/s, p99 {desks['p99_ms']:.1f} ms, "
            f"{desks['cpu_ms_per_poll']:.2f} ms of the server's processor time per poll: "
            f"300 desks polling once a second take {desks['share_of_a_core_for_300']:.0%} "
            "of one core.",
        ]
    return "\n".join(lines)


def _untouched(row: dict[str, Any]) -> str:
    """The median p99 of the rounds the host took nothing from, and how many those were."""
    if row["untouched_p99_ms"] is None:
        return f"none of {row['rounds']}"
    return f"{row['untouched_p99_ms']:.2f} ({row['untouched_rounds']} of {row['rounds']})"


if __name__ == "__main__":
    main()
