"""Benchmark: are rank reads O(log n) at every depth of a big board (D22)?

Builds a leaderboard of ``--entries`` entries (default 1,000,000) straight into a SQLite file with the
stores' bulk loaders, starts ``python -m questgraph serve`` on it (timing the start-up rank-index
build), and then times, over real HTTP, pairs of reads that should cost the same if rank reads do not
depend on depth:

* ``start_at=CENTERED_ON_VIEWER`` for the first-ranked user and for the last-ranked user (each with its
  own user token);
* ``start_at=OFFSET`` at offset 0 and at offset ``entries - 10``.

It prints the median and p95 of each, and the ratio deep/shallow of each pair. See bench/README.md.

    python bench/centered_read.py                   # 1,000,000 entries
    python bench/centered_read.py --entries 100000  # quicker
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from questgraph.server.auth.callers import AppCaller
from questgraph.server.clock import Clock
from questgraph.server.db import Database, ObjectIds
from questgraph.server.db.sqlite import SqliteDatabase
from questgraph.server.identity import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.leaderboards import LeaderboardService
from questgraph.server.leaderboards.records import Entry
from questgraph.server.leaderboards.store import LeaderboardStore
from questgraph.server.ranking import InMemoryRankIndex

T = TypeVar("T")
API_NAME = "bench_board"
APP_ID = 10_000_000_000_000_001
APP_SECRET = "bench0secret0bench0secret0000001"
ORG_ID = 10_000_000_000_000_000
USER_BASE = 30_000_000_000_000_000  # 17-digit ids (D9): random ids are 16 digits, so these never collide
ENTRY_BASE = 40_000_000_000_000_000
ADMIN_KEY = "bench-admin-key"


# --- progress -------------------------------------------------------------------------------------
class Progress:
    """A progress bar on a terminal, a line every 10% otherwise."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.done = what, total, 0
        self.started = time.monotonic()
        self.tty = sys.stdout.isatty()
        self._shown = -1

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.tty:
            percent = self.done * 100 // max(self.total, 1)
            if percent != self._shown:
                self._shown = percent
                bar = "#" * (percent // 4) + "." * (25 - percent // 4)
                print(f"\r  {self.what:<8} [{bar}] {percent:3d}%  {self.done:>11,}/{self.total:,}  "
                      f"({self._rate():,.0f}/s)", end="", flush=True)
        else:
            tenth = self.done * 10 // max(self.total, 1)
            if tenth != self._shown:
                self._shown = tenth
                print(f"  {self.what:<8} {self.done:>11,}/{self.total:,} ({self._rate():,.0f}/s)", flush=True)

    def finish(self) -> float:
        elapsed = time.monotonic() - self.started
        if self.tty:
            print()
        print(f"  {self.what:<8} done: {self.done:,} in {elapsed:.1f} s", flush=True)
        return elapsed

    def _rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-9)

    def track(self, items: Iterable[T], every: int = 10_000) -> Iterator[T]:
        pending = 0
        for item in items:
            yield item
            pending += 1
            if pending == every:
                self.step(pending)
                pending = 0
        if pending:
            self.step(pending)


# --- building the board ---------------------------------------------------------------------------
@dataclass
class Board:
    entries: int
    first_user: int  # ranked 1st
    last_user: int  # ranked last


def board_in(db: Path, entries: int) -> Board | None:
    """A board built by an earlier run with ``--keep``, if it has the size asked for."""
    database = SqliteDatabase(str(db))
    try:
        boards = LeaderboardStore(database)
        board = boards.find_leaderboard(APP_ID, API_NAME)
        if board is None or boards.count_entries(board.id) != entries:
            return None
    finally:
        database.close()
    return Board(entries, USER_BASE, USER_BASE + entries - 1)


def services(database: Database, clock: Clock) -> tuple[IdentityService, LeaderboardService]:
    """Identity and leaderboards on ``database``, with an in-memory rank index."""
    identity_store = IdentityStore(database)
    identity = IdentityService(database, identity_store, ObjectIds(database), clock)
    return identity, LeaderboardService(database, LeaderboardStore(database), identity_store, InMemoryRankIndex(),
                                        clock, identity)


