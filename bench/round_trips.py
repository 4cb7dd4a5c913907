"""Round trips per keep-best submit and per leaderboard read on PostgreSQL + Redis, counted in the
server's own process.

Starts an in-process server (tests/world.toml, a fresh PostgreSQL schema, a fresh Redis prefix) and
counts what its threads send: PostgreSQL statements (``Connection.execute``, and psycopg's own BEGIN,
SAVEPOINT, RELEASE, COMMIT, ROLLBACK; a pipeline counts once) and Redis commands (a pipeline counts
once). It makes 20 submits one at a time, then 20 bursts of 16 at once (half of each burst a better
score, half not), then reads (CENTERED_ON_VIEWER with a user token, TOP with the app token) one at a time
and in bursts of 16, and prints the round trips per request of each. Unlike CPU time or throughput, these
counts do not depend on how busy the machine is (only the sizes of the trips do, a little).

    CI=1 PYTHONPATH=src:. python bench/round_trips.py
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from psycopg._connection_base import BaseConnection
from tests.conftest import ADA_ID, ADA_TOKEN, APP_TOKEN, start_server
from tests.redis_support import drop_prefix, redis_url

counts = {"pg": 0, "redis": 0}
_lock = threading.Lock()
_local = threading.local()


def _count(what: str) -> None:
    with _lock:
        counts[what] += 1


def _instrument() -> None:
    execute, pipeline, command = psycopg.Connection.execute, psycopg.Connection.pipeline, BaseConnection._exec_command
    send, send_pipeline = redis.Redis.execute_command, redis.client.Pipeline.execute

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not getattr(_local, "in_pipeline", False):
            _count("pg")
        return execute(self, *args, **kwargs)

    def counted_command(self: Any, *args: Any, **kwargs: Any) -> Any:  # psycopg's transaction control
        if not getattr(_local, "in_pipeline", False):
            _count("pg")
        return command(self, *args, **kwargs)

    @contextlib.contextmanager
    def counted_pipeline(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        _count("pg")
        _local.in_pipeline = True
        try:
            with pipeline(self, *args, **kwargs) as inside:
                yield inside
        finally:
            _local.in_pipeline = False

    def counted_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        _count("redis")
        return send(self, *args, **kwargs)

    def counted_send_pipeline(self: Any, *args: Any, **kwargs: Any) -> Any:
        _count("redis")
        return send_pipeline(self, *args, **kwargs)

    psycopg.Connection.execute = counted_execute  # type: ignore[method-assign]
    psycopg.Connection.pipeline = counted_pipeline  # type: ignore[method-assign,assignment]
    BaseConnection._exec_command = counted_command  # type: ignore[method-assign]
    redis.Redis.execute_command = counted_send  # type: ignore[method-assign]
    redis.client.Pipeline.execute = counted_send_pipeline  # type: ignore[method-assign]


def submit(client: httpx.Client, score: int) -> bool:
    answer = client.post("/leaderboard_submit_entry", data={"access_token": APP_TOKEN, "api_name": "best_leaderboard",
                                                           "score": score, "user_id": ADA_ID})
    answer.raise_for_status()
    return bool(answer.json()["did_update"])


def read(client: httpx.Client, token_and_start: tuple[str, str]) -> bool:
    token, start_at = token_and_start
    answer = client.get("/leaderboard_entries", params={"api_name": "best_leaderboard", "start_at": start_at,
                                                        "fields": "rank,score,user{id}"},
                        headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()
    return bool(answer.json()["data"])


def main() -> None:
    _instrument()
    prefix = f"qgtrips{secrets.token_hex(3)}"
    server = start_server(Path(tempfile.mkdtemp()), backend="postgres", rank_index=redis_url(prefix=prefix))
    try:
        with server.client() as client:
            submit(client, 1)
        for burst in (1, 16):
            clients = [server.client() for _ in range(burst)]
            made = wrote = 0
            before = dict(counts)
            with ThreadPoolExecutor(burst) as pool:
                for round_ in range(20):
                    base = 1000 * (burst * 100 + round_)
                    scores = [base + i if i % 2 == 0 else 0 for i in range(burst)]
                    wrote += sum(pool.map(submit, clients, scores))
                    made += burst
            for client in clients:
                client.close()
            print(f"burst {burst:2}: {made} submits ({wrote} wrote): PostgreSQL round trips per submit "
                  f"{(counts['pg'] - before['pg']) / made:.2f}, Redis {(counts['redis'] - before['redis']) / made:.2f}")
        for kind in ((ADA_TOKEN, "CENTERED_ON_VIEWER"), (APP_TOKEN, "TOP")):
            for burst in (1, 16):
                clients = [server.client() for _ in range(burst)]
                with ThreadPoolExecutor(burst) as pool:
                    list(pool.map(read, clients, [kind] * burst))  # warm: a process's first use of a token
                    before, made = dict(counts), 0
                    for _ in range(20):
                        assert all(pool.map(read, clients, [kind] * burst))
                        made += burst
                for client in clients:
                    client.close()
                print(f"burst {burst:2}: {made} {kind[1]} reads: PostgreSQL round trips per read "
                      f"{(counts['pg'] - before['pg']) / made:.2f}, "
                      f"Redis {(counts['redis'] - before['redis']) / made:.2f}")
    finally:
        server.stop()
        drop_prefix(prefix)


if __name__ == "__main__":
    main()
