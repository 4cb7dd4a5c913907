"""Crash safety: ``kill -9`` the server while submits are in flight, restart it on the same SQLite file, and
check that every acknowledged write is there (the storage contract: a write is durable before it is
acknowledged) and that nothing is corrupt (the board pages cleanly, ranks match SQL).

The server runs as a real subprocess (``python -m questgraph serve``), so the kill is a real SIGKILL
of the process that owns the database, not a simulated shutdown.

Decisions under test: D14 (order and ranks after recovery match the table), D15 (force_update always
replaces: ``did_update`` is true), D21 (paging after recovery returns every entry exactly once), D22 (the
rank index is rebuilt from the database at start-up, so it shows exactly what survived).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, APP_ID, APP_TOKEN, WORLD_FILE, free_port

BOARDS = {"crash_high": "HIGHER_IS_BETTER", "crash_low": "LOWER_IS_BETTER"}
USERS = 150  # x 2 boards = 300 entries
WRITES_PER_ENTRY = 2  # 600 planned writes per round; the kill comes about halfway
THREADS = 4
ROUNDS = 2  # kill, restart, write again, kill again: recovery of a recovered file
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}

Key = tuple[str, str]  # (api_name, user_id)


class ServerProcess:
    """``python -m questgraph serve`` on a given database (a SQLite file, or a PostgreSQL URL: see
    tests/test_postgres_concurrency.py) and port, with its log in a file."""

    def __init__(self, db: Path | str, port: int, log: Path, extra: Sequence[str] = ()) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        command = [sys.executable, "-m", "questgraph", "serve", "--config", str(WORLD_FILE), "--db", str(db),
                   "--port", str(port), "--admin-key", ADMIN_KEY, "--log-level", "warning", *extra]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=Path(__file__).parent.parent)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(f"the server exited with {self.proc.returncode}:\n{self.log.read_text()}")
                try:
                    if client.get(f"{self.url}/_health/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        pytest.fail(f"the server did not become ready:\n{self.log.read_text()}")

    def kill(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)


@dataclass
class Write:
    score: int
    state: str = "in_flight"  # -> "acked" on HTTP 200, "lost" on a transport error (the kill)


@dataclass
class Stream:
    """What the writer threads sent: per entry, its writes in order (one writer per entry)."""

    writes: dict[Key, list[Write]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: int = 0
    in_flight: int = 0
    errors: list[str] = field(default_factory=list)


def writer(url: str, keys: list[Key], stream: Stream, stop: threading.Event, rng: random.Random) -> None:
    plan = [k for _ in range(WRITES_PER_ENTRY) for k in keys]
    with httpx.Client(base_url=url, headers=APP_AUTH, timeout=30) as client:
        for api_name, user_id in plan:
            if stop.is_set():
                return
            write = Write(rng.randint(-(2**63), 2**63 - 1))
            with stream.lock:
                stream.writes.setdefault((api_name, user_id), []).append(write)
                stream.in_flight += 1
            try:
                response = client.post("/leaderboard_submit_entry", data={
                    "api_name": api_name, "user_id": user_id, "score": str(write.score), "force_update": "true",
                })
            except httpx.TransportError:
                with stream.lock:
                    write.state = "lost"
                    stream.in_flight -= 1
                return  # the server is gone; this writer's later writes were never sent
            with stream.lock:
                stream.in_flight -= 1
                if response.status_code == 200:
                    if response.json() != {"success": True, "did_update": True, "updated_challenge_ids": []}:
                        stream.errors.append(f"unexpected answer {response.text}")  # D15: forced writes update
                    write.state = "acked"
                    stream.acked += 1
                else:
                    stream.errors.append(f"HTTP {response.status_code}: {response.text}")
                    write.state = "lost"
                    return


def read_table(db: Path) -> tuple[dict[Key, int], dict[str, list[tuple[str, str, int]]], str, int]:
    """From the file itself: scores per entry, each board in D14 order, integrity, orphan object ids."""
    conn = sqlite3.connect(Path(db).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        (integrity,) = conn.execute("PRAGMA integrity_check").fetchone()
        scores: dict[Key, int] = {}
        ordered: dict[str, list[tuple[str, str, int]]] = {}
        for api_name, sort_order in BOARDS.items():
            direction = "DESC" if sort_order == "HIGHER_IS_BETTER" else "ASC"
            rows = conn.execute(
                "SELECT e.id, e.user_id, e.score FROM entries e JOIN leaderboards b ON b.id = e.leaderboard_id "
                f"WHERE b.app_id = ? AND b.api_name = ? ORDER BY e.score {direction}, e.written_us, e.id",
                (int(APP_ID), api_name),
            ).fetchall()
            ordered[api_name] = [(str(i), str(u), s) for i, u, s in rows]
            scores.update({(api_name, str(u)): s for _, u, s in rows})
        # An entry and its global object id (D9) are written in one transaction: never one without the other.
        (orphans,) = conn.execute(
            "SELECT (SELECT COUNT(*) FROM entries e WHERE NOT EXISTS "
            "(SELECT 1 FROM objects o WHERE o.id = e.id AND o.kind = 'entry')) + "
            "(SELECT COUNT(*) FROM objects o WHERE o.kind = 'entry' AND NOT EXISTS "
            "(SELECT 1 FROM entries e WHERE e.id = o.id))"
        ).fetchone()
    finally:
        conn.close()
    return scores, ordered, str(integrity), int(orphans)


def allowed_scores(before: int | None, writes: list[Write]) -> set[int | None]:
    """What an entry may hold after the crash: its last acknowledged score, or a write sent after it."""
    last_acked = max((n for n, w in enumerate(writes) if w.state == "acked"), default=-1)
    base = writes[last_acked].score if last_acked >= 0 else before
    return {base} | {w.score for w in writes[last_acked + 1:]}


def page_through(url: str, api_name: str, limit: int) -> tuple[list[dict[str, Any]], set[int]]:
    rows: list[dict[str, Any]] = []
    totals: set[int] = set()
    with httpx.Client(timeout=30) as client:
        response = client.get(f"{url}/leaderboard_entries", headers=APP_AUTH, params={
            "api_name": api_name, "limit": limit, "summary": "true", "fields": "id,rank,score,user{id}"})
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            totals.add(body["summary"]["total_count"])
            rows.extend(body["data"])
            next_url = body.get("paging", {}).get("next")
            if next_url is None:
                return rows, totals
            assert len(rows) <= 2 * USERS, "paging does not end"
            response = client.get(next_url)


@pytest.fixture
def processes() -> Iterator[list[ServerProcess]]:
    """Every server process the test starts; whatever is still running at the end is killed."""
    started: list[ServerProcess] = []
    yield started
    for process in started:
        process.kill()


def test_acknowledged_writes_survive_kill_9(tmp_path: Path, processes: list[ServerProcess]) -> None:
    """Every write acknowledged before a SIGKILL is on the board after a restart (D15, D22), and the
    recovered board pages cleanly in D14 order with ranks equal to SQL's (D14, D21)."""
    db, log = tmp_path / "qg.sqlite3", tmp_path / "server.log"
    port = free_port()
    server = ServerProcess(db, port, log)
    processes.append(server)
    server.wait_ready()
    user_ids: list[str] = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for api_name, sort_order in BOARDS.items():
            made = client.post(f"/{APP_ID}/leaderboards", headers=APP_AUTH,
                               data={"api_name": api_name, "sort_order": sort_order})
            assert made.status_code == 200, made.text
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        for n in range(USERS):
            made = client.post(f"/_admin/apps/{APP_ID}/users", headers=admin, data={"alias": f"crash_{n}"})
            assert made.status_code == 200, made.text
            user_ids.append(made.json()["id"])
    keys: list[Key] = [(b, u) for u in user_ids for b in BOARDS]
    rng = random.Random(20240601)
    known: dict[Key, int] = {}  # what the file held after the previous recovery
    planned = len(keys) * WRITES_PER_ENTRY

    for round_ in range(ROUNDS):
        stream, stop = Stream(), threading.Event()
        rng.shuffle(keys)
        threads = [
            threading.Thread(target=writer, args=(server.url, keys[t::THREADS], stream, stop,
                                                  random.Random(rng.random())), daemon=True)
            for t in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        kill_after = planned * rng.uniform(0.35, 0.65)
        deadline = time.monotonic() + 120
        # Kill mid-stream, at a moment when at least one submit is in flight.
        while not (stream.acked >= kill_after and stream.in_flight > 0):
            assert time.monotonic() < deadline, f"the writers stalled: {stream.errors}"
            assert any(t.is_alive() for t in threads), f"the writers finished before the kill: {stream.errors}"
            time.sleep(0.0005)
        in_flight_at_kill = stream.in_flight
        assert server.kill() == -signal.SIGKILL
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not stream.errors, stream.errors
        assert in_flight_at_kill >= 1
        acked = stream.acked
        assert 0 < acked < planned

        server = ServerProcess(db, port, log)  # same file, same port
        processes.append(server)
        server.wait_ready()
        scores, ordered, integrity, orphans = read_table(db)
        assert integrity == "ok"
        assert orphans == 0
        # Every acknowledged write is there with its acknowledged score (or a later write's, sent before
        # the kill and committed without an answer); entries never written this round are unchanged.
        lost = []
        for key in keys:
            allowed = allowed_scores(known.get(key), stream.writes.get(key, []))
            if scores.get(key) not in allowed:
                lost.append((key, scores.get(key), allowed))
        assert not lost, f"{len(lost)} acknowledged writes missing or wrong after kill -9, e.g. {lost[:3]}"
        assert set(scores) <= set(keys)
        unacked_committed = sum(
            1 for key, writes in stream.writes.items()
            if writes[-1].state != "acked" and scores.get(key) == writes[-1].score
        )
        print(f"round {round_}: {acked}/{planned} writes acknowledged, {in_flight_at_kill} in flight at the kill, "
              f"{unacked_committed} unacknowledged writes committed anyway")
        known = scores

        # The recovered board pages cleanly, each entry once, in the file's D14 order with SQL's ranks.
        for api_name in BOARDS:
            expected = ordered[api_name]
            for limit in (7, 100):
                rows, totals = page_through(server.url, api_name, limit)
                assert totals == {len(expected)}
                assert [(r["id"], r["user"]["id"], r["score"]) for r in rows] == expected
                assert [r["rank"] for r in rows] == list(range(1, len(expected) + 1))

    # The recovered server still takes writes and ranks them.
    with httpx.Client(base_url=server.url, headers=APP_AUTH, timeout=30) as client:
        top = client.post("/leaderboard_submit_entry", data={
            "api_name": "crash_high", "user_id": user_ids[0], "score": str(2**63 - 1), "force_update": "true"})
        assert top.status_code == 200, top.text
        first = client.get("/leaderboard_entries", params={"api_name": "crash_high", "limit": 1,
                                                           "fields": "rank,score,user{id}"}).json()["data"]
        assert [(r["rank"], r["score"], r["user"]["id"]) for r in first] == [(1, 2**63 - 1, user_ids[0])]