def build(db: Path, entries: int, seed: int) -> Board:
    """Users and entries through the bulk loaders; scores with many ties, one clear first and last."""
    database = SqliteDatabase(str(db))
    clock = Clock()
    identity, service = services(database, clock)
    org = identity.create_org("Bench Studio", ORG_ID)
    app = identity.create_app(org.id, "Bench Game", APP_ID, APP_SECRET).app
    board = service.upsert(AppCaller(app), app.id, API_NAME, sort_order="HIGHER_IS_BETTER",
                           entry_write_policy="SERVER_AUTHORITATIVE", earliest=None, latest=None,
                           title_locale_map=None)
    print(f"building {entries:,} entries in {db}", flush=True)
    users = Progress("users", entries)
    identity.store.bulk_insert_users(app.id, users.track((USER_BASE + n, f"bench_{n}") for n in range(entries)),
                                     granted_at=clock.now())
    users.finish()
    rng = random.Random(seed)
    now_us = clock.now_us()
    month_us = 30 * 86_400 * 1_000_000

    def entry(n: int) -> Entry:
        if n == 0:
            score = entries  # the only score that high: ranked 1st
        elif n == entries - 1:
            score = -1  # the only negative score: ranked last
        else:
            score = rng.randrange(entries // 4 or 1)  # about 4 entries per score: many ties
        return Entry(ENTRY_BASE + n, board.id, USER_BASE + n, score, b"", now_us - rng.randrange(month_us))

    rows = Progress("entries", entries)
    service.store.bulk_insert_entries(rows.track(entry(n) for n in range(entries)))
    rows.finish()
    database.close()
    return Board(entries, USER_BASE, USER_BASE + entries - 1)


def time_index_build(db: Path) -> tuple[float, int]:
    """The rank-index build alone, in this process: what start-up spends before it is ready."""
    database = SqliteDatabase(str(db))
    try:
        _, service = services(database, Clock())
        started = time.perf_counter()
        loaded = service.build_index()
        return time.perf_counter() - started, loaded
    finally:
        database.close()


# --- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    url: str
    to_live: float  # process start -> first HTTP answer
    to_ready: float  # process start -> rank index built (/_health/ready is 200)


def start_server(db: Path, port: int, log: Path) -> Started:
    command = [sys.executable, "-m", "questgraph", "serve", "--db", str(db), "--port", str(port),
               "--admin-key", ADMIN_KEY, "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    to_live: float | None = None
    with httpx.Client(timeout=5) as client:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited with {process.returncode}; see {log}:\n{log.read_text()}")
            try:
                response = client.get(f"{url}/_health/ready")
            except httpx.TransportError:
                time.sleep(0.01)
                continue
            if to_live is None:
                to_live = time.perf_counter() - started
            if response.status_code == 200:
                return Started(process, url, to_live, time.perf_counter() - started)
            if response.json().get("status") == "failed":
                process.kill()
                raise SystemExit(f"the rank index build failed: {response.text}")
            time.sleep(0.01)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --- measuring ------------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    params: dict[str, Any]
    token: str
    check: Callable[[dict[str, Any]], None]
    samples: list[float]
    rows: int = 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(url: str, cases: list[Case], reps: int, warmup: int) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        def call(case: Case) -> httpx.Response:
            return client.get("/leaderboard_entries", params=case.params,
                              headers={"Authorization": f"Bearer {case.token}"})

        for case in cases:  # correctness first: a fast wrong answer proves nothing
            response = call(case)
            if response.status_code != 200:
                raise SystemExit(f"{case.name}: HTTP {response.status_code} {response.text}")
            case.check(response.json())
            case.rows = len(response.json()["data"])
        for _ in range(warmup):
            for case in cases:
                call(case)
        progress = Progress("requests", reps * len(cases))
        for _ in range(reps):
            for case in cases:  # interleaved, so drift in the machine hits every case alike
                started = time.perf_counter_ns()
                response = call(case)
                case.samples.append((time.perf_counter_ns() - started) / 1e6)
                if response.status_code != 200:
                    raise SystemExit(f"{case.name}: HTTP {response.status_code} {response.text}")
            progress.step(len(cases))
        progress.finish()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000, help="board size (default 1,000,000)")
    parser.add_argument("--reps", type=int, default=1000, help="timed requests per case (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests per case first (default 50)")
    parser.add_argument("--limit", type=int, default=25, help="limit of every read (default 25, max 100)")
    parser.add_argument("--db", type=Path, help="SQLite file; reused when it already holds a board of this size "
                        "(default: a temporary file, deleted at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the scores")
    parser.add_argument("--max-ratio", type=float, default=2.0,
                        help="exit 1 when a deep/shallow median ratio exceeds this (default 2.0)")
    args = parser.parse_args(argv)
    if args.entries < 20:
        parser.error("--entries must be at least 20")
    if not 10 <= args.limit <= 100:
        parser.error("--limit must be between 10 and 100")

    workdir = Path(tempfile.mkdtemp(prefix="qg-bench-"))
    db = args.db or workdir / "centered-read.sqlite3"
    started: Started | None = None
    try:
        board = board_in(db, args.entries) if db.exists() else None
        build_seconds = None
        if board is None:
            if db.exists():
                raise SystemExit(f"{db} exists but holds no {args.entries:,}-entry bench board; remove it first")
            t0 = time.perf_counter()
            board = build(db, args.entries, args.seed)
            build_seconds = time.perf_counter() - t0
        else:
            print(f"reusing the {args.entries:,}-entry board in {db}")
        size_mib = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 2**20

        print("timing the rank-index build in-process ...", flush=True)
        index_seconds, loaded = time_index_build(db)
        assert loaded >= args.entries, loaded

        print("starting the server ...", flush=True)
        started = start_server(db, free_port(), workdir / "server.log")
        rss = rss_mib(started.process.pid)
        n, limit = board.entries, args.limit
        fields = "rank,score,user{id}"
        above = (limit - 1) // 2  # D20: entries above the viewer on a centered page
        app_token = f"OC|{APP_ID}|{APP_SECRET}"
        # The last-ranked viewer's page holds only the entries above it; the viewer ranked ``full`` has a
        # full page that ends with the last entry: same rows as the rank-1 page, at the bottom of the board.
        full = n - limit + 1 + above
        with httpx.Client(base_url=started.url, timeout=30) as client:
            found = client.get("/leaderboard_entries", headers={"Authorization": f"Bearer {app_token}"}, params={
                "api_name": API_NAME, "start_at": "OFFSET", "offset": full - 1, "limit": 1, "fields": "user{id}"})
            full_user = int(found.json()["data"][0]["user"]["id"])
            tokens = {}
            for user in (board.first_user, board.last_user, full_user):
                minted = client.post(f"/_admin/users/{user}/tokens", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
                tokens[user] = minted.json()["access_token"]

        def centered(user: int, rank: int) -> Callable[[dict[str, Any]], None]:
            def check(body: dict[str, Any]) -> None:
                ranks = [e["rank"] for e in body["data"]]
                mine = [e["rank"] for e in body["data"] if e["user"]["id"] == str(user)]
                expected_first = max(rank - above, 1)
                assert mine == [rank], f"viewer {user} should be ranked {rank}, page has {mine}"
                assert ranks == list(range(expected_first, min(expected_first + limit - 1, n) + 1)), ranks
            return check

        def offset(start: int) -> Callable[[dict[str, Any]], None]:
            def check(body: dict[str, Any]) -> None:
                ranks = [e["rank"] for e in body["data"]]
                assert ranks == list(range(start + 1, min(start + limit, n) + 1)), ranks
            return check

        base = {"api_name": API_NAME, "limit": limit, "fields": fields}
        centered_params = {**base, "start_at": "CENTERED_ON_VIEWER"}
        deep, deep_full = n - 10, n - limit

        def at(where: int) -> dict[str, Any]:
            return {**base, "start_at": "OFFSET", "offset": where}

        cases = [
            Case("CENTERED_ON_VIEWER, rank 1", centered_params, tokens[board.first_user],
                 centered(board.first_user, 1), []),
            Case(f"CENTERED_ON_VIEWER, rank {n:,}", centered_params, tokens[board.last_user],
                 centered(board.last_user, n), []),
            Case(f"CENTERED_ON_VIEWER, rank {full:,}", centered_params, tokens[full_user],
                 centered(full_user, full), []),
            Case("OFFSET 0", at(0), app_token, offset(0), []),
            Case(f"OFFSET {deep:,}", at(deep), app_token, offset(deep), []),
            Case(f"OFFSET {deep_full:,}", at(deep_full), app_token, offset(deep_full), []),
        ]
        print(f"timing {args.reps} x {len(cases)} reads (limit={limit}, after {args.warmup} warm-up each) ...",
              flush=True)
        measure(started.url, cases, args.reps, args.warmup)

        print()
        print(f"board: {n:,} entries, HIGHER_IS_BETTER; database {size_mib:,.0f} MiB"
              + (f", built in {build_seconds:.1f} s" if build_seconds is not None else " (reused)"))
        print(f"rank-index build: {index_seconds:.2f} s in-process; server start -> ready {started.to_ready:.2f} s "
              f"(-> first HTTP answer {started.to_live:.2f} s, so ~{started.to_ready - started.to_live:.2f} s "
              "building)" + (f"; server RSS {rss:,.0f} MiB" if rss is not None else ""))
        print()
        header = (f"{'read (limit=' + str(limit) + ')':<36} {'rows':>5} {'median ms':>10} {'p95 ms':>10} "
                  f"{'min ms':>10} {'n':>6}")
        print(header)
        print("-" * len(header))
        for case in cases:
            print(f"{case.name:<36} {case.rows:>5} {statistics.median(case.samples):>10.3f} "
                  f"{percentile(case.samples, 0.95):>10.3f} {min(case.samples):>10.3f} {len(case.samples):>6}")
        print()
        worst = 0.0
        for shallow, deep_case in ((cases[0], cases[1]), (cases[0], cases[2]), (cases[3], cases[4]),
                                   (cases[3], cases[5])):
            ratio = statistics.median(deep_case.samples) / statistics.median(shallow.samples)
            p95_ratio = percentile(deep_case.samples, 0.95) / percentile(shallow.samples, 0.95)
            worst = max(worst, ratio)
            label = f"{deep_case.name} / {shallow.name}"
            print(f"{label:<64} median ratio {ratio:.2f}   p95 ratio {p95_ratio:.2f}")
        verdict = "OK" if worst <= args.max_ratio else "FAIL"
        print(f"\n{verdict}: deepest/shallowest median ratio {worst:.2f} (limit {args.max_ratio}); D22 wants ~1")
        return 0 if verdict == "OK" else 1
    finally:
        if started is not None:
            started.process.send_signal(signal.SIGTERM)
            try:
                started.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                started.process.kill()
        if args.keep and not args.db:
            print(f"kept {db} (and the server log beside it)")
        else:  # the temporary database and the server log; a --db file is never deleted
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
