"""Load of a classroom game: a teacher and N students over HTTP against a real server.

The server (``alignment-sim-class``'s app, uvicorn) runs in its own process on 127.0.0.1,
so its CPU time is measured apart from the simulated class (``/proc/<pid>/stat``: user +
system time). The class joins (teams of ``ceil(N / 11)``, at least the game's default),
then the teacher starts the clock. Each simulated page behaves as the real one does: one
kept-alive connection, ``/api/state?since=V&wait=20`` (the teacher:
``/api/teacher?since=V&wait=20``, and the map whenever ``map_version`` moves), at least
1.5 s between two polls. Each student votes once a round at a random moment of it (and
may change their mind once); about one student in ten forgets a round, so most rounds
run their full length, as in class. A round closes when every student has voted or its
time is up. Per round the server's CPU is measured from the round's opening to the
next one's (the round's close, the model's ticks, included).

A solo Step's server time is also measured in this process: one ``ClassroomModel.step``,
the map (``classroom.mapview.map_svg``) and ``explain`` for one state.

    python benchmarks/classroom_load.py [--students 30] [--rounds 3] [--round-seconds 60]
    python benchmarks/classroom_load.py --quick      # 2 rounds of 20 s, under 2 minutes
    python benchmarks/classroom_load.py --hold 0     # plain polling every 1.5 s, to compare

The last line is a JSON object with ``students``, ``server_cpu_s_per_round`` (the mean
over the rounds) and ``solo_step_server_s`` (targets, issue 13: <= 0.5 s and <= 0.2 s).
The server's log (stderr) goes to a temporary file; its errors are counted and printed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
GAP_S = 1.5
"""Least time between two polls of a page, seconds (as ``static/*.js``)."""
STATES = 11
FORGET = 0.1
"""Chance that a student does not vote in a round."""
CHANGE_MIND = 0.2
"""Chance that a student votes a second time in a round."""

SERVER = """
import sys
from alignment_sim.classroom.game.server import start_game_server
from alignment_sim.classroom.game.session import GameSession
session = GameSession(rounds={rounds}, ticks_per_round={ticks}, round_seconds={seconds},
                      team_size={team_size}, paused=True)
url, stop = start_game_server(session, "127.0.0.1", 0)
print(url, flush=True)
sys.stdin.read()
stop()
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Page:
    """One browser page: a kept-alive connection to the server and a request counter."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.requests = 0

    def call(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in range(2):
            try:
                self.connection.request(
                    "GET" if data is None else "POST", path, body=data, headers=headers
                )
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        self.requests += 1
        kind = response.headers.get_content_type()
        return json.loads(payload) if kind == "application/json" else payload


def student(
    pages: tuple[Page, Page],
    name: str,
    seconds: float,
    hold: float,
    seed: int,
    stop: threading.Event,
) -> None:
    """Join, then poll as the page does (``pages[0]``); a second thread votes once per
    round at a random moment (maybe twice, maybe not at all) on its own connection
    (``pages[1]``), as a browser sends a tap while a poll is held."""
    rng = random.Random(seed)
    token = pages[0].call("/api/join", {"name": name})["token"]
    lock = threading.Lock()
    shared: dict[str, Any] = {"state": {}, "plan": []}

    def voter() -> None:
        while not stop.wait(0.2):
            with lock:
                plan, state = shared["plan"], shared["state"]
                due = bool(plan) and time.monotonic() >= plan[0]
                if due:
                    plan.pop(0)
            if due:
                security = rng.choice([o["value"] for o in state["options"]["security"]])
                economy = rng.choice([o["value"] for o in state["options"]["economy"]])
                vote = {"token": token, "security": security, "economy": economy}
                pages[1].call("/api/submit", vote)

    threading.Thread(target=voter, daemon=True).start()
    version: int | None = None
    planned_round = 0
    while not stop.is_set():
        started = time.monotonic()
        since = "" if version is None else f"&since={version}&wait={hold}"
        answer = pages[0].call(f"/api/state?token={token}{since}")
        version = answer["version"]
        if not answer.get("unchanged"):
            state = answer
            if state["closed"]:
                return
            with lock:
                shared["state"] = state
                if not state["paused"] and state["round"] != planned_round:
                    planned_round = state["round"]
                    plan = [] if rng.random() < FORGET else [rng.uniform(1.0, 0.9 * seconds)]
                    if plan and rng.random() < CHANGE_MIND:
                        plan.append(rng.uniform(plan[0], 0.95 * seconds))
                    shared["plan"] = [started + t for t in plan]
        stop.wait(max(0.0, GAP_S - (time.monotonic() - started)))


def teacher(
    page: Page, key: str, hold: float, stop: threading.Event, opened: list[tuple[int, float]]
) -> None:
    """Poll the dashboard as its page does, fetch the map when it changed, and note
    (round, time) whenever a round opens (round -1: the game ended)."""
    version: int | None = None
    map_version, seen_round = None, 0
    while not stop.is_set():
        started = time.monotonic()
        since = "" if version is None else f"&since={version}&wait={hold}"
        view = page.call(f"/api/teacher?key={key}{since}")
        version = view["version"]
        if not view.get("unchanged"):
            if view["map_version"] != map_version:
                page.call("/map.svg?large=1")
                map_version = view["map_version"]
            if view["closed"]:
                opened.append((-1, time.monotonic()))
                return
            if view["round"] != seen_round and not view["paused"]:
                opened.append((view["round"], time.monotonic()))
                seen_round = view["round"]
        stop.wait(max(0.0, GAP_S - (time.monotonic() - started)))


def solo_step_seconds(repeats: int) -> float:
    """Median CPU time of a solo Step as the server does it: a tick, the map, one
    explanation."""
    from alignment_sim.classroom.explain import explain
    from alignment_sim.classroom.game.server import draw_map
    from alignment_sim.classroom.game.session import GameSession

    session = GameSession(rounds=repeats + 1, ticks_per_round=1)
    model = session.model
    draw_map(session, "uzbekistan", False)  # imports and caches, as a running server has
    times = []
    for _ in range(repeats):
        start = time.process_time()
        model.step()
        draw_map(session, "uzbekistan", False)
        explain(model, "uzbekistan")
        times.append(time.process_time() - start)
    return statistics.median(times)


def run_game(
    students: int, rounds: int, seconds: float, hold: float, seed: int, log_path: Path
) -> dict[str, Any]:
    """One game under load: the per-round server CPU and wall times, requests, errors."""
    team_size = max(math.ceil(students / STATES), 1)
    code = SERVER.format(rounds=rounds, ticks=4, seconds=seconds, team_size=team_size)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        assert process.stdout is not None
        teacher_url = process.stdout.readline().strip()
        base, key = teacher_url.split("/?key=")
        stop = threading.Event()
        opened: list[tuple[int, float]] = []
        pages = [Page(base) for _ in range(2 * students + 1)]
        threads = [
            threading.Thread(
                target=student,
                args=(
                    (pages[2 * n], pages[2 * n + 1]),
                    f"Student {n}",
                    seconds,
                    hold,
                    seed * 1000 + n,
                    stop,
                ),
                daemon=True,
            )
            for n in range(students)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while pages[-1].call(f"/api/teacher?key={key}")["players"] < students:
            if time.monotonic() > deadline:
                raise RuntimeError("the class did not join within a minute")
            time.sleep(0.2)
        watcher = threading.Thread(
            target=teacher, args=(pages[-1], key, hold, stop, opened), daemon=True
        )
        cpu_at: dict[int, float] = {}
        requests_at: dict[int, int] = {}
        pages[-1].call(f"/api/teacher/resume?key={key}", {})
        watcher.start()
        deadline = time.monotonic() + rounds * (seconds + 15) + 60
        while watcher.is_alive() and time.monotonic() < deadline:
            if opened and opened[-1][0] not in cpu_at:
                cpu_at[opened[-1][0]] = cpu_seconds(process.pid)
                requests_at[opened[-1][0]] = sum(p.requests for p in pages)
            time.sleep(0.05)
        cpu_at.setdefault(-1, cpu_seconds(process.pid))
        requests_at.setdefault(-1, sum(p.requests for p in pages))
        stop.set()
        order = [r for r, _ in opened if r in cpu_at]
        per_round = [cpu_at[b] - cpu_at[a] for a, b in itertools.pairwise(order)]
        requests = [requests_at[b] - requests_at[a] for a, b in itertools.pairwise(order)]
        walls = [b - a for (_, a), (_, b) in itertools.pairwise(opened)]
    finally:
        if process.stdin:
            process.stdin.close()
        process.wait(timeout=60)
    errors = log_path.read_text().count("Traceback")
    return {"cpu": per_round, "walls": walls, "requests": requests, "errors": errors}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-seconds", type=float, default=60.0)
    parser.add_argument(
        "--hold", type=float, default=20.0, help="seconds a poll is held (0: plain polling)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 20 s (< 2 minutes)")
    args = parser.parse_args(argv)
    if args.students < 1 or args.rounds < 1 or args.round_seconds <= 0 or args.hold < 0:
        parser.error("--students, --rounds >= 1; --round-seconds > 0; --hold >= 0")
    rounds, seconds = (2, 20.0) if args.quick else (args.rounds, args.round_seconds)
    with tempfile.TemporaryDirectory(prefix="classroom-load-") as scratch:
        log_path = Path(scratch) / "server.log"
        game = run_game(args.students, rounds, seconds, args.hold, args.seed, log_path)
        if game["errors"]:
            print(log_path.read_text()[-3000:], file=sys.stderr)
    solo = solo_step_seconds(10)
    for n, (cpu, wall, requests) in enumerate(
        zip(game["cpu"], game["walls"], game["requests"], strict=False), start=1
    ):
        print(f"round {n}: server CPU {cpu:.2f} s over {wall:.1f} s of play, {requests} requests")
    print(f"server errors logged: {game['errors']}")
    print(f"solo step (tick + map + explain): {solo * 1000:.0f} ms of CPU")
    per_round = game["cpu"]
    result = {
        "students": args.students,
        "rounds": len(per_round),
        "round_seconds": seconds,
        "hold_s": args.hold,
        "server_cpu_s_per_round": round(statistics.mean(per_round), 3) if per_round else None,
        "server_cpu_s_max_round": round(max(per_round), 3) if per_round else None,
        "requests_per_round": round(statistics.mean(game["requests"])) if per_round else None,
        "server_errors": game["errors"],
        "solo_step_server_s": round(solo, 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
