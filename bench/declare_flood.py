"""A flood of the declaration form over HTTP, at rising rates, with real declarants in it.

`tuidang serve` on a free port of 127.0.0.1, on a fresh SQLite database, behind a
pretend proxy (TRUSTED_PROXY_COUNT=1: the bench says each post's address in
X-Forwarded-For). Each phase lasts SECONDS: the flood posts at its rate from BOTS
addresses, each post a fresh form whose proof of work it solves, as a script would; a
real declarant posts once a second from an address of their own. Bounded: the phases
end, and so does the bench. It reports, per phase, the flood's posts accepted and refused
and the real declarants' answers and p99; then checks in the database that every real
declarant accepted is stored.

`make bench` runs it with its defaults; try `--seconds 2 --rates 2,5` while working.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from altcha.v1 import Payload, solve_challenge

from bench.common import HOST, PYTHON, ROOT, machine, prepare_database, server_env, update_docs

WORK = ROOT / "var" / "bench-declare-flood"
BOTS = 20
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CHALLENGE = re.compile(r'<script id="work-challenge" type="application/json">(.*?)</script>')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def solved_work(challenge: dict[str, Any]) -> str:
    """The form's ``work`` field as the page's script fills it: the challenge solved."""
    solution = solve_challenge(
        challenge["challenge"], salt=challenge["salt"], max_number=challenge["maxNumber"]
    )
    assert solution is not None
    return str(
        Payload(
            "SHA-256",
            challenge["challenge"],
            solution.number,
            challenge["salt"],
            challenge["signature"],
        ).to_base64()
    )


def post_form(base: str, address: str, alias: str) -> tuple[int, float]:
    """Fetch a form, solve its proof of work, post it; (status, seconds for the post)."""
    import json

    session = requests.Session()
    headers = {"X-Forwarded-For": address}
    page = session.get(f"{base}/declare", headers=headers, timeout=30)
    token = TOKEN.search(page.text)
    challenge_text = CHALLENGE.search(page.text)
    if token is None or challenge_text is None:
        raise RuntimeError(f"no form in the page ({page.status_code})")
    work = solved_work(json.loads(challenge_text.group(1)))
    data = {
        "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        "token": token.group(1),
        "work": work,
        "you-alias": alias,
        "you-organizations": "party",
        "you-region": "CN-GD",
        "you-statement": "我退出。",
        "you-consent": "on",
    }
    start = time.perf_counter()
    response = session.post(
        f"{base}/declare", data=data, headers={**headers, "Referer": f"{base}/declare"}, timeout=30
    )
    return response.status_code, time.perf_counter() - start


def phase(base: str, rate: int, seconds: int, offset: int) -> dict[str, Any]:
    """The flood at ``rate`` posts a second and one real declarant a second."""
    results: dict[str, list[Any]] = {"bot": [], "real": []}
    lock = threading.Lock()

    def run(kind: str, address: str, alias: str) -> None:
        outcome = post_form(base, address, alias)
        with lock:
            results[kind].append(outcome)

    with ThreadPoolExecutor(max_workers=16) as pool:
        start = time.monotonic()
        for n in range(rate * seconds):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            pool.submit(run, "bot", f"192.0.2.{n % BOTS + 1}", f"bot-{rate}-{n}")
            if n % rate == 0:
                real = offset + n // rate
                pool.submit(run, "real", f"10.{real // 250}.{real % 250}.1", f"real-{real}")
    real_times = sorted(t for _, t in results["real"])
    return {
        "rate": rate,
        "bot_accepted": sum(status == 201 for status, _ in results["bot"]),
        "bot_refused": sum(status == 429 for status, _ in results["bot"]),
        "real_accepted": sum(status == 201 for status, _ in results["real"]),
        "real_posted": len(results["real"]),
        "real_p99_ms": real_times[int(len(real_times) * 0.99) - 1] * 1000 if real_times else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per phase")
    parser.add_argument("--rates", default="5,20,60", help="flood posts a second, per phase")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    database = WORK / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    env = server_env(f"sqlite:///{database}", WORK)
    # The bench plays the proxy; a light proof of work, so that the bench's own solving
    # does not take the server's processor (a real flood solves on its own machines).
    env.update(TRUSTED_PROXY_COUNT="1", ONLINE_WORK="2000", ONLINE_WORK_IN_FLOOD="4000")
    prepare_database(f"sqlite:///{database}", env)
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
        import os
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    stored = subprocess.run(
        [PYTHON, "-m", "tuidang.manage", "shell", "-c",
         "from tuidang.declarations.models import Declaration;"
         "print('STORED', sum(d.alias.startswith('real-') for d in Declaration.objects.all()))"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    real_stored = int(
        next(line for line in stored.splitlines() if line.startswith("STORED")).split()[1]
    )
    real_accepted = sum(row["real_accepted"] for row in rows)
    lines = [
        f"{machine()}; `tuidang serve` on SQLite; phases of {args.seconds} s; the flood from "
        f"{BOTS} addresses, each post a fresh form with its proof of work solved; one real "
        "declarant a second, each from an address of their own.",
        "",
        "| flood posts/s | flood accepted | flood refused (429) | real declarants accepted | real p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for row in rows:
        lines.append(
            f"| {row['rate']} | {row['bot_accepted']} | {row['bot_refused']} | "
            f"{row['real_accepted']} of {row['real_posted']} | {row['real_p99_ms']:.0f} |"
        )
    lines += ["", f"Real declarants stored: {real_stored} of {real_accepted} accepted."]
    report = "\n".join(lines)
    print(report)
    if real_stored != real_accepted:
        raise SystemExit("a real declarant accepted was not stored")
    if args.write_docs:
        update_docs("declare-flood-bench", report)


if __name__ == "__main__":
    main()
