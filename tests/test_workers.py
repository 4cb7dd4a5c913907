"""The server on the shared Redis rank index, and several processes sharing one deployment (issue 6).

Decisions under test: D7 (a lost or unreachable rank index is a 503 code 2 with is_transient true, never
a 500 and never a wrong rank), D14/D20/D21/D22 (the same ranks, pages and cursors as the in-memory
index), D36 (one emulator clock across the processes of a deployment).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from questgraph.cli import main as cli_main
from questgraph.server.app import Server
from questgraph.server.http_protocol import protocol_class
from questgraph.server.settings import Settings
from questgraph.server.world import World
from tests.conftest import (
    ADA_ID,
    ADA_TOKEN,
    ADMIN_KEY,
    APP_TOKEN,
    GRACE_ID,
    LINUS_ID,
    WORLD_FILE,
    RunningServer,
    assert_graph_error,
    free_port,
    import_or_skip,
    postgres_database,
    require_postgres,
    start_server,
)
from tests.lb_support import bearer, make_users, submit_ok
from tests.redis_support import FLUSH_DB, drop_prefix, redis_url, require_redis

BOARD = "best_leaderboard"
FIELDS = "rank,score,user{alias}"


@pytest.fixture
def prefix() -> Iterator[str]:
    require_redis()
    name = f"qgtest-{secrets.token_hex(6)}"
    yield name
    drop_prefix(name)
    drop_prefix(name, db=FLUSH_DB)


Row = tuple[int, int, str]  # rank, score, alias


def rows(client: httpx.Client, token: str = APP_TOKEN, **params: Any) -> tuple[list[Row], dict[str, Any]]:
    query = {"api_name": BOARD, "fields": FIELDS, "summary": "true", **params}
    response = client.get("/leaderboard_entries", headers=bearer(token), params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    return [(e["rank"], e["score"], e["user"]["alias"]) for e in body["data"]], body


def walk(client: httpx.Client, **params: Any) -> list[list[tuple[int, int, str]]]:
    """Every page of the board through the paging.next links (D21)."""
    pages = []
    found, body = rows(client, **params)
    pages.append(found)
    while body.get("paging", {}).get("next"):
        response = client.get(body["paging"]["next"])
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([(e["rank"], e["score"], e["user"]["alias"]) for e in body["data"]])
    return pages


def populate(server: RunningServer) -> None:
    """The same writes, in the same order, on any server: ties, int64 extremes, a delete, a force."""
    with server.client() as client, server.admin() as admin:
        users = make_users(admin, 9, prefix="redis")
        scores = [5, 5, 2**53, 2**53 + 1, -(2**63), 2**63 - 1, 5, 0, -1]
        for user, score in zip(users, scores, strict=True):
            assert submit_ok(client, APP_TOKEN, BOARD, score, user)
        for user, score in [(ADA_ID, 5), (GRACE_ID, 7), (LINUS_ID, 5)]:
            assert submit_ok(client, APP_TOKEN, BOARD, score, user)
        assert not submit_ok(client, APP_TOKEN, BOARD, 1, users[0])  # keep-best: no change
        assert submit_ok(client, APP_TOKEN, BOARD, 1, users[1], force_update="true")
        entry = client.get("/leaderboard_entries", headers=bearer(APP_TOKEN),
                           params={"api_name": BOARD, "filter": "USER_IDS", "user_ids": f"[{users[2]}]",
                                   "fields": "id"}).json()["data"][0]["id"]
        assert client.delete(f"/{entry}", headers=bearer(APP_TOKEN)).json() == {"success": True}


def reads(server: RunningServer) -> list[Any]:
    with server.client() as client:
        return [
            walk(client, limit=4),
            rows(client, start_at="OFFSET", offset=3, limit=5)[0],
            rows(client, ADA_TOKEN, start_at="CENTERED_ON_VIEWER", limit=3)[0],
            rows(client, start_at="OFFSET", offset=100)[0],
            rows(client)[1]["summary"],
            walk(client, limit=5, start_at="OFFSET", offset=2),
        ]


def test_redis_index_answers_exactly_like_the_in_memory_one(tmp_path: Path, prefix: str) -> None:
    """D14/D20/D21/D22: the same writes give the same ranks, pages, viewer windows and counts."""
    answers = []
    for name, index in [("memory", None), ("redis", redis_url(prefix=prefix))]:
        (tmp_path / name).mkdir()
        server = start_server(tmp_path / name, rank_index=index)
        try:
            populate(server)
            answers.append(reads(server))
            with server.client() as client:
                assert client.get("/_health/ready").json()["rank_index"]["kind"] == name
        finally:
            server.stop()
    memory, shared = answers
    assert memory == shared
    top = memory[0][0]
    assert [r[0] for r in top] == [1, 2, 3, 4] and top[0][1] == 2**63 - 1  # exact int64, not doubles
    assert [r[1] for r in top] == [2**63 - 1, 2**53 + 1, 7, 5]  # exact int64 (2^53's entry was deleted)


def test_flushed_redis_answers_503_then_rebuilds_correct_ranks(tmp_path: Path, prefix: str) -> None:
    """Issue 6/D7: after FLUSHDB (Redis lost under a running server) Graph calls answer 503 code 2,
    is_transient, while the index is rebuilt from the database; then the ranks are right again, and a
    write acknowledged before the loss is still ranked."""
    import redis

    server = start_server(tmp_path, rank_index=redis_url(FLUSH_DB, prefix))
    try:
        populate(server)
        before = reads(server)
        flusher = redis.Redis.from_url(redis_url(FLUSH_DB))
        flusher.flushdb()
        flusher.close()
        with server.client() as client:
            first = client.get("/leaderboard_entries", headers=bearer(APP_TOKEN), params={"api_name": BOARD})
            error = assert_graph_error(first, 503, 2, "OCApiException")
            assert error["is_transient"] is True
            deadline = time.monotonic() + 20
            while True:
                health = client.get("/_health/ready")
                if health.status_code == 200:
                    break
                assert health.json()["status"] in ("rebuilding", "lost"), health.text
                assert time.monotonic() < deadline, "the index was never rebuilt"
                time.sleep(0.05)
            assert health.json()["rank_index"] == {"kind": "redis", "state": "ready"}
        assert reads(server) == before
    finally:
        server.stop()


def start_unready(tmp_path: Path, **settings: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    """A server whose readiness we do not wait for (its Redis is not there): waits for /_health/live."""
    port = free_port()
    options = Settings(database=str(tmp_path / "qg.sqlite3"), port=port, admin_key=ADMIN_KEY, **settings)
    config = uvicorn.Config(Server(options, World.load(WORLD_FILE)).asgi(), host="127.0.0.1", port=port,
                            log_level="critical", lifespan="on", http=protocol_class())
    userver = uvicorn.Server(config)
    thread = threading.Thread(target=userver.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_health/live", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.02)
    return userver, thread, url


@pytest.mark.sqlite_only
def test_unreachable_redis_is_a_503_code_2_never_a_500(tmp_path: Path) -> None:
    """D7: Redis down (a closed port) → every Graph call is a 503 code 2, is_transient; admin calls that
    need no rank still work; readiness says the index is down."""
    import_or_skip("redis", "the redis client is not installed (pip install 'questgraph[redis]')")
    userver, thread, url = start_unready(tmp_path, rank_index=f"redis://127.0.0.1:{free_port()}/0")
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            calls = [
                client.get("/leaderboard_entries", headers=bearer(APP_TOKEN), params={"api_name": BOARD}),
                client.post("/leaderboard_submit_entry", headers=bearer(APP_TOKEN),
                            data={"api_name": BOARD, "score": "3", "user_id": ADA_ID}),
                client.get("/me", headers=bearer(ADA_TOKEN)),
            ]
            for response in calls:
                error = assert_graph_error(response, 503, 2, "OCApiException")
                assert error["is_transient"] is True
            health = client.get("/_health/ready")
            assert health.status_code == 503
            assert health.json()["rank_index"] == {"kind": "redis", "state": "down"}
            assert client.get("/_health/live").status_code == 200
            orgs = client.get("/_admin/orgs", headers=bearer(ADMIN_KEY))
            assert orgs.status_code == 200
            # The admin reset must rebuild the index: with Redis down it is a 503 too, not a 500.
            assert_graph_error(client.post("/_admin/reset", headers=bearer(ADMIN_KEY)), 503, 2)
    finally:
        userver.should_exit = True
        thread.join(timeout=10)


def test_two_servers_share_ranks_and_the_clock(tmp_path: Path, prefix: str) -> None:
    """Two server processes of one deployment (one database, one Redis index): a write through one is
    ranked by the other at once (D22), and a clock move through one reaches the other within 0.5 s (D36)."""
    index = redis_url(prefix=prefix)
    database = str(tmp_path / "shared.sqlite3")
    first = start_server(tmp_path, database=database, rank_index=index)
    second = start_server(tmp_path, database=database, rank_index=index)
    try:
        with first.client() as writer, second.client() as reader, first.admin() as admin:
            users = make_users(admin, 6, prefix="multi")
            for n, user in enumerate(users):
                assert submit_ok(writer, APP_TOKEN, BOARD, 100 - 10 * n, user)
                found, _ = rows(reader)
                assert [r[1] for r in found] == sorted((100 - 10 * k for k in range(n + 1)), reverse=True)
            assert submit_ok(writer, APP_TOKEN, BOARD, 1000, users[-1])  # last place to first
            found, body = rows(reader, limit=2)
            assert found == [(1, 1000, "multi5"), (2, 100, "multi0")]
            assert body["summary"]["total_count"] == 6
            assert admin.post("/_admin/clock", data={"set": "1900000000"}).status_code == 200
            deadline = time.monotonic() + 3
            with second.admin() as admin2:
                while admin2.get("/_admin/clock").json()["now"] < 1900000000:
                    assert time.monotonic() < deadline, "the other process never saw the clock move"
                    time.sleep(0.05)
            assert submit_ok(reader, APP_TOKEN, BOARD, 5000, users[0])
            written = writer.get("/leaderboard_entries", headers=bearer(APP_TOKEN),
                                 params={"api_name": BOARD, "fields": "timestamp,score", "limit": "1"}).json()
            assert written["data"][0]["score"] == 5000 and int(written["data"][0]["timestamp"]) >= 1900000000
    finally:
        second.stop()
        first.stop()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("argv", "missing"), [
    (["--workers", "2"], ["PostgreSQL", "Redis"]),
    (["--workers", "3", "--rank-index", "redis://127.0.0.1:6379/0"], ["PostgreSQL"]),
    (["--workers", "2", "--db", "postgresql://db/qg"], ["Redis"]),
    (["--workers", "2", "--memory", "--rank-index", "memory"], ["PostgreSQL", "Redis"]),
])
def test_workers_are_refused_without_shared_state(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], missing: list[str]) -> None:
    """Issue 6: --workers >1 with SQLite or the in-memory index is refused up front, saying what to use."""
    os.chdir(tmp_path)
    assert cli_main(["serve", *argv]) == 2
    message = capsys.readouterr().err
    assert "--workers" in message and "--workers 1" in message
    for name in ("PostgreSQL", "Redis"):
        assert (name in message.split("Use:")[1]) == (name in missing), message
    assert not (tmp_path / "questgraph.sqlite3").exists()  # refused before anything was created


# --- real processes ---------------------------------------------------------------------------------------
def _postgres_url(tmp_path: Path) -> str:
    """A PostgreSQL database for subprocess servers, or a skip saying why there is none (a failure under CI)."""
    require_postgres()
    return postgres_database(str(tmp_path / "procs"))


def _spawn(argv: list[str], port: int, ready_in_a_row: int = 1) -> subprocess.Popen[bytes]:
    """``serve`` on ``port``, once ``ready_in_a_row`` readiness probes in a row (each on a new connection)
    answered 200: with ``--workers N`` each probe reaches one worker, and another may still be starting."""
    command = [sys.executable, "-c", "from questgraph.cli import main; raise SystemExit(main())"]
    process = subprocess.Popen([*command, "serve", "--port", str(port), *argv],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    ready = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            message = process.stderr.read().decode() if process.stderr else ""
            _stop(process)
            raise AssertionError(f"server process exited: {message}")
        try:
            ready = ready + 1 if httpx.get(f"http://127.0.0.1:{port}/_health/ready", timeout=1).status_code == 200 \
                else 0
        except httpx.TransportError:
            ready = 0
        if ready >= ready_in_a_row:
            return process
        time.sleep(0.1 if ready == 0 else 0.01)
    _stop(process)
    raise AssertionError("server process never became ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


@pytest.mark.postgres_only  # a SQLite file is refused for several processes
def test_two_processes_on_postgres_and_redis_rank_alike(tmp_path: Path, prefix: str, backend: str) -> None:
    """Issue 6's goal: two OS processes share PostgreSQL and Redis; ranks read through the process that
    did not write are right, and `serve --workers 2` serves with /metrics adding up its workers."""
    database = _postgres_url(tmp_path)
    common = ["--db", database, "--rank-index", redis_url(prefix=prefix), "--config", str(WORLD_FILE),
              "--admin-key", ADMIN_KEY, "--log-level", "warning"]
    ports = [free_port(), free_port()]
    one = _spawn(common, ports[0])
    try:
        two = _spawn(common, ports[1])
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as writer, \
                 httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=30) as reader:
                for user, score in [(ADA_ID, 10), (GRACE_ID, 30), (LINUS_ID, 20)]:
                    assert submit_ok(writer, APP_TOKEN, BOARD, score, user)
                found, _ = rows(reader)
                assert [(r[0], r[1]) for r in found] == [(1, 30), (2, 20), (3, 10)]
                assert submit_ok(reader, APP_TOKEN, BOARD, 40, ADA_ID)
                assert [r[1] for r in rows(writer)[0]] == [40, 30, 20]
        finally:
            _stop(two)
    finally:
        _stop(one)
    port = free_port()
    workers = _spawn([*common, "--workers", "2"], port, ready_in_a_row=20)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(20):
                assert [r[1] for r in rows(client)[0]] == [40, 30, 20]
            metrics = client.get("/metrics").text
            served = [line for line in metrics.splitlines()
                      if line.startswith("questgraph_requests_total{") and 'route="/leaderboard_entries"' in line]
            assert sum(float(line.rsplit(" ", 1)[1]) for line in served) == 20
    finally:
        _stop(workers)
