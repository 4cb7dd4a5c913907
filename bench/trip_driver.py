"""What one trip of keep-best submits costs in the PostgreSQL driver alone: today's way (sync psycopg in
an anyio worker thread, an autocommit connection with ``transaction()``: BEGIN, the targets query, the
upsert and COMMIT, a round trip each) against async psycopg on the event loop in pipeline mode (BEGIN
goes with the query; with ``--late``, the upsert's rows are read after COMMIT, so upsert and COMMIT go
together too).

A table of its own (schema ``qgtrip``: 200,000 rows), a trip of 32 lookups and 16 upserts (a submit trip
at 32 connections, half of them writing), trips one after another on one connection, the variants taking
turns. It prints, per trip, the wall time, the client's CPU time (the thread hop included) and the
PostgreSQL backend's CPU time (from /proc). It answers one question, whether async pipeline mode makes a
trip cheaper for the client, before the server is rewritten for it (docs/performance.md).

    python bench/trip_driver.py [--trips 2000] [--late] [--postgres URL]
"""

from __future__ import annotations

import argparse
import functools
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import psycopg
import uvloop

from load import proc_stat  # bench/load.py: this script runs from bench/, as load.py does

ROWS, LOOKUPS, WRITES = 200_000, 32, 16
SELECT = "SELECT t.u, t.score FROM unnest(%s::bigint[]) AS q(u) JOIN t ON t.b = 1 AND t.u = q.u"
UPSERT = ("INSERT INTO t (b, u, score) SELECT 1, u, s FROM unnest(%s::bigint[], %s::bigint[]) AS x(u, s) "
          "ON CONFLICT (b, u) DO UPDATE SET score = excluded.score WHERE excluded.score > t.score "
          "RETURNING u, score")
Batch = tuple[list[int], list[int]]


def setup(base: str) -> None:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS qgtrip CASCADE")
        conn.execute("CREATE SCHEMA qgtrip")
        conn.execute("CREATE TABLE qgtrip.t (b bigint, u bigint, score bigint, PRIMARY KEY (b, u))")
        conn.execute("INSERT INTO qgtrip.t SELECT 1, g, (random() * 1e6)::bigint "
                     f"FROM generate_series(1, {ROWS}) g")
        conn.execute("ANALYZE qgtrip.t")


def drop(base: str) -> None:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS qgtrip CASCADE")


def backend_cpu_s(pid: int) -> float:
    stat = proc_stat(pid)
    assert stat is not None, "the backend of an open connection is alive"
    return stat[1]


def batches(trips: int) -> list[Batch]:
    rng = random.Random(1)
    made = []
    for _ in range(trips):
        users = rng.sample(range(1, ROWS), LOOKUPS)
        made.append((users, [rng.randrange(2_000_000) for _ in users]))
    return made


def sync_trip(conn: psycopg.Connection[Any], users: list[int], scores: list[int]) -> None:
    with conn.transaction():
        conn.execute(SELECT, [users]).fetchall()
        conn.execute(UPSERT, [users[:WRITES], scores[:WRITES]]).fetchall()


Measured = tuple[float, float, float]  # wall, client CPU, PostgreSQL CPU (s)


async def sync_in_thread(url: str, work: list[Batch]) -> Measured:
    conn = psycopg.connect(url, autocommit=True)
    pid, limiter = conn.info.backend_pid, anyio.CapacityLimiter(4)
    started, cpu, pg = time.perf_counter(), time.process_time(), backend_cpu_s(pid)
    for users, scores in work:
        await anyio.to_thread.run_sync(sync_trip, conn, users, scores, limiter=limiter)
    measured = time.perf_counter() - started, time.process_time() - cpu, backend_cpu_s(pid) - pg
    conn.close()
    return measured


async def async_pipeline(url: str, work: list[Batch], late: bool) -> Measured:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    pid = conn.info.backend_pid
    started, cpu, pg = time.perf_counter(), time.process_time(), backend_cpu_s(pid)
    for users, scores in work:
        async with conn.pipeline(), conn.transaction():
            await (await conn.execute(SELECT, [users])).fetchall()
            upsert = await conn.execute(UPSERT, [users[:WRITES], scores[:WRITES]])
            if not late:
                await upsert.fetchall()
        if late:
            await upsert.fetchall()
    measured = time.perf_counter() - started, time.process_time() - cpu, backend_cpu_s(pid) - pg
    await conn.close()
    return measured


async def compare(url: str, trips: int, late: bool, rounds: int) -> None:
    variants: list[tuple[str, Callable[[str, list[Batch]], Awaitable[Measured]]]] = [
        ("sync, worker thread", sync_in_thread),
        ("async, pipeline" + (" (late)" if late else ""), functools.partial(async_pipeline, late=late))]
    print(f"{trips:,} trips of {LOOKUPS} lookups and {WRITES} upserts each; per trip, in ms:")
    print(f"{'variant':<26} {'wall':>7} {'client CPU':>11} {'PostgreSQL CPU':>15}")
    for _ in range(rounds):
        for name, variant in variants:
            wall, cpu, pg = await variant(url, batches(trips))
            print(f"{name:<26} {wall / trips * 1e3:>7.3f} {cpu / trips * 1e3:>11.3f} {pg / trips * 1e3:>15.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--trips", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="each variant this many times, taking turns")
    parser.add_argument("--late", action="store_true", help="read the upsert's rows after COMMIT")
    args = parser.parse_args()
    setup(args.postgres)
    try:
        url = f"{args.postgres}?options=-c%20search_path%3Dqgtrip"
        uvloop.run(compare(url, args.trips, args.late, args.rounds))
    finally:
        drop(args.postgres)


if __name__ == "__main__":
    main()
