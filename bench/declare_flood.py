"""A flood of the declaration form over HTTP, at rising rates, with real declarants in it.

`tuidang serve` on a free port of 127.0.0.1, on a fresh SQLite database, behind a
pretend proxy (TRUSTED_PROXY_COUNT=1: the bench says each post's address in
X-Forwarded-For). Each phase lasts SECONDS. The flood posts at its rate from BOTS
addresses, each post a form of its own with its proof of work solved, as a script would;
the forms are fetched and solved ahead, in a pool, before the phase (this client, on the
server's two cores, could not solve 100 a second and post them too: a real flood solves
on its own machines). A real declarant a second, from an address of their own, does what
a browser does during the phase: fetches the form, solves it, posts it. Bounded: the
phases end, and so does the bench.

It reports, per phase, the rate the flood was really sent at, its posts accepted and
refused, its statements held, and the real declarants' answers and p99 (the form's page
and the post). Then it checks in the database that every real declarant accepted is
stored and, once published, counted; that the flood's statements accepted in a flood are
held; and fails otherwise.

`make bench` runs it with its defaults; try `--seconds 2 --rates 2,5` while working.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.common import (
    HOST,
    PYTHON,
    ROOT,
    fresh_sqlite,
    machine,
    prepare_database,
    server_env,
    update_docs,
)
from tuidang.testing.declaring import solved_work

WORK = ROOT / "var" / "bench-declare-flood"
BOTS = 20
BOT_THREADS = 64
POOL_THREADS = 8
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CHALLENGE = re.compile(r'<script id="work-challenge" type="application/json">(.*?)</script>')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def fetch_form(base: str, address: str) -> tuple[dict[str, str], dict[str, str], float]:
    """A form fetched and solved as a browser would: its cookies (the CSRF cookie), its
    hidden fields, and the seconds the page took to come."""
    with requests.Session() as session:
        start = time.perf_counter()
        page = session.get(f"{base}/declare", headers={"X-Forwarded-For": address}, timeout=30)
        took = time.perf_counter() - start
        cookies = session.cookies.get_dict()
    token = TOKEN.search(page.text)
    challenge_text = CHALLENGE.search(page.text)
    if token is None or challenge_text is None:
        raise RuntimeError(f"no form in the page ({page.status_code})")
    hidden = {
        "csrfmiddlewaretoken": cookies.get("csrftoken", ""),
        "token": token.group(1),
        "work": solved_work(json.loads(challenge_text.group(1))),
    }
    return cookies, hidden, took


_sessions = threading.local()


def post_form(
    base: str, cookies: dict[str, str], hidden: dict[str, str], address: str, alias: str
) -> tuple[int, float]:
    """Post a fetched form for one person with a statement, on this thread's connection;
    (status, seconds), status 0 when no answer came."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
    session.cookies.clear()
    data = {
        **hidden,
        "you-alias": alias,
        "you-organizations": "party",
        "you-region": "CN-GD",
        "you-statement": "我退出。",
        "you-consent": "on",
    }
    headers = {"X-Forwarded-For": address, "Referer": f"{base}/declare"}
    start = time.perf_counter()
    try:
        response = session.post(
            f"{base}/declare", data=data, headers=headers, cookies=cookies, timeout=30
        )
    except requests.RequestException:
        return 0, time.perf_counter() - start
    return response.status_code, time.perf_counter() - start


def bot_address(n: int) -> str:
    return f"192.0.2.{n % BOTS + 1}"


def pool_of_forms(base: str, count: int) -> list[tuple[dict[str, str], dict[str, str]]]:
    """``count`` forms fetched and solved ahead, from the flood's addresses."""

    def one(n: int) -> tuple[dict[str, str], dict[str, str]]:
        cookies, hidden, _ = fetch_form(base, bot_address(n))
        return cookies, hidden

    with ThreadPoolExecutor(max_workers=POOL_THREADS) as pool:
        return list(pool.map(one, range(count)))


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0


