"""Fault tests of a PostgreSQL + Redis deployment under load (issue 6): the server process killed, Redis
flushed, Redis stopped and restarted, PostgreSQL connections cut. In every case no acknowledged write is
lost, the ranks after recovery are the database's (SQL's), and meanwhile every failure a client sees is
the D7 503 (code 2, ``is_transient: true``), never a 500 and never a wrong rank.

Each test drives real server process(es) (``python -m questgraph serve``, tests/test_crash.py's
``ServerProcess``) with a few client threads and bounded load. These tests are about PostgreSQL and
Redis, so they are not parametrized over the backends (this module does not import ``start_server``
and asks for PostgreSQL and Redis itself): they run once, and with ``CI`` set they may not skip.

Redis is never flushed or stopped under other tests: the kill -9 and PostgreSQL tests use a private key
prefix on the shared Redis, and the flush and stop tests a throwaway ``redis-server`` of their own.
PostgreSQL is never restarted: its outage is simulated by terminating the server's own connections
(found by a per-test ``application_name``).

Decisions under test: D7 (503 code 2, is_transient, for a dependency down), D14 (order and ranks after
recovery equal SQL's), D15 (force_update always replaces), D21 (paging sees every entry once), D22 (the
rank index is rebuilt from the database).
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import (
    ADMIN_KEY,
    APP_ID,
    APP_TOKEN,
    POSTGRES_URL,
    assert_graph_error,
    free_port,
    import_or_skip,
    postgres_database,
    require_postgres,
    skip_or_fail,
)
from tests.redis_support import drop_prefix, redis_url, require_redis
from tests.test_crash import (
    BOARDS,
    Key,
    ServerProcess,
    Stream,
    Write,
    allowed_scores,
    page_through,
    writer,
)

USERS = 40  # x 2 boards = 80 entries, each written once before the load so the total is known
THREADS = 3  # writer threads; one more thread reads the board throughout
APP_AUTH = {"Authorization": f"Bearer {APP_TOKEN}"}
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
INT64 = (-(2**63), 2**63 - 1)


# --- the deployment under test ----------------------------------------------------------------------------
@dataclass
class Deployment:
    database: str  # the PostgreSQL URL (a schema of its own, an application_name of its own)
    app_name: str
    rank_index: str
    tmp_path: Path
    port: int = field(default_factory=free_port)
    processes: list[ServerProcess] = field(default_factory=list)

    def start(self) -> ServerProcess:
        """A server process on this database and rank index (same port each time), ready."""
        os.environ["QUESTGRAPH_RANK_INDEX"] = self.rank_index  # read by `serve`; restored by the fixture
        process = ServerProcess(self.database, self.port, self.tmp_path / "server.log")
        self.processes.append(process)
        process.wait_ready()
        return process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Deployment]]:
    """Makes a deployment on a fresh PostgreSQL schema with the given rank index URL; kills its processes."""
    require_postgres()
    monkeypatch.setenv("QUESTGRAPH_RANK_INDEX", "memory")  # so the test's own setting is restored after
    made: list[Deployment] = []

    def make(rank_index: str) -> Deployment:
        app_name = f"qgfault_{secrets.token_hex(4)}"
        database = f"{postgres_database(str(tmp_path / app_name))}&application_name={app_name}"
        made.append(Deployment(database, app_name, rank_index, tmp_path))
        return made[-1]

    yield make
    for one in made:
        for process in one.processes:
            process.kill()


@pytest.fixture
def shared_redis_index() -> Iterator[str]:
    """A private prefix on the shared Redis (database 0), removed at teardown."""
    require_redis()
    prefix = f"qgfault-{secrets.token_hex(6)}"
    yield redis_url(prefix=prefix)
    drop_prefix(prefix)


class OwnRedis:
    """A throwaway ``redis-server`` on a port of its own (never the shared one), without persistence, so
    a test may flush it or kill it under a running server."""

    def __init__(self, binary: str, port: int, workdir: Path) -> None:
        self.binary, self.port, self.workdir = binary, port, workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)]
        with open(self.workdir / "redis.log", "ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.workdir / "redis.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: Redis stops at once, losing everything (no persistence)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("redis-server is not installed (apt-get install redis-server) to run a throwaway Redis")
    import_or_skip("redis", "the redis client is not installed (pip install 'questgraph[redis]')")
    server = OwnRedis(binary, free_port(), tmp_path)
    server.start()
    yield server
    server.kill()


# --- data and checks ----------------------------------------------------------------------------------------
def seed(url: str, rng: random.Random) -> tuple[list[Key], dict[Key, int]]:
    """The two boards, USERS users, and one acknowledged entry per (board, user)."""
    keys: list[Key] = []
    known: dict[Key, int] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for api_name, sort_order in BOARDS.items():
            made = client.post(f"/{APP_ID}/leaderboards", headers=APP_AUTH,
                               data={"api_name": api_name, "sort_order": sort_order})
            assert made.status_code == 200, made.text
        for n in range(USERS):
            made = client.post(f"/_admin/apps/{APP_ID}/users", headers=ADMIN_AUTH, data={"alias": f"fault_{n}"})
            assert made.status_code == 200, made.text
            user_id = made.json()["id"]
            for api_name in BOARDS:
                score = rng.randint(*INT64)
                done = client.post("/leaderboard_submit_entry", headers=APP_AUTH, data={
                    "api_name": api_name, "user_id": user_id, "score": str(score), "force_update": "true"})
                assert done.status_code == 200, done.text
                keys.append((api_name, user_id))
                known[(api_name, user_id)] = score
    return keys, known


def read_database(database: str) -> tuple[dict[Key, int], dict[str, list[tuple[str, str, int]]], int]:
    """From PostgreSQL itself (tests/test_crash.py's ``read_table`` for this backend): scores per entry,
    each board in D14 order, and entries without their object id or the reverse (D9)."""
    scores: dict[Key, int] = {}
    ordered: dict[str, list[tuple[str, str, int]]] = {}
    with psycopg.connect(database) as conn:
        for api_name, sort_order in BOARDS.items():
            direction = "DESC" if sort_order == "HIGHER_IS_BETTER" else "ASC"
            rows = conn.execute(
                "SELECT e.id, e.user_id, e.score FROM entries e JOIN leaderboards b ON b.id = e.leaderboard_id "
                f"WHERE b.app_id = %s AND b.api_name = %s ORDER BY e.score {direction}, e.written_us, e.id",
                (int(APP_ID), api_name),
            ).fetchall()
            ordered[api_name] = [(str(i), str(u), int(s)) for i, u, s in rows]
            scores.update({(api_name, str(u)): int(s) for _, u, s in rows})
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM entries e WHERE NOT EXISTS "
            "(SELECT 1 FROM objects o WHERE o.id = e.id AND o.kind = 'entry')) + "
            "(SELECT COUNT(*) FROM objects o WHERE o.kind = 'entry' AND NOT EXISTS "
            "(SELECT 1 FROM entries e WHERE e.id = o.id))"
        ).fetchone()
    assert row is not None
    return scores, ordered, int(row[0])


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as client:
        while True:
            health = client.get(f"{url}/_health/ready")
            if health.status_code == 200:
                assert health.json()["rank_index"]["state"] == "ready"
                return
            assert time.monotonic() < deadline, f"never ready again: {health.text}"
            time.sleep(0.05)


def verify_recovered(url: str, database: str, keys: list[Key], known: dict[Key, int],
                     writes: dict[Key, list[Write]]) -> dict[Key, int]:
    """Every acknowledged write is in the database (or a later write sent after it), nothing else is, and
    the board as served pages in SQL's D14 order with ranks 1..n (D14, D21). Returns the scores."""
    wait_ready(url)
    scores, ordered, orphans = read_database(database)
    assert orphans == 0
    assert set(scores) == set(keys)
    lost = [(key, scores[key], allowed) for key in keys
            if scores[key] not in (allowed := allowed_scores(known[key], writes.get(key, [])))]
    assert not lost, f"{len(lost)} acknowledged writes missing or wrong, e.g. {lost[:3]}"
    check_pages(url, ordered)
    return scores


def check_pages(url: str, ordered: dict[str, list[tuple[str, str, int]]]) -> None:
    """The boards as served page in SQL's D14 order, each entry once, ranks 1..n (D14, D21)."""
    for api_name in BOARDS:
        expected = ordered[api_name]
        assert len(expected) == USERS
        for limit in (7, 100):
            rows, totals = page_through(url, api_name, limit)
            assert totals == {USERS}
            assert [(r["id"], r["user"]["id"], r["score"]) for r in rows] == expected
            assert [r["rank"] for r in rows] == list(range(1, USERS + 1))


# --- load that keeps going through a fault ------------------------------------------------------------------
@dataclass
class Load:
    """What the client threads saw. Writes are force_update submits (D15), one writer per entry."""

    writes: dict[Key, list[Write]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: int = 0
    unavailable: int = 0  # 503 code 2 answers (writes and reads)
    reads_ok: int = 0
    since_fault: dict[str, int] = field(default_factory=dict)  # status → count, counted after mark_fault()
    errors: list[str] = field(default_factory=list)  # anything else: a 500, a wrong rank, a bad envelope
    stop: threading.Event = field(default_factory=threading.Event)
    counting: bool = False

    def mark_fault(self) -> None:
        with self.lock:
            self.since_fault.clear()
            self.counting = True

    def seen(self, status: int) -> None:
        if self.counting:
            self.since_fault[str(status)] = self.since_fault.get(str(status), 0) + 1

    def check_unavailable(self, response: httpx.Response) -> bool:
        """True for the D7 503 (code 2, is_transient); anything else non-200 is recorded as an error."""
        try:
            error = assert_graph_error(response, 503, 2, "OCApiException")
            assert error["is_transient"] is True, error
        except (AssertionError, KeyError, ValueError) as exc:
            self.errors.append(f"HTTP {response.status_code} instead of 200 or the D7 503: {response.text} ({exc})")
            return False
        self.unavailable += 1
        return True


def load_writer(url: str, keys: list[Key], load: Load, rng: random.Random) -> None:
    with httpx.Client(base_url=url, headers=APP_AUTH, timeout=30) as client:
        while not load.stop.is_set():
            for api_name, user_id in keys:
                if load.stop.is_set():
                    return
                write = Write(rng.randint(*INT64))
                with load.lock:
                    load.writes.setdefault((api_name, user_id), []).append(write)
                try:
                    response = client.post("/leaderboard_submit_entry", data={
                        "api_name": api_name, "user_id": user_id, "score": str(write.score),
                        "force_update": "true"})
                except httpx.TransportError as exc:
                    with load.lock:
                        load.errors.append(f"transport error: {exc!r}")  # the server must stay up
                    write.state = "lost"
                    time.sleep(0.05)
                    continue
                with load.lock:
                    load.seen(response.status_code)
                    if response.status_code == 200:
                        if response.json() != {"success": True, "did_update": True, "updated_challenge_ids": []}:
                            load.errors.append(f"unexpected answer {response.text}")
                        write.state = "acked"
                        load.acked += 1
                        continue
                    write.state = "unknown"  # may or may not have been committed: allowed_scores allows both
                    ok = load.check_unavailable(response)
                if ok:
                    time.sleep(0.01)  # a client backing off a transient error


def load_reader(url: str, load: Load) -> None:
    """Reads the top of each board throughout: every 200 must be a whole, well-ranked board (the total
    never drops while an index is rebuilt, ranks are 1..k, scores in the board's order)."""
    with httpx.Client(base_url=url, headers=APP_AUTH, timeout=30) as client:
        while not load.stop.is_set():
            for api_name, sort_order in BOARDS.items():
                try:
                    response = client.get("/leaderboard_entries", params={
                        "api_name": api_name, "limit": 10, "summary": "true", "fields": "rank,score"})
                except httpx.TransportError as exc:
                    with load.lock:
                        load.errors.append(f"transport error: {exc!r}")
                    time.sleep(0.05)
                    continue
                with load.lock:
                    load.seen(response.status_code)
                    if response.status_code != 200:
                        if load.check_unavailable(response):
                            time.sleep(0.01)
                        continue
                    body = response.json()
                    ranks = [r["rank"] for r in body["data"]]
                    scores = [r["score"] for r in body["data"]]
                    ordered = sorted(scores, reverse=sort_order == "HIGHER_IS_BETTER")
                    if (body["summary"]["total_count"] != USERS or ranks != list(range(1, 11))
                            or scores != ordered):
                        load.errors.append(f"wrong ranks during the fault: {response.text}")
                    load.reads_ok += 1


def run_load(url: str, keys: list[Key], rng: random.Random) -> tuple[Load, list[threading.Thread]]:
    load = Load()
    keys = list(keys)
    rng.shuffle(keys)
    threads = [threading.Thread(target=load_writer, args=(url, keys[t::THREADS], load, random.Random(rng.random())),
                                daemon=True) for t in range(THREADS)]
    threads.append(threading.Thread(target=load_reader, args=(url, load), daemon=True))
    for thread in threads:
        thread.start()
    return load, threads


def wait_for(condition: Callable[[], bool], what: str, load: Load, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}; errors: {load.errors[:5]}"
        time.sleep(0.01)


def finish(load: Load, threads: list[threading.Thread]) -> None:
    load.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    print(f"{load.acked} writes acknowledged, {load.reads_ok} good reads, {load.unavailable} D7 503s; "
          f"since the fault: {load.since_fault}")
    assert not load.errors, f"{len(load.errors)} bad answers, e.g. {load.errors[:5]}"


def acked_after(load: Load, count: int) -> Callable[[], bool]:
    start = load.acked
    return lambda: load.acked >= start + count


# --- the tests ----------------------------------------------------------------------------------------------
def test_kill_9_on_postgres_and_redis_loses_no_acknowledged_write(
        deployment: Callable[[str], Deployment], shared_redis_index: str) -> None:
    """tests/test_crash.py on PostgreSQL + Redis: SIGKILL the server mid-stream, restart it; every write
    acknowledged before the kill is in the database, and the served ranks (from the Redis index the dead
    process was writing to) equal SQL's (D14, D15, D21, D22)."""
    setup = deployment(shared_redis_index)
    server = setup.start()
    rng = random.Random(20240611)
    keys, known = seed(setup.url, rng)
    stream = Stream()
    stop = threading.Event()
    rng.shuffle(keys)
    threads = [threading.Thread(target=writer, args=(setup.url, keys[t::THREADS], stream, stop,
                                                     random.Random(rng.random())), daemon=True)
               for t in range(THREADS)]
    for thread in threads:
        thread.start()
    planned = 2 * len(keys)  # test_crash.writer writes each of its entries twice
    kill_after = planned * rng.uniform(0.35, 0.65)
    deadline = time.monotonic() + 60
    while not (stream.acked >= kill_after and stream.in_flight > 0):  # kill with a submit in flight
        assert time.monotonic() < deadline, f"the writers stalled: {stream.errors}"
        assert any(t.is_alive() for t in threads), f"the writers finished before the kill: {stream.errors}"
        time.sleep(0.0005)
    assert server.kill() == -signal.SIGKILL
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not stream.errors, stream.errors
    assert 0 < stream.acked < planned

    setup.start()  # same database, same Redis namespace, same port
    # Exact: a write in flight at the kill, committed but never indexed, left its index_pending row,
    # which the restart repaired (ranking/keeper.py; issue 6, D22).
    verify_recovered(setup.url, setup.database, keys, known, stream.writes)


def test_redis_flushall_mid_load(deployment: Callable[[str], Deployment], own_redis: OwnRedis) -> None:
    """Redis loses everything (FLUSHALL) under load: while the index is rebuilt from PostgreSQL the server
    answers 503 code 2, is_transient (D7), never a 500 and never a partial board; afterwards every
    acknowledged write is there and the ranks equal SQL's (D14, D22)."""
    import redis

    setup = deployment(own_redis.url)
    setup.start()
    rng = random.Random(20240612)
    keys, known = seed(setup.url, rng)
    load, threads = run_load(setup.url, keys, rng)
    try:
        wait_for(acked_after(load, 60), "writes before the flush", load)
        load.mark_fault()
        client = redis.Redis.from_url(own_redis.url)
        try:
            client.flushall()
            wait_for(lambda: load.since_fault.get("503", 0) >= 1, "a 503 after the flush", load)
        finally:
            client.close()
        wait_ready(setup.url)
        wait_for(acked_after(load, 60), "writes after the rebuild", load)
    finally:
        finish(load, threads)
    assert set(load.since_fault) <= {"200", "503"}, load.since_fault
    verify_recovered(setup.url, setup.database, keys, known, load.writes)


def test_redis_stopped_mid_load_and_restarted(deployment: Callable[[str], Deployment], own_redis: OwnRedis) -> None:
    """Redis killed under load: every Graph call answers 503 code 2, is_transient (D7), never a 500, and
    readiness says the index is down; Redis restarted empty on the same port: the index is rebuilt by
    itself, every acknowledged write is there and the ranks equal SQL's (D14, D22)."""
    setup = deployment(own_redis.url)
    setup.start()
    rng = random.Random(20240613)
    keys, known = seed(setup.url, rng)
    load, threads = run_load(setup.url, keys, rng)
    try:
        wait_for(acked_after(load, 60), "writes before Redis stops", load)
        own_redis.kill()
        load.mark_fault()
        wait_for(lambda: load.since_fault.get("503", 0) >= 20, "503s while Redis is down", load)
        with httpx.Client(timeout=10) as client:
            health = client.get(f"{setup.url}/_health/ready")
        assert health.status_code == 503
        assert health.json()["rank_index"] == {"kind": "redis", "state": "down"}
        # While Redis is down nothing is acknowledged: a write needs its rank index update too.
        acked_down = load.acked
        time.sleep(0.3)
        assert load.acked - acked_down <= THREADS  # at most a write each that passed the check before the kill
        own_redis.start()  # empty, on the same port
        wait_ready(setup.url)
        wait_for(acked_after(load, 60), "writes after Redis is back", load)
    finally:
        finish(load, threads)
    assert set(load.since_fault) <= {"200", "503"}, load.since_fault
    verify_recovered(setup.url, setup.database, keys, known, load.writes)


def terminate_connections(app_name: str) -> int:
    """Cut every PostgreSQL connection of the server under test (and only those): what clients see when
    the database restarts or fails over."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = %s AND pid <> pg_backend_pid()", (app_name,)).fetchall()
    return len(rows)


def test_postgres_connections_lost_mid_load(deployment: Callable[[str], Deployment], shared_redis_index: str) -> None:
    """PostgreSQL goes away under load (every connection of the server terminated, repeatedly, for about
    a second): calls answer 200 or the D7 503 code 2, is_transient, never a 500; afterwards the pool
    reconnects by itself (every call succeeds again), no acknowledged write is lost and the ranks equal
    SQL's (D14, D22)."""
    setup = deployment(shared_redis_index)
    setup.start()
    rng = random.Random(20240614)
    keys, known = seed(setup.url, rng)
    load, threads = run_load(setup.url, keys, rng)
    try:
        wait_for(acked_after(load, 60), "writes before the outage", load)
        load.mark_fault()
        terminated = 0
        outage_end = time.monotonic() + 1.2
        while time.monotonic() < outage_end:
            terminated += terminate_connections(setup.app_name)
            time.sleep(0.05)
        assert terminated >= 1
        assert load.since_fault.get("503", 0) >= 1, load.since_fault
        # After the outage the pool replaces the dead connections by itself: soon every call succeeds.
        wait_for(acked_after(load, 30), "writes after the outage", load)
        load.mark_fault()
        wait_for(lambda: load.since_fault.get("200", 0) >= 100, "calls after the outage", load)
        assert set(load.since_fault) == {"200"}, load.since_fault
    finally:
        finish(load, threads)
    verify_recovered(setup.url, setup.database, keys, known, load.writes)
    # A cut while idle: each dead pooled connection fails at most one call (psycopg_pool discards it
    # when it comes back broken and opens a new one), then every call succeeds again by itself.
    cut = terminate_connections(setup.app_name)
    assert cut >= 1
    with httpx.Client(base_url=setup.url, headers=APP_AUTH, timeout=30) as client:
        answers = [client.get("/leaderboard_entries", params={"api_name": "crash_high", "limit": 1})
                   for _ in range(cut + 10)]
    failed = sum(1 for answer in answers if answer.status_code != 200)
    assert failed <= cut
    for answer in answers[:failed]:
        assert_graph_error(answer, 503, 2, "OCApiException")
    assert [answer.status_code for answer in answers[failed:]] == [200] * (len(answers) - failed)


def test_write_committed_but_not_indexed_before_a_kill_is_ranked_after_restart(
        deployment: Callable[[str], Deployment], shared_redis_index: str) -> None:
    """D14/D22: the state kill -9 leaves when it lands between a submit's commit and its index update
    (made deterministic: what a submit commits, the new score and its index_pending row in one
    transaction, written in SQL; then the process killed). After the restart the served order must be
    SQL's: the restart repairs the pending row (ranking/keeper.py)."""
    setup = deployment(shared_redis_index)
    server = setup.start()
    keys, known = seed(setup.url, random.Random(20240615))
    with psycopg.connect(setup.database) as conn:  # one transaction, as LeaderboardService.submit
        for api_name, score in (("crash_high", INT64[1]), ("crash_low", INT64[0])):
            user_id = next(key[1] for key in keys if key[0] == api_name)
            row = conn.execute("UPDATE entries SET score = %s WHERE user_id = %s AND leaderboard_id = "
                               "(SELECT id FROM leaderboards WHERE app_id = %s AND api_name = %s) "
                               "RETURNING leaderboard_id, id",
                               (score, int(user_id), int(APP_ID), api_name)).fetchone()
            assert row is not None
            conn.execute("INSERT INTO index_pending (leaderboard_id, entry_id) VALUES (%s, %s)", row)
            known[(api_name, user_id)] = score
    assert server.kill() == -signal.SIGKILL
    setup.start()
    verify_recovered(setup.url, setup.database, keys, known, {})
    with psycopg.connect(setup.database) as conn:  # repaired rows are deleted
        assert conn.execute("SELECT COUNT(*) FROM index_pending").fetchone() == (0,)
