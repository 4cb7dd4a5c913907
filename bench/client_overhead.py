"""Benchmark: what the questgraph client costs over a bare httpx call making the same request.

Starts an in-process questgraph server (in-memory SQLite, the plugin's default world), fills
``best_leaderboard`` with ``--entries`` entries, then times, interleaved in one run over the same kind of
keep-alive connection, the same ``GET /leaderboard_entries`` page (``--limit`` rows, every field):

* ``httpx``: ``httpx.Client.get(...)`` and ``response.json()``;
* ``client``: ``Client.leaderboards.entries_page(...)`` (request building, error check, typed dataclasses).

It prints the median and p95 of each and their ratio. See bench/README.md.

    python bench/client_overhead.py
    python bench/client_overhead.py --reps 2000 --limit 100
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from questgraph.client._leaderboards import entry_fields
from questgraph.client._models import ENTRY_FIELDS, USER_FIELDS
from questgraph.testing import DEFAULT_APP_ID, DEFAULT_WORLD, QuestgraphServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    server = QuestgraphServer(DEFAULT_WORLD)
    try:
        token = server.app_token()
        client = server.client()
        for n in range(args.entries):
            user = server.admin.create_user(DEFAULT_APP_ID, f"bench{n}")
            client.leaderboards.submit_entry("best_leaderboard", n * 7, user_id=user.id)
        query = {"api_name": "best_leaderboard", "limit": str(args.limit),
                 "fields": entry_fields(ENTRY_FIELDS, USER_FIELDS)}
        bare = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

        def with_httpx() -> int:
            response = bare.get("/leaderboard_entries", params=query)
            response.raise_for_status()
            return len(response.json()["data"])

        def with_client() -> int:
            return len(client.leaderboards.entries_page("best_leaderboard", limit=args.limit).entries)

        cases = {"httpx": with_httpx, "client": with_client}
        rows = {name: fn() for name, fn in cases.items()}
        assert len(set(rows.values())) == 1, rows  # the same page both ways
        times: dict[str, list[float]] = {name: [] for name in cases}
        for rep in range(args.warmup + args.reps):
            for name, fn in cases.items():  # interleaved, so machine noise hits both alike
                start = time.perf_counter()
                fn()
                if rep >= args.warmup:
                    times[name].append((time.perf_counter() - start) * 1000)
        bare.close()
    finally:
        server.stop()

    print(f"GET /leaderboard_entries, {rows['httpx']} rows per page, {args.reps} timed calls each "
          f"(+{args.warmup} warm-up)")
    print(f"{'case':8} {'median ms':>10} {'p95 ms':>10} {'min ms':>10}")
    for name, values in times.items():
        values.sort()
        print(f"{name:8} {statistics.median(values):10.3f} {values[int(len(values) * 0.95)]:10.3f} {values[0]:10.3f}")
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"client/httpx median ratio {median['client'] / median['httpx']:.3f}; "
          f"overhead {(median['client'] - median['httpx']) * 1000:.0f} µs per call")


if __name__ == "__main__":
    main()