def phase(base: str, rate: int, seconds: int, offset: int) -> dict[str, Any]:
    """The flood at ``rate`` posts a second and one real declarant a second."""
    forms = pool_of_forms(base, rate * seconds)
    bots: list[tuple[int, float, float]] = []  # status, when sent, seconds
    real: list[tuple[int, float, float]] = []  # status, page's seconds, post's seconds
    lock = threading.Lock()

    def flood(n: int) -> None:
        cookies, hidden = forms[n]
        sent = time.monotonic()
        status, took = post_form(base, cookies, hidden, bot_address(n), f"bot-{rate}-{n}")
        with lock:
            bots.append((status, sent, took))

    def declarant(number: int) -> None:
        address = f"10.{number // 250}.{number % 250}.1"
        try:
            cookies, hidden, page = fetch_form(base, address)
        except (requests.RequestException, RuntimeError):
            with lock:
                real.append((0, 30.0, 0.0))
            return
        status, took = post_form(base, cookies, hidden, address, f"real-{number}")
        with lock:
            real.append((status, page, took))

    # The real declarants have a pool of their own: none waits behind the flood here.
    with (
        ThreadPoolExecutor(max_workers=BOT_THREADS) as bot_pool,
        ThreadPoolExecutor(max_workers=4) as real_pool,
    ):
        start = time.monotonic()
        for n in range(rate * seconds):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            bot_pool.submit(flood, n)
            if n % rate == 0:
                real_pool.submit(declarant, offset + n // rate)
    sent = sorted(when for _, when, _ in bots)
    span = sent[-1] - sent[0] if len(sent) > 1 else 0.0
    return {
        "rate": rate,
        "sent_rate": (len(sent) - 1) / span if span else 0.0,
        "bot_accepted": sum(status == 201 for status, _, _ in bots),
        "bot_refused": sum(status == 429 for status, _, _ in bots),
        "bot_p99_ms": p99([took for _, _, took in bots]),
        "real_accepted": sum(status == 201 for status, _, _ in real),
        "real_posted": len(real),
        "real_page_p99_ms": p99([page for _, page, _ in real]),
        "real_p99_ms": p99([took for _, _, took in real]),
    }


# Run in the bench's database once the server has stopped: what was stored, counted
# (published, as the worker does on the hour) and held, by phase (the rate in the alias).
CHECK = """
import json
from collections import Counter
from tuidang.declarations.models import Declaration, Statement
from tuidang.declarations.selectors import public_totals
from tuidang.testing.publication import publish
publish()
real = stored = counted = 0
held = Counter()
accepted = Counter()
statuses = dict(Statement.objects.values_list("declaration_id", "status"))
for d in Declaration.objects.all():
    if d.alias.startswith("real-"):
        stored += 1
        counted += d.log_index is not None
    elif d.alias.startswith("bot-"):
        rate = d.alias.split("-")[1]
        accepted[rate] += 1
        held[rate] += statuses.get(d.pk) == "held"
print("CHECK", json.dumps({
    "real_stored": stored, "real_counted": counted, "total": public_totals().total,
    "declarations": Declaration.objects.count(), "held": held, "accepted": accepted,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per phase")
    parser.add_argument("--rates", default="5,20,60,100", help="flood posts a second, per phase")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    url = fresh_sqlite(WORK)
    env = server_env(url, WORK)
    # The bench plays the proxy; a light proof of work, so that the real declarants'
    # solving on this machine takes little of the server's processor (a browser solves
    # on its own). Counters in the database, as on a single server without Redis.
    env.update(
        TRUSTED_PROXY_COUNT="1", ONLINE_WORK="2000", ONLINE_WORK_IN_FLOOD="4000", REDIS_URL=""
    )
    prepare_database(url, env)
    port = free_port()
    base = f"http://{HOST}:{port}"
    server = subprocess.Popen(
        [PYTHON, "-m", "tuidang.manage", "serve", "--no-worker", "--host", HOST, "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/declare", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        rows = []
        offset = 0
        for rate in rates:
            rows.append(phase(base, rate, args.seconds, offset))
            offset += args.seconds + 1
            print(rows[-1], flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    output = subprocess.run(
        [PYTHON, "-m", "tuidang.manage", "shell", "-c", CHECK],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    check = json.loads(next(line for line in output.splitlines() if line.startswith("CHECK"))[6:])
    real_accepted = sum(row["real_accepted"] for row in rows)
    lines = [
        f"{machine()}; `tuidang serve` on SQLite; phases of {args.seconds} s; the flood from "
        f"{BOTS} addresses, each post a form of its own, fetched and its proof of work solved "
        "ahead in a pool before the phase; one real declarant a second, each from an address "
        "of their own, fetching the form, solving it and posting it during the phase.",
        "",
        "| flood posts/s asked | sent/s | flood accepted | flood refused (429) | "
        "flood statements held | flood p99 ms | real declarants accepted | "
        "real: form page p99 ms | real: post p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        rate = str(row["rate"])
        lines.append(
            f"| {row['rate']} | {row['sent_rate']:.0f} | {row['bot_accepted']} | "
            f"{row['bot_refused']} | {check['held'].get(rate, 0)} of "
            f"{check['accepted'].get(rate, 0)} | {row['bot_p99_ms']:.0f} | "
            f"{row['real_accepted']} of {row['real_posted']} | {row['real_page_p99_ms']:.0f} | "
            f"{row['real_p99_ms']:.0f} |"
        )
    lines += [
        "",
        f"Real declarants stored: {check['real_stored']} of {real_accepted} accepted; "
        f"counted once published: {check['real_counted']}. Public total "
        f"{check['total']} for {check['declarations']} declarations stored.",
    ]
    report = "\n".join(lines)
    print(report)
    failures = []
    if check["real_stored"] != real_accepted or check["real_counted"] != real_accepted:
        failures.append("a real declarant accepted was not stored and counted")
    if check["total"] != check["declarations"]:
        failures.append("the public total is not the declarations stored")
    if any(row["real_accepted"] != row["real_posted"] for row in rows):
        failures.append("a real declarant was refused")
    if failures:
        raise SystemExit("; ".join(failures))
    if args.write_docs:
        update_docs("declare-flood-bench", report)


if __name__ == "__main__":
    main()
